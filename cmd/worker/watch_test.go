package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcp-registry/worker/internal/testenv"
	"github.com/mcp-registry/worker/reader"
)

// DESIGN hard case 23: a revoke reaches a `worker watch user` subscriber
// within a second; a replayed (duplicate) event sends no notice.
func TestIntegrationWatchSeesRevokeWithinASecond(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the worker binary")
	}
	t.Parallel()
	bin := buildWorker(t)
	n := testenv.StartNATS(t)
	srv, rdb := testenv.StartRedisServer(t)
	m := testenv.StartMongo(t)
	cfg := loadTestConfig(t, "--nats-url", n.URL, "--redis-url", "redis://"+srv.Addr, "--mongodb-uri", m.URI,
		"--ops-addr", "", "--key-prefix", "w:")
	startWorker(t, cfg, &lockedBuffer{}, &atomic.Int64{})

	const user = "watch-me"
	// The login first (the worker handles events concurrently: a grant handled
	// before the login began would reach no one), then the grant.
	publish(t, n.JS, "mcp.user.login", `{"userId":"watch-me"}`, "login-1")
	waitSettled(t, n.JS, cfg)
	publish(t, n.JS, "mcp.server.access", `{"serverName":"tool","allowedUserIds":["watch-me"],"config":{"url":"https://t"},"version":1}`, "grant")
	waitSettled(t, n.JS, cfg)
	rd, err := reader.New(rdb, reader.Options{KeyPrefix: "w:"})
	require.NoError(t, err)
	v, err := rd.Effective(context.Background(), user)
	require.NoError(t, err)
	require.Contains(t, v.Private, "tool", "the user holds the server before the revoke")

	cmd := exec.Command(bin, "watch", "user", user, "--redis-url", "redis://"+srv.Addr, "--key-prefix", "w:")
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	lines := readLines(stdout)
	first := nextLine(t, lines, 10*time.Second)
	assert.JSONEq(t, `{"watching":"watch-me"}`, first)

	start := time.Now()
	revoke := `{"serverName":"tool","allowedUserIds":[],"config":{"url":"https://t"},"version":2}`
	publish(t, n.JS, "mcp.server.access", revoke, "revoke")
	var c reader.Change
	require.NoError(t, json.Unmarshal([]byte(nextLine(t, lines, 5*time.Second)), &c))
	took := time.Since(start)
	assert.Equal(t, reader.Change{UserID: user, Change: "removed", Servers: []string{"tool"}, Rev: c.Rev}, c)
	assert.Less(t, took, time.Second, "the revoke reached the watcher in %s", took)

	// The same revoke again (a replay under another message id): skipped, no notice.
	publish(t, n.JS, "mcp.server.access", revoke, "revoke-replayed")
	waitSettled(t, n.JS, cfg)
	select {
	case l := <-lines:
		t.Fatalf("a replayed event sent a notice: %s", l)
	case <-time.After(time.Second):
	}
}

// readLines sends each line of r on the returned channel.
func readLines(r io.Reader) <-chan string {
	out := make(chan string, 16)
	go func() {
		defer close(out)
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			out <- strings.TrimSpace(sc.Text())
		}
	}()
	return out
}

func nextLine(t *testing.T, lines <-chan string, timeout time.Duration) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	select {
	case l, ok := <-lines:
		require.True(t, ok, "the watcher exited")
		return l
	case <-ctx.Done():
		t.Fatalf("no line within %s", timeout)
		return ""
	}
}
