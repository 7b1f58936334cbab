package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/mcp-registry/worker/internal/devstack"
	"github.com/mcp-registry/worker/internal/events"
	"github.com/mcp-registry/worker/internal/ops"
	"github.com/mcp-registry/worker/internal/registry"
	"github.com/mcp-registry/worker/internal/testenv"
)

// DESIGN hard case 15: a `worker run` process is SIGKILLed in the middle of a
// server.access fan-out to thousands of users. A second process gets the
// redelivered event, waits out the dead worker's server lock and completes
// the fan-out: every user ends with the canonical value, nothing partial.
func TestIntegrationKilledWorkerIsReplaced(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the worker binary")
	}
	t.Parallel()
	bin := buildWorker(t)
	n := testenv.StartNATS(t)
	srv, rdb := testenv.StartRedisServer(t)
	m := testenv.StartMongo(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	// 3,000 users loaded with zero servers: 20 LibreChat users through real
	// logins handled by worker A, the rest through the registry's load steps.
	const total, viaLogin = 3000, 20
	lc := devstack.LibreChat{DB: m.DB}
	users := seedUsers(ctx, t, lc, viaLogin)
	for i := viaLogin; i < total; i++ {
		users = append(users, bson.NewObjectID().Hex())
	}
	opts := map[string]string{
		"ack-wait": "2s", "lock-ttl": "2s", "shutdown-timeout": "5s",
		"key-prefix": "kill:", "log-level": "warn",
	}
	env := processEnv(n.URL, "redis://"+srv.Addr, m.URI, opts)
	args := []string{"--nats-url", n.URL, "--redis-url", "redis://" + srv.Addr, "--mongodb-uri", m.URI, "--ops-addr", ""}
	for k, v := range opts {
		args = append(args, "--"+k, v)
	}
	cfg := loadTestConfig(t, args...)
	reg := registry.New(rdb, cfg.registryConfig())
	keys := reg.Keys()
	loadEmpty(ctx, t, reg, rdb, users[viaLogin:])

	a := startProcess(t, "A", bin, env, "run", "--ops-addr=")
	waitUntil(t, 30*time.Second, "worker A provisions the consumer",
		func() bool { return consumerInfo(n.JS, cfg) != nil }, a)
	publishLogins(ctx, t, n.JS, "login", users[:viaLogin])
	waitUntil(t, 30*time.Second, "worker A handles the logins", func() bool { return settled(n.JS, cfg) }, a)
	// Settled is not applied when a login was parked (a slow FerretDB taken
	// for down): wait for the registries themselves.
	waitUntil(t, 30*time.Second, "every user is loaded before the grant", func() bool {
		loaded, err := countLoaded(ctx, rdb, keys, users)
		return err == nil && loaded == total
	}, a)

	// Grant a server to all of them; freeze A (SIGSTOP) as soon as the first
	// chunk of the fan-out is visible, and kill it if the state is partial.
	allowed, err := json.Marshal(users)
	require.NoError(t, err)
	var name, want string
	var version, granted int
	for attempt := 1; ; attempt++ {
		name, version = fmt.Sprintf("team-tool-%d", attempt), 1000+attempt
		want = fmt.Sprintf(`{"apiKey":"k-%d","lastUpdatedAt":%d,"updatedAt":%d,"url":"https://tool"}`, attempt, version, version)
		publish(t, n.JS, "mcp.server.access", fmt.Sprintf(
			`{"serverName":%q,"allowedUserIds":%s,"config":{"url":"https://tool","apiKey":"k-%d"},"version":%d,"updatedAt":%d}`,
			name, allowed, attempt, version, version))
		deadline := time.Now().Add(30 * time.Second)
		for { // no sleep: the fan-out takes milliseconds
			if has, _, err := serverValues(ctx, rdb, keys, users, name, want); err == nil && has > 0 {
				break
			}
			a.requireRunning(t)
			require.False(t, time.Now().After(deadline), "the fan-out of %s did not begin", name)
		}
		a.signal(t, syscall.SIGSTOP)
		a.waitStopped(t)
		granted = stableCount(ctx, t, func() (int, error) {
			has, _, err := serverValues(ctx, rdb, keys, users, name, want)
			return has, err
		})
		rec, err := reg.Record(ctx, name)
		require.NoError(t, err)
		if granted > 0 && granted < total && rec.Fanout != 0 {
			break
		}
		require.Less(t, attempt, 3, "the fan-out finished before the freeze (%d of %d granted, mask %d)",
			granted, total, rec.Fanout)
		a.signal(t, syscall.SIGCONT)
		waitUntil(t, 30*time.Second, "worker A finishes the event", func() bool { return settled(n.JS, cfg) }, a)
	}
	a.signal(t, syscall.SIGKILL)
	require.Equal(t, -1, a.wait(t, 10*time.Second), "A died of the signal")
	has, exact, err := serverValues(ctx, rdb, keys, users, name, want)
	require.NoError(t, err)
	require.Equal(t, granted, has, "nothing moved after the kill")
	require.Equal(t, has, exact, "every value written so far is the canonical one")
	t.Logf("worker A killed with %s granted to %d of %d users", name, granted, total)

	// Worker B gets the event again after AckWait and completes it.
	b := startProcess(t, "B", bin, env, "run", "--ops-addr=")
	waitUntil(t, 60*time.Second, "worker B completes the fan-out", func() bool {
		_, exact, err := serverValues(ctx, rdb, keys, users, name, want)
		rec, rerr := reg.Record(ctx, name)
		return err == nil && rerr == nil && exact == total && rec.Fanout == 0 && settled(n.JS, cfg)
	}, b)
	rec, err := reg.Record(ctx, name)
	require.NoError(t, err)
	assert.Equal(t, registry.Aspects(0), rec.Fanout, "fan-out finished")
	assert.Equal(t, int64(version), rec.AccessVersion)
	view, err := reg.Server(ctx, name)
	require.NoError(t, err)
	assert.Len(t, view.CachedFor, total, "the reverse index names every user")
	info := consumerInfo(n.JS, cfg)
	require.NotNil(t, info)
	assert.Zero(t, info.NumPending)
	assert.Zero(t, info.NumAckPending)
	assert.Greater(t, info.Delivered.Consumer, info.Delivered.Stream, "the killed worker's event was redelivered")
	requireNoDeadLetters(ctx, t, n.JS, cfg)

	b.signal(t, syscall.SIGTERM)
	assert.Equal(t, exitOK, b.wait(t, cfg.ShutdownTimeout), "B drains and exits 0 on SIGTERM")
}

// stableCount reads count until two reads 50 ms apart agree (a frozen
// worker's last pipeline may still be executing in Redis).
func stableCount(ctx context.Context, t *testing.T, count func() (int, error)) int {
	t.Helper()
	last := -1
	for range 100 {
		c, err := count()
		require.NoError(t, err)
		if c == last {
			return c
		}
		last = c
		time.Sleep(50 * time.Millisecond)
	}
	require.NoError(t, ctx.Err())
	t.Fatalf("the count never settled (last %d)", last)
	return 0
}

// DESIGN hard case 16: Redis and then NATS are restarted under a running
// worker; it recovers by itself and no event is lost (while Redis is down,
// outage mode holds the logins: outage_test.go).
func TestIntegrationWorkerSurvivesRestarts(t *testing.T) {
	t.Parallel()
	ns := restartableNATS(t)
	srv, rdb := testenv.StartRedisServer(t)
	m := testenv.StartMongo(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	// Nine users, each allowed the server "restart-tool".
	lc := devstack.LibreChat{DB: m.DB}
	users := seedUsers(ctx, t, lc, 9)
	tool, err := lc.AddServer(ctx, "restart-tool", map[string]any{"url": "https://restart"}, time.UnixMilli(7))
	require.NoError(t, err)
	require.NoError(t, lc.GrantRole(ctx, tool, "USER", devstack.PermView))

	cfg := loadTestConfig(t, "--nats-url", ns.url, "--redis-url", "redis://"+srv.Addr, "--mongodb-uri", m.URI,
		"--ops-addr", "", "--key-prefix", "restart:", "--lock-ttl", "2s",
		"--retry-base-delay", "100ms", "--retry-max-delay", "500ms", "--max-deliver", "50")
	var consumer *events.Consumer
	var outages *events.Outages
	var ready ops.Params
	log := zap.NewNop()
	app := fx.New(appOptions(cfg, log), fx.Populate(&consumer, &outages, &ready))
	require.NoError(t, app.Err())
	require.NoError(t, app.Start(ctx))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		assert.NoError(t, app.Stop(ctx))
	})

	nc, err := nats.Connect(ns.url, nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	reg := registry.New(rdb, cfg.registryConfig())
	requireLoaded := func(what string, users ...string) {
		t.Helper()
		waitUntil(t, 60*time.Second, what, func() bool {
			for _, u := range users {
				v, err := reg.User(ctx, u)
				if err != nil || !v.Loaded || v.Private["restart-tool"] == nil {
					return false
				}
			}
			return true
		})
	}

	publishLogins(ctx, t, js, "before", users[:1])
	requireLoaded("a login works", users[0])

	// Redis down: the logins fail, outage mode pauses pulling and holds them.
	srv.Stop()
	publishLogins(ctx, t, js, "redis-down", users[1:6])
	waitUntil(t, 30*time.Second, "pulling paused while Redis is down", func() bool {
		paused := outages.Paused()
		return !consumer.Running() && len(paused) == 1 && paused[0] == events.DepRedis
	})
	requireNoDeadLetters(ctx, t, js, cfg)

	// Redis back (empty): the same events complete, nothing published again.
	srv.Restart(t)
	requireLoaded("the five logins complete after Redis is back", users[1:6]...)
	waitUntil(t, 30*time.Second, "consumer settled", func() bool { return settled(js, cfg) })
	st, err := js.Stream(ctx, cfg.Stream)
	require.NoError(t, err)
	assert.Equal(t, uint64(6), st.CachedInfo().State.Msgs, "no event was published again")

	// NATS restarted on the same port and store.
	ns.restart(t)
	waitUntil(t, 30*time.Second, "the stream is back", func() bool {
		ctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		_, err := js.Stream(ctx, cfg.Stream)
		return err == nil
	})
	publishLogins(ctx, t, js, "nats-restarted", users[6:])
	requireLoaded("the three logins after the NATS restart", users[6:]...)
	waitUntil(t, 60*time.Second, "consumer settled and ready", func() bool {
		if !settled(js, cfg) {
			return false
		}
		for _, check := range ready.Ready {
			if check(ctx) != nil {
				return false
			}
		}
		return true
	})
	assert.True(t, consumer.Running())
	requireNoDeadLetters(ctx, t, js, cfg)
}

// natsProcess is an embedded nats-server that can be restarted on the same
// port and store directory.
type natsProcess struct {
	mu  sync.Mutex
	srv *server.Server
	dir string
	url string
}

func restartableNATS(t *testing.T) *natsProcess {
	t.Helper()
	n := &natsProcess{dir: t.TempDir()}
	srv, err := devstack.StartNATS(devstack.NATSOptions{StoreDir: n.dir, Port: -1})
	require.NoError(t, err)
	n.srv, n.url = srv, srv.ClientURL()
	t.Cleanup(func() {
		n.mu.Lock()
		defer n.mu.Unlock()
		n.srv.Shutdown()
		n.srv.WaitForShutdown()
	})
	return n
}

// restart shuts the server down and starts it again on the same port and store.
func (n *natsProcess) restart(t *testing.T) {
	t.Helper()
	n.mu.Lock()
	defer n.mu.Unlock()
	port := n.srv.Addr().(*net.TCPAddr).Port
	n.srv.Shutdown()
	n.srv.WaitForShutdown()
	srv, err := devstack.StartNATS(devstack.NATSOptions{StoreDir: n.dir, Port: port})
	require.NoError(t, err)
	n.srv = srv
}
