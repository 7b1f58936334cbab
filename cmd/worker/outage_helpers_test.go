package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/mcp-registry/worker/internal/devstack"
	"github.com/mcp-registry/worker/internal/events"
	"github.com/mcp-registry/worker/internal/registry"
	"github.com/mcp-registry/worker/internal/testenv"
)

// outageLength is how long the outage tests keep a dependency down:
// MCP_TEST_OUTAGE (a Go duration), 15s by default so that `make test` stays
// short; `make soak` runs 5m. Either is far longer than the retry schedule
// the tests give the worker (--max-deliver 3: 100ms then 200ms), so without
// outage mode the events would be dead-lettered.
func outageLength(t *testing.T) time.Duration {
	t.Helper()
	v := os.Getenv("MCP_TEST_OUTAGE")
	if v == "" {
		return 15 * time.Second
	}
	d, err := time.ParseDuration(v)
	require.NoError(t, err, "MCP_TEST_OUTAGE")
	require.GreaterOrEqual(t, d, 5*time.Second, "MCP_TEST_OUTAGE")
	return d
}

// toolName is the server every seeded user may use (role USER).
const toolName = "outage-tool"

// outageRig is a `worker run` process on servers of its own (NATS, a
// redis-server that can be shut down with its data, FerretDB that can be
// stopped and started on the same port and data), with the ops listener on.
type outageRig struct {
	t      *testing.T
	ctx    context.Context
	nats   *testenv.NATS
	redis  *testenv.RedisServer
	rdb    *redis.Client
	mongo  *testenv.Mongo
	lc     devstack.LibreChat
	tool   bson.ObjectID
	cfg    Config
	reg    *registry.Registry
	proc   *workerProcess
	opsURL string
}

func newOutageRig(t *testing.T, keyPrefix string) *outageRig {
	t.Helper()
	bin := buildWorker(t)
	r := &outageRig{t: t, nats: testenv.StartNATS(t), mongo: testenv.StartMongo(t)}
	r.redis, r.rdb = testenv.StartRedisServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), outageLength(t)+4*time.Minute)
	t.Cleanup(cancel)
	r.ctx = ctx
	r.lc = devstack.LibreChat{DB: r.mongo.DB}
	var err error
	r.tool, err = r.lc.AddServer(ctx, toolName, map[string]any{"url": "https://outage-1"}, time.UnixMilli(7))
	require.NoError(t, err)
	require.NoError(t, r.lc.GrantRole(ctx, r.tool, "USER", devstack.PermView))

	opsAddr := testenv.FreeAddr(t)
	r.opsURL = "http://" + opsAddr
	opts := map[string]string{
		"key-prefix": keyPrefix, "lock-ttl": "2s", "shutdown-timeout": "5s", "log-level": "warn",
		"max-deliver": "3", "retry-base-delay": "100ms", "retry-max-delay": "400ms",
		"outage-probe-max": "2s", "ops-addr": opsAddr,
	}
	args := []string{"--nats-url", r.nats.URL, "--redis-url", "redis://" + r.redis.Addr, "--mongodb-uri", r.mongo.URI}
	for k, v := range opts {
		args = append(args, "--"+k, v)
	}
	r.cfg = loadTestConfig(t, args...)
	r.reg = registry.New(r.rdb, r.cfg.registryConfig())
	r.proc = startProcess(t, "outage", bin, processEnv(r.nats.URL, "redis://"+r.redis.Addr, r.mongo.URI, opts), "run")
	r.waitReady(true, 60*time.Second)
	return r
}

// users seeds n LibreChat users of role USER.
func (r *outageRig) users(n int) []string {
	return seedUsers(r.ctx, r.t, r.lc, n)
}

// ready asks /readyz.
func (r *outageRig) ready() bool {
	ctx, cancel := context.WithTimeout(r.ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.opsURL+"/readyz", nil)
	require.NoError(r.t, err)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	defer func() { _ = resp.Body.Close() }()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode == http.StatusOK
}

func (r *outageRig) waitReady(want bool, within time.Duration) {
	r.t.Helper()
	waitUntil(r.t, within, fmt.Sprintf("/readyz answers ready=%v", want), func() bool { return r.ready() == want }, r.proc)
}

// holdTool reports whether every user is loaded and holds the tool, with a
// value whose URL is url ("" any).
func (r *outageRig) holdTool(url string, users ...string) bool {
	for _, u := range users {
		v, err := r.reg.User(r.ctx, u)
		if err != nil || !v.Loaded || v.Private[toolName] == nil {
			return false
		}
		if url != "" && !strings.Contains(string(v.Private[toolName]), `"url":"`+url+`"`) {
			return false
		}
	}
	return true
}

// updateTool publishes server.updated for the tool (with its dbId: no
// MongoDB look-up needed) and, when MongoDB is up, changes its document
// as the admin service would.
func (r *outageRig) updateTool(url string, version int64, mongoUp bool) {
	r.t.Helper()
	if mongoUp {
		require.NoError(r.t, r.lc.SetServerConfig(r.ctx, r.tool, map[string]any{"url": url}, time.UnixMilli(version)))
	}
	publish(r.t, r.nats.JS, "mcp.server.updated", fmt.Sprintf(
		`{"serverName":%q,"dbId":%q,"config":{"url":%q},"version":%d,"updatedAt":%d}`,
		toolName, r.tool.Hex(), url, version, version))
}

// loginServed publishes a login with Mcp-Notify and waits for its result.
func (r *outageRig) loginServed(user string, within time.Duration) events.Notification {
	r.t.Helper()
	inbox := nats.NewInbox()
	sub, err := r.nats.Conn.SubscribeSync(inbox)
	require.NoError(r.t, err)
	defer func() { _ = sub.Unsubscribe() }()
	msg := nats.NewMsg("mcp.user.login")
	msg.Data = fmt.Appendf(nil, `{"userId":%q}`, user)
	msg.Header.Set(events.HeaderNotify, inbox)
	_, err = r.nats.JS.PublishMsg(r.ctx, msg)
	require.NoError(r.t, err)
	got, err := sub.NextMsg(within)
	require.NoError(r.t, err, "result of the login of %s", user)
	var n events.Notification
	require.NoError(r.t, json.Unmarshal(got.Data, &n))
	return n
}

// during runs step every second until d has passed since start, checking
// that the worker runs and dead-lettered nothing.
func (r *outageRig) during(start time.Time, d time.Duration, step func(elapsed time.Duration)) {
	r.t.Helper()
	for elapsed := time.Since(start); elapsed < d; elapsed = time.Since(start) {
		r.proc.requireRunning(r.t)
		requireNoDeadLetters(r.ctx, r.t, r.nats.JS, r.cfg)
		if step != nil {
			step(elapsed)
		}
		time.Sleep(min(time.Second, d-elapsed))
	}
}

// metric returns the value of a counter or gauge line of /metrics ("" when
// absent).
func (r *outageRig) metric(line string) string {
	req, err := http.NewRequestWithContext(r.ctx, http.MethodGet, r.opsURL+"/metrics", nil)
	require.NoError(r.t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(r.t, err)
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	require.NoError(r.t, err)
	for l := range strings.SplitSeq(string(body), "\n") {
		if v, ok := strings.CutPrefix(l, line+" "); ok {
			return v
		}
	}
	return ""
}

// finish checks the end state of an outage test: everything settled, no
// dead letter, ready, events held (or parked) for dep, and a clean exit on
// SIGTERM.
func (r *outageRig) finish(dep events.Dependency) {
	r.t.Helper()
	waitUntil(r.t, 60*time.Second, "consumer settled", func() bool { return settled(r.nats.JS, r.cfg) }, r.proc)
	requireNoDeadLetters(r.ctx, r.t, r.nats.JS, r.cfg)
	r.waitReady(true, 30*time.Second)
	assert.Equal(r.t, "0", r.metric(`mcp_worker_dependency_paused{dependency="`+string(dep)+`"}`))
	// Held ack-pending (Redis) or parked (MongoDB: parking.go in events).
	held := r.metric(`mcp_worker_outage_held_total{dependency="` + string(dep) + `"}`)
	if dep == events.DepMongoDB {
		held = r.metric(`mcp_worker_parked_total{dependency="` + string(dep) + `"}`)
		assert.Equal(r.t, held, r.metric(`mcp_worker_unparked_total{dependency="`+string(dep)+`"}`), "every parked event published back")
	}
	assert.NotEmpty(r.t, held, "deliveries were held or parked for %s", dep)
	assert.NotEqual(r.t, "0", held)
	r.proc.signal(r.t, syscall.SIGTERM)
	assert.Equal(r.t, exitOK, r.proc.wait(r.t, 30*time.Second), "the worker drains and exits 0")
}
