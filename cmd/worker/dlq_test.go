package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcp-registry/worker/internal/events"
	"github.com/mcp-registry/worker/internal/testenv"
)

// runOutput runs the CLI in-process and returns its exit code, stdout and
// stderr.
func runOutput(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	outR, outW, err := os.Pipe()
	require.NoError(t, err)
	errR, errW, err := os.Pipe()
	require.NoError(t, err)
	oldOut, oldErr := os.Stdout, os.Stderr
	os.Stdout, os.Stderr = outW, errW
	outC, errC := make(chan string, 1), make(chan string, 1)
	go func() { b, _ := io.ReadAll(outR); outC <- string(b) }()
	go func() { b, _ := io.ReadAll(errR); errC <- string(b) }()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	code = run(ctx, args, func(k string) string { return env[k] })
	os.Stdout, os.Stderr = oldOut, oldErr
	require.NoError(t, outW.Close())
	require.NoError(t, errW.Close())
	return code, <-outC, <-errC
}

// dlqEnv is an embedded NATS with the worker's streams and n dead letters
// (subjects mcp.dlq.user.login, payloads {"userId":"u<i>"}).
func dlqEnv(t *testing.T, n int) (*testenv.NATS, Config) {
	t.Helper()
	nt := testenv.StartNATS(t)
	cfg := loadTestConfig(t, "--nats-url", nt.URL)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	require.NoError(t, events.Provision(ctx, nt.JS, cfg.eventsConfig()))
	for i := range n {
		m := &nats.Msg{Subject: "mcp.dlq.user.login", Data: fmt.Appendf(nil, `{"userId":"u%d"}`, i), Header: nats.Header{}}
		m.Header.Set(events.HeaderDLQSubject, "mcp.user.login")
		m.Header.Set(events.HeaderDLQReason, "test")
		_, err := nt.JS.PublishMsg(ctx, m)
		require.NoError(t, err)
	}
	return nt, cfg
}

func dlqSeqs(t *testing.T, nt *testenv.NATS, cfg Config) []uint64 {
	t.Helper()
	dls, err := events.ListDeadLetters(t.Context(), nt.JS, cfg.eventsConfig(), 0)
	require.NoError(t, err)
	seqs := []uint64{}
	for _, d := range dls {
		seqs = append(seqs, d.Seq)
	}
	return seqs
}

func TestIntegrationDLQPurgeSeqDeletesOnlyThose(t *testing.T) {
	nt, cfg := dlqEnv(t, 4)
	env := map[string]string{"NATS_URL": nt.URL}

	code, out, stderr := runOutput(t, env, "dlq", "purge", "--seq", "2,4")
	require.Equal(t, exitOK, code, stderr)
	var got map[string]uint64
	require.NoError(t, json.Unmarshal([]byte(out), &got), out)
	assert.Equal(t, map[string]uint64{"purged": 2}, got)
	assert.Equal(t, []uint64{1, 3}, dlqSeqs(t, nt, cfg))

	// A sequence that is not there is an error naming it; nothing else goes.
	code, _, stderr = runOutput(t, env, "dlq", "purge", "--seq", "2")
	assert.Equal(t, exitError, code)
	assert.Contains(t, stderr, "dead letter 2")
	assert.Equal(t, []uint64{1, 3}, dlqSeqs(t, nt, cfg))

	// Without --seq, everything.
	code, out, stderr = runOutput(t, env, "dlq", "purge")
	require.Equal(t, exitOK, code, stderr)
	require.NoError(t, json.Unmarshal([]byte(out), &got), out)
	assert.Equal(t, map[string]uint64{"purged": 2}, got)
	assert.Empty(t, dlqSeqs(t, nt, cfg))
}

func TestIntegrationDLQReplayRefusesForeignTargetsOneLineEach(t *testing.T) {
	nt, cfg := dlqEnv(t, 1)
	for _, target := range []string{"$JS.API.STREAM.DELETE." + cfg.Stream, "mcp.dlq.user.login"} {
		m := &nats.Msg{Subject: "mcp.dlq.user.login", Header: nats.Header{}}
		m.Header.Set(events.HeaderDLQSubject, target)
		_, err := nt.JS.PublishMsg(t.Context(), m)
		require.NoError(t, err)
	}
	code, out, stderr := runOutput(t, map[string]string{"NATS_URL": nt.URL}, "dlq", "replay")
	assert.Equal(t, exitError, code)
	assert.JSONEq(t, `{"replayed":1}`, out)
	assert.Equal(t, 2, strings.Count(stderr, "\n"), stderr)
	assert.Contains(t, stderr, `dead letter 2: target subject "$JS.API.STREAM.DELETE.MCP_REGISTRY"`)
	assert.Contains(t, stderr, `dead letter 3: target subject "mcp.dlq.user.login"`)
	assert.Equal(t, []uint64{2, 3}, dlqSeqs(t, nt, cfg))
	_, err := nt.JS.Stream(t.Context(), cfg.Stream)
	assert.NoError(t, err)
}
