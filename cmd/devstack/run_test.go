package main

import (
	"context"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcp-registry/worker/internal/devstack"
	"github.com/mcp-registry/worker/internal/events"
	"github.com/mcp-registry/worker/internal/testenv"
)

// TestIntegrationRunWithFakeWorker runs all of devstack with the test binary
// as the worker: stack, seed, child process, readiness, demo events, printout
// and the Ctrl-C shutdown.
func TestIntegrationRunWithFakeWorker(t *testing.T) {
	t.Setenv(fakeWorkerEnv, "serve") // inherited by the child: not parallel
	args := stackArgs(t)
	ops := testenv.FreeAddr(t)
	args = append(args, "--worker", os.Args[0], "--ops-addr", ops)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut syncBuffer
	code := make(chan int, 1)
	go func() { code <- run(ctx, args, &out, &errOut) }()

	require.Eventually(t, func() bool { return strings.Contains(out.String(), "Ctrl-C here stops") },
		60*time.Second, 50*time.Millisecond, "stdout: %s\nstderr: %s", &out, &errOut)
	cancel()
	select {
	case c := <-code:
		assert.Equal(t, 0, c)
	case <-time.After(40 * time.Second):
		t.Fatal("run did not return after cancel")
	}

	stdout := out.String()
	assert.Empty(t, errOut.String())
	assert.Contains(t, stdout, "worker | fake worker serving")
	assert.Contains(t, stdout, "worker | fake worker stopping", "SIGTERM reached the worker")
	for _, row := range []string{
		"server.shared docs-search", "user.login alice", "user.login bob", "user.login carol", "user.login dave",
		"user.login hank", `group.changed oncall \+dave`,
	} {
		assert.Regexp(t, `(?m)^`+row+` +done *$`, stdout)
	}
	assert.Contains(t, stdout, "devstack: seeded 5 users (1 in another tenant), 8 servers (1 in another tenant), 2 groups and 1 agent into LibreChat")
	// The fake worker writes nothing to Redis: dave's view stays empty.
	assert.Contains(t, stdout, "devstack: dave joined group oncall in MongoDB after his first login; group.changed: his view before: (none); after: (none)")
	assert.Regexp(t, `devstack: audit trail of dave \(worker audit --user [0-9a-f]{24}\): 0 records\n`, stdout)
	assert.Regexp(t, `audit --user [0-9a-f]{24}\n`, stdout)
	assert.Regexp(t, `inspect user [0-9a-f]{24}\n`, stdout)
	assert.Regexp(t, `publish group.changed --json '\{"groupId":"[0-9a-f]{24}","addedMemberIds":\["[0-9a-f]{24}"\]\}'\n`, stdout)
	assert.NotContains(t, stdout, "demo-secret-do-not-log")
	testenv.AssertFree(t, ops)
}

func TestIntegrationRunWorkerExitsEarly(t *testing.T) {
	t.Setenv(fakeWorkerEnv, "exit3")
	args := append(stackArgs(t), "--worker", os.Args[0], "--ops-addr", testenv.FreeAddr(t))
	var out, errOut syncBuffer
	code := run(context.Background(), args, &out, &errOut)
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut.String(), "the worker exited early (exit status 3)")
}

func TestRunFailsFast(t *testing.T) {
	t.Parallel()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = busy.Close() }) // not defer: the subtests run after this function returns
	tests := []struct {
		name  string
		extra []string
		want  string
		code  int
	}{
		{"busy ops address", []string{"--worker", os.Args[0], "--ops-addr", busy.Addr().String()}, "address " + busy.Addr().String() + " is not free", 1},
		{"busy mongo address", []string{"--worker", "", "--mongo-addr", busy.Addr().String()}, "mongo address " + busy.Addr().String() + " is not free", 1},
		{"missing worker", []string{"--worker", "/nonexistent/worker"}, "worker binary", 1},
		{"bad flag", []string{"--nope"}, "nope", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var out, errOut syncBuffer
			code := run(context.Background(), append(stackArgs(t), tt.extra...), &out, &errOut)
			assert.Equal(t, tt.code, code)
			assert.Contains(t, errOut.String(), tt.want)
		})
	}
}

func TestIntegrationDemoEventsMissingResult(t *testing.T) {
	t.Parallel()
	n := testenv.StartNATS(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	subjects := events.Subjects{Prefix: events.DefaultPrefix}
	stream, err := n.JS.CreateStream(ctx, jetstream.StreamConfig{Name: "T", Subjects: subjects.StreamSubjects()})
	require.NoError(t, err)
	cons, err := stream.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{})
	require.NoError(t, err)
	// Answers everything but bob's login.
	cc, err := cons.Consume(func(msg jetstream.Msg) {
		if !strings.Contains(string(msg.Data()), "b0b") {
			id := msg.Headers().Get(events.HeaderMsgID)
			_ = n.Conn.Publish(msg.Headers().Get(events.HeaderNotify),
				[]byte(`{"eventId":"`+id+`","subject":"`+msg.Subject()+`","outcome":"done","error":""}`))
		}
		_ = msg.Ack()
	})
	require.NoError(t, err)
	defer cc.Stop()

	d := devstack.Demo{
		Users:    map[string]string{"alice": "a11ce", "bob": "b0b"},
		Configs:  map[string]map[string]any{"docs-search": {"url": "https://docs.example.test/mcp"}},
		Versions: map[string]int64{"docs-search": 7},
		Shared:   []string{"docs-search"},
	}
	shared, logins := demoEvents(subjects, d)
	err = sendDemoEvents(ctx, n.URL, 2*time.Second, shared, logins)
	require.ErrorContains(t, err, "1 of 2 results missing")
	require.NotNil(t, shared[0].Result)
	assert.Equal(t, "done", shared[0].Result.Outcome)
	assert.Equal(t, "user.login alice", logins[0].Label)
	require.NotNil(t, logins[0].Result)
	assert.Nil(t, logins[1].Result)
	assert.Equal(t, map[string]any{"url": "https://docs.example.test/mcp"}, shared[0].Payload["config"])
	assert.Equal(t, int64(7), shared[0].Payload["version"])
}

// stackArgs points devstack at free ports and a temp data dir.
func stackArgs(t *testing.T) []string {
	t.Helper()
	return []string{"--data-dir", t.TempDir(), "--nats-addr", testenv.FreeAddr(t), "--redis-addr", testenv.FreeAddr(t), "--mongo-addr", testenv.FreeAddr(t)}
}
