package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// metricsWait bounds the wait for the worker's poller to see the demo (it
// polls every second under devstack).
const metricsWait = 5 * time.Second

// excerptFamilies are the /metrics series the demo shows, in this order:
// counters and gauges whole, histograms by their _count (and the fan-out's
// _sum), never buckets.
var excerptFamilies = []string{
	"mcp_worker_messages_total",
	"mcp_worker_handle_seconds_count",
	"mcp_worker_redis_round_trips_total",
	"mcp_worker_mongodb_queries_total",
	"mcp_worker_mongodb_seconds_count",
	"mcp_worker_lock_acquisitions_total",
	"mcp_worker_locks_lost_total",
	"mcp_worker_fanout_users_sum",
	"mcp_worker_loaded_users",
	"mcp_worker_consumer_pending",
	"mcp_worker_consumer_ack_pending",
	"mcp_worker_dead_letter_messages",
	"mcp_worker_build_info",
}

// printMetrics waits until the worker's poller counted loaded users, then
// prints an excerpt of /metrics (see excerptFamilies). A worker that does
// not answer gets one line saying so.
func printMetrics(ctx context.Context, w io.Writer, url string) {
	ctx, cancel := context.WithTimeout(ctx, metricsWait)
	defer cancel()
	client := &http.Client{Timeout: 2 * time.Second}
	var body string
	var err error
	for {
		body, err = fetch(ctx, client, url)
		if err == nil && polled(body) || ctx.Err() != nil {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(200 * time.Millisecond):
		}
	}
	if body == "" {
		fmt.Fprintf(w, "devstack: no /metrics from the worker at %s: %v\n", url, err)
		return
	}
	fmt.Fprintf(w, "\ndevstack: an excerpt of %s after the demo events (histograms: _count only):\n", url)
	for _, line := range excerpt(body) {
		fmt.Fprintln(w, "  "+line)
	}
}

// polled reports whether the poller has seen loaded users.
func polled(body string) bool {
	for _, line := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(line, "mcp_worker_loaded_users "); ok && v != "0" {
			return true
		}
	}
	return false
}

// excerpt keeps the sample lines of excerptFamilies, family by family.
func excerpt(body string) []string {
	lines := strings.Split(body, "\n")
	var out []string
	for _, fam := range excerptFamilies {
		for _, line := range lines {
			if strings.HasPrefix(line, fam+" ") || strings.HasPrefix(line, fam+"{") {
				out = append(out, line)
			}
		}
	}
	return out
}

// fetch GETs url and returns the body (at most 4 MiB).
func fetch(ctx context.Context, client *http.Client, url string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("status %d", resp.StatusCode)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	return string(b), err
}
