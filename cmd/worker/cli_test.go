package main

import (
	"context"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcp-registry/worker/internal/testenv"
)

// runCaptured runs the CLI in-process and returns its exit code and stderr.
func runCaptured(t *testing.T, env map[string]string, args ...string) (int, string) {
	t.Helper()
	r, w, err := os.Pipe()
	require.NoError(t, err)
	old := os.Stderr
	os.Stderr = w
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	code := run(ctx, args, func(k string) string { return env[k] })
	os.Stderr = old
	require.NoError(t, w.Close())
	out, err := io.ReadAll(r)
	require.NoError(t, err)
	return code, string(out)
}

func TestCLIUsageErrorsExitTwoWithOneLine(t *testing.T) {
	cases := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"bad flag value", nil, []string{"run", "--cache-ttl", "soon"}, "cache-ttl"},
		{"bad env value", map[string]string{"MCP_WORKER_CONCURRENCY": "many"}, []string{"run"}, "MCP_WORKER_CONCURRENCY"},
		{"unknown flag", nil, []string{"run", "--nope"}, "nope"},
		{"unknown command", nil, []string{"frobnicate"}, "unknown command"},
		{"inspect without id", nil, []string{"inspect", "user"}, "inspect user <userId>"},
		{"publish without suffix", nil, []string{"publish"}, "subject suffix"},
		{"dlq without verb", nil, []string{"dlq"}, "list, replay, purge"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, stderr := runCaptured(t, tc.env, tc.args...)
			assert.Equal(t, exitUsage, code)
			assert.Contains(t, stderr, tc.want)
			assert.Equal(t, 1, strings.Count(stderr, "\n"), "one line: %q", stderr)
		})
	}
}

func TestCLIUnreachableDependencyExitsOneNamingIt(t *testing.T) {
	n := testenv.StartNATS(t)
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"nats", []string{"run", "--nats-url", "nats://127.0.0.1:1", "--ops-addr", ""}, "127.0.0.1:1"},
		{"redis", []string{"run", "--nats-url", n.URL, "--redis-url", "redis://127.0.0.1:2", "--ops-addr", ""}, "127.0.0.1:2"},
		{"mongodb", []string{"run", "--nats-url", n.URL, "--mongodb-uri", "mongodb://127.0.0.1:3", "--ops-addr", ""}, "127.0.0.1:3"},
		{"inspect redis", []string{"inspect", "user", "u1", "--redis-url", "redis://127.0.0.1:2"}, "127.0.0.1:2"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, stderr := runCaptured(t, map[string]string{"MCP_WORKER_LOG_LEVEL": "error"}, tc.args...)
			assert.Equal(t, exitError, code)
			assert.Contains(t, stderr, tc.want)
			assert.Contains(t, stderr, "unreachable")
		})
	}
}

func TestCLIHelpExitsZero(t *testing.T) {
	code, _ := runCaptured(t, nil, "help")
	assert.Equal(t, exitOK, code)
	code, _ = runCaptured(t, nil, "inspect", "-h")
	assert.Equal(t, exitOK, code)
}

// A dead-letter stream that another deployment owns (other subjects) is
// never rewritten: the worker exits 1 with one line naming it.
func TestCLIForeignStreamExitsOneWithOneLine(t *testing.T) {
	n := testenv.StartNATS(t)
	m := testenv.StartMongo(t)
	_, err := n.JS.CreateStream(t.Context(), jetstream.StreamConfig{Name: "OTHER_DLQ", Subjects: []string{"other.dlq.>"}})
	require.NoError(t, err)
	code, stderr := runCaptured(t, map[string]string{"MCP_WORKER_LOG_LEVEL": "error"},
		"run", "--nats-url", n.URL, "--mongodb-uri", m.URI, "--ops-addr", "off", "--stream", "OTHER")
	assert.Equal(t, exitError, code)
	var lines []string // the log goes to stderr too; the reason is one plain line
	for l := range strings.SplitSeq(strings.TrimSpace(stderr), "\n") {
		if strings.HasPrefix(l, "worker run: ") {
			lines = append(lines, l)
		}
	}
	require.Len(t, lines, 1, stderr)
	assert.Contains(t, lines[0], "stream OTHER_DLQ")
	assert.Contains(t, lines[0], "not ours")
	st, err := n.JS.Stream(t.Context(), "OTHER_DLQ")
	require.NoError(t, err)
	assert.Equal(t, []string{"other.dlq.>"}, st.CachedInfo().Config.Subjects)
}
