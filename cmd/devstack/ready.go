package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// errWorkerExited says the worker exited while devstack waited for it.
var errWorkerExited = errors.New("worker exited")

// waitReady polls url until it answers 200. It fails after timeout, naming
// the last answer (the body says what is not ready), or at once when exited
// is closed or ctx is done.
func waitReady(ctx context.Context, url string, timeout time.Duration, exited <-chan struct{}) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	client := &http.Client{Timeout: 2 * time.Second}
	last := "no answer yet"
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		status, body, err := get(ctx, client, url)
		switch {
		case err == nil && status == http.StatusOK:
			return nil
		case err == nil:
			last = fmt.Sprintf("%d %s", status, oneLine(body))
		case ctx.Err() == nil:
			last = err.Error()
		}
		select {
		case <-exited:
			return errWorkerExited
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return fmt.Errorf("worker not ready after %s at %s: %s", timeout, url, last)
			}
			return ctx.Err()
		case <-tick.C:
		}
	}
}

func get(ctx context.Context, client *http.Client, url string) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, "", err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return resp.StatusCode, string(body), err
}

// oneLine squeezes whitespace so a body fits on one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
