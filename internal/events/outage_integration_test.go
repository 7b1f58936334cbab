package events

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// outageWorld is a fake Redis and MongoDB behind a login handler: every
// login needs Redis, logins of users named "cold-..." also need MongoDB.
type outageWorld struct {
	redis, mongo *fakeDep
	o            *Outages

	mu   sync.Mutex
	done map[string]int
}

func newOutageWorld(t *testing.T) *outageWorld {
	t.Helper()
	w := &outageWorld{redis: &fakeDep{}, mongo: &fakeDep{}, done: map[string]int{}}
	cfg := OutageConfig{Errors: 5, ProbeBase: 50 * time.Millisecond, ProbeMax: 200 * time.Millisecond, ProbeTimeout: time.Second}
	o, err := NewOutages(cfg, Watches{
		DepRedis:   {Probe: w.redis.probe, PausesPulling: true},
		DepMongoDB: {Probe: w.mongo.probe},
	}, nil, NewMetrics(prometheus.NewRegistry()))
	require.NoError(t, err)
	t.Cleanup(o.Close)
	w.o = o
	return w
}

func (w *outageWorld) Handle(_ context.Context, ev Event) error {
	if w.redis.down.Load() {
		return Unavailable(DepRedis, errors.New("dial tcp: connection refused"))
	}
	if strings.HasPrefix(ev.UserID, "cold-") {
		if err := w.o.Check(DepMongoDB); err != nil {
			return err
		}
		if w.mongo.down.Load() {
			return Unavailable(DepMongoDB, errors.New("server selection timeout"))
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.done[ev.UserID]++
	return nil
}

func (w *outageWorld) count(users ...string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, u := range users {
		if w.done[u] > 0 {
			n++
		}
	}
	return n
}

// withOutages gives the consumer outage mode, as NewConsumer does.
func withOutages(o *Outages) func(*Consumer) {
	return func(c *Consumer) {
		c.outages = o
		o.onPullingPaused(c.drainForOutage)
	}
}

// An outage far longer than the retry schedule (MaxDeliver 3: 100ms, then
// 200ms) dead-letters nothing: Redis down pauses pulling, the consumer
// resumes by itself and every login is applied once Redis is back.
func TestIntegrationRedisOutagePausesPulling(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testConfig())
	w := newOutageWorld(t)
	r := e.start(allKinds(w), withOutages(w.o))
	users := []string{"u1", "u2", "u3", "u4", "u5", "u6"}
	require.Eventually(t, r.c.Running, 5*time.Second, 10*time.Millisecond)

	w.redis.down.Store(true)
	for _, u := range users {
		e.publish("mcp.user.login", `{"userId":"`+u+`"}`, nil)
	}
	require.Eventually(t, func() bool { return !r.c.Running() }, 5*time.Second, 10*time.Millisecond, "pulling paused")
	assert.Equal(t, []Dependency{DepRedis}, w.o.Paused())
	before := e.consumerInfo().Delivered.Consumer
	time.Sleep(1500 * time.Millisecond) // five times the whole retry schedule
	assert.False(t, r.c.Running())
	assert.LessOrEqual(t, e.consumerInfo().Delivered.Consumer, before+uint64(len(users)),
		"while paused, at most the in-flight messages' own retries are delivered")
	assert.Empty(t, e.deadLetters())
	assert.Zero(t, w.count(users...))

	w.redis.down.Store(false)
	require.Eventually(t, func() bool { return w.count(users...) == len(users) }, 10*time.Second, 10*time.Millisecond)
	e.waitSettled()
	assert.True(t, r.c.Running())
	assert.Empty(t, w.o.Paused())
	assert.Empty(t, e.deadLetters())
	assert.Positive(t, counterValue(t, r.reg, "mcp_worker_outage_held_total", "dependency", "redis"))
}

// MongoDB down holds the cold logins only: warm logins keep flowing, pulling
// never pauses, and the cold ones are applied once MongoDB answers again.
func TestIntegrationMongoOutageHoldsColdLoginsOnly(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testConfig())
	w := newOutageWorld(t)
	r := e.start(allKinds(w), withOutages(w.o))
	cold := []string{"cold-1", "cold-2", "cold-3"}

	w.mongo.down.Store(true)
	for _, u := range cold {
		e.publish("mcp.user.login", `{"userId":"`+u+`"}`, nil)
	}
	require.Eventually(t, func() bool { return len(w.o.Paused()) == 1 }, 5*time.Second, 10*time.Millisecond)
	deadline := time.Now().Add(1500 * time.Millisecond)
	for i := 0; time.Now().Before(deadline); i++ {
		warm := "warm-" + string(rune('a'+i%26)) + strings.Repeat("x", i/26)
		e.publish("mcp.user.login", `{"userId":"`+warm+`"}`, nil)
		require.Eventually(t, func() bool { return w.count(warm) == 1 }, 2*time.Second, 5*time.Millisecond,
			"a warm login during the MongoDB outage")
		assert.True(t, r.c.Running(), "pulling goes on")
		time.Sleep(50 * time.Millisecond)
	}
	assert.Zero(t, w.count(cold...))
	assert.Equal(t, []Dependency{DepMongoDB}, w.o.Paused())
	assert.Empty(t, e.deadLetters())

	w.mongo.down.Store(false)
	require.Eventually(t, func() bool { return w.count(cold...) == len(cold) }, 10*time.Second, 10*time.Millisecond)
	e.waitSettled()
	assert.Empty(t, e.deadLetters())
	assert.Positive(t, counterValue(t, r.reg, "mcp_worker_outage_held_total", "dependency", "mongodb"))
}

// Without outage mode the same outage dead-letters: the test above can fail.
func TestIntegrationOutageWithoutOutageModeDeadLetters(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testConfig())
	w := newOutageWorld(t)
	e.start(allKinds(w)) // no outages
	w.redis.down.Store(true)
	e.publish("mcp.user.login", `{"userId":"u1"}`, nil)
	dls := e.waitDeadLetters(1)
	assert.Contains(t, dls[0].Reason, "gave up after 3 deliveries")
}
