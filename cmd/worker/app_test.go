package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/fx"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/mcp-registry/worker/internal/devstack"
	"github.com/mcp-registry/worker/internal/handlers"
	"github.com/mcp-registry/worker/internal/registry"
	"github.com/mcp-registry/worker/internal/serverdb"
	"github.com/mcp-registry/worker/internal/testenv"
)

func loadTestConfig(t *testing.T, args ...string) Config {
	t.Helper()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	cfg, err := Load(fs, args, func(string) string { return "" })
	require.NoError(t, err)
	return cfg
}

func TestValidateApp(t *testing.T) {
	cfg := loadTestConfig(t)
	require.NoError(t, fx.ValidateApp(appOptions(cfg, zap.NewNop())))
}

// lockedBuffer collects the JSON log lines of both workers.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// countingSource counts MongoDB loads across both workers.
type countingSource struct {
	inner handlers.ServerSource
	calls *atomic.Int64
}

func (s countingSource) AccessibleServers(ctx context.Context, user string) ([]serverdb.Server, error) {
	s.calls.Add(1)
	time.Sleep(100 * time.Millisecond) // widen the window in which logins overlap
	return s.inner.AccessibleServers(ctx, user)
}

// startWorker runs one worker app (as `worker run` does) until the test ends.
func startWorker(t *testing.T, cfg Config, logs *lockedBuffer, loads *atomic.Int64) {
	t.Helper()
	log := zap.New(zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()),
		zapcore.AddSync(logs), zapcore.DebugLevel))
	log.Info("Starting worker", cfg.Fields()...)
	app := fx.New(appOptions(cfg, log),
		fx.Decorate(func(s handlers.ServerSource) handlers.ServerSource { return countingSource{inner: s, calls: loads} }))
	require.NoError(t, app.Err())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, app.Start(ctx))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		assert.NoError(t, app.Stop(ctx))
	})
}

// Two worker instances on one durable consumer, real servers end to end:
// hard cases 4 (20 concurrent logins of one user read MongoDB once),
// 19 (no SCAN or KEYS in any flow) and 20 (secrets never reach the logs).
func TestIntegrationTwoWorkersEndToEnd(t *testing.T) {
	n := testenv.StartNATS(t)
	srv, rdb := testenv.StartRedisServer(t)
	m := testenv.StartMongo(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const secret = "sk-live-do-not-log-4242"
	lc := devstack.LibreChat{DB: m.DB}
	uid, err := lc.AddUser(ctx, "USER", "")
	require.NoError(t, err)
	user := uid.Hex()
	for i, name := range []string{"alpha", "beta", "gamma"} {
		s, err := lc.AddServer(ctx, name, map[string]any{"url": "https://" + name, "apiKey": secret}, time.UnixMilli(int64(i+1)))
		require.NoError(t, err)
		require.NoError(t, lc.GrantUser(ctx, s, uid, devstack.PermView))
	}
	require.NoError(t, rdb.ConfigResetStat(ctx).Err())

	cfg := loadTestConfig(t, "--nats-url", n.URL, "--redis-url", "redis://"+srv.Addr, "--mongodb-uri", m.URI,
		"--ops-addr", "", "--concurrency", "8", "--key-prefix", "e2e:", "--lock-ttl", "2s")
	logs := &lockedBuffer{}
	var loads atomic.Int64
	startWorker(t, cfg, logs, &loads)
	startWorker(t, cfg, logs, &loads)

	js := n.JS
	for i := range 20 {
		publish(t, js, "mcp.user.login", fmt.Sprintf(`{"userId":%q,"eventId":"login-%d"}`, user, i))
	}
	reg := registry.New(rdb, cfg.registryConfig())
	waitSettled(t, js, cfg)
	v, err := reg.User(ctx, user)
	require.NoError(t, err)
	assert.True(t, v.Loaded)
	assert.Len(t, v.Private, 3)
	assert.Equal(t, int64(1), loads.Load(), "20 concurrent logins over two workers read MongoDB once")

	// Every other flow once, with a secret in the config.
	cfgJSON := fmt.Sprintf(`{"url":"https://delta","apiKey":%q}`, secret)
	for i, ev := range []struct{ subject, payload string }{
		{"mcp.server.created", fmt.Sprintf(`{"serverName":"delta","userId":%q,"config":%s,"version":10}`, user, cfgJSON)},
		{"mcp.server.updated", fmt.Sprintf(`{"serverName":"alpha","config":%s,"version":20}`, cfgJSON)},
		{"mcp.server.access", fmt.Sprintf(`{"serverName":"beta","allowedUserIds":[],"config":%s,"version":20}`, cfgJSON)},
		{"mcp.server.shared", fmt.Sprintf(`{"serverName":"gamma","config":%s,"version":20}`, cfgJSON)},
		{"mcp.server.unshared", fmt.Sprintf(`{"serverName":"gamma","allowedUserIds":[%q],"config":%s,"version":30}`, user, cfgJSON)},
		{"mcp.server.deleted", `{"serverName":"delta","version":40}`},
		{"mcp.user.invalidate", fmt.Sprintf(`{"userId":%q}`, user)},
		{"mcp.user.login", fmt.Sprintf(`{"userId":%q}`, user)},
		{"mcp.server.updated", `{"serverName":"oops","config":"not an object","version":1}`},
	} {
		publish(t, js, ev.subject, ev.payload, fmt.Sprintf("flow-%d", i))
		waitSettled(t, js, cfg)
	}
	v, err = reg.User(ctx, user)
	require.NoError(t, err)
	assert.True(t, v.Loaded)
	names := make([]string, 0, len(v.Private))
	for n := range v.Private {
		names = append(names, n)
	}
	assert.ElementsMatch(t, []string{"alpha", "gamma"}, names, "beta revoked, delta deleted, reloaded from MongoDB + records")

	stats, err := rdb.Info(ctx, "commandstats").Result()
	require.NoError(t, err)
	assert.Contains(t, stats, "cmdstat_evalsha", "the flows ran against this server")
	assert.NotContains(t, stats, "cmdstat_scan:", "no SCAN in any flow")
	assert.NotContains(t, stats, "cmdstat_keys:", "no KEYS in any flow")

	out := logs.String()
	assert.Contains(t, out, `"msg":"Message handled"`, "the log was captured")
	assert.Contains(t, out, "dead_lettered", "the invalid event was dead-lettered")
	assert.NotContains(t, out, secret, "no config value in any log line")
}

func publish(t *testing.T, js jetstream.JetStream, subject, payload string, id ...string) {
	t.Helper()
	msg := nats.NewMsg(subject)
	msg.Data = []byte(payload)
	if len(id) > 0 {
		msg.Header.Set(nats.MsgIdHdr, id[0])
	}
	_, err := js.PublishMsg(context.Background(), msg)
	require.NoError(t, err)
}

// waitSettled waits until the durable consumer has nothing pending or unacked.
func waitSettled(t *testing.T, js jetstream.JetStream, cfg Config) {
	t.Helper()
	require.Eventually(t, func() bool {
		c, err := js.Consumer(context.Background(), cfg.Stream, cfg.Consumer)
		if err != nil {
			return false
		}
		info, err := c.Info(context.Background())
		return err == nil && info.NumPending == 0 && info.NumAckPending == 0
	}, 30*time.Second, 20*time.Millisecond)
}
