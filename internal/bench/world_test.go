package bench

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/mcp-registry/worker/internal/events"
	"github.com/mcp-registry/worker/internal/handlers"
	"github.com/mcp-registry/worker/internal/lockstatus"
	"github.com/mcp-registry/worker/internal/registry"
	"github.com/mcp-registry/worker/internal/serverdb"
	"github.com/mcp-registry/worker/internal/testenv"
)

// world is one benchmark's setup: a private redis-server, the flows wired as
// production wires them (handlers.Map with the default registry and lock
// configs and go-redis's default client options) on a client whose traffic a
// hook counts, an in-memory server source, and an uncounted admin client for
// setup, checks and INFO.
type world struct {
	redis  *testenv.RedisServer
	admin  *redis.Client
	rdb    *redis.Client
	hook   *counter
	reg    *registry.Registry
	source *memSource
	flows  map[events.Kind]events.Handler
}

func newWorld(tb testing.TB) *world {
	tb.Helper()
	srv, admin := testenv.StartRedisServer(tb)
	opts, err := redis.ParseURL("redis://" + srv.Addr)
	if err != nil {
		tb.Fatalf("redis url: %v", err)
	}
	rdb := redis.NewClient(opts)
	tb.Cleanup(func() { _ = rdb.Close() })
	hook := &counter{}
	rdb.AddHook(hook)
	reg := registry.New(rdb, registry.DefaultConfig())
	locks := lockstatus.New(rdb, lockstatus.DefaultConfig())
	src := &memSource{servers: map[string][]serverdb.Server{}}
	flows := handlers.Map(handlers.Params{Registry: reg, Locks: locks, Source: src})
	return &world{redis: srv, admin: admin, rdb: rdb, hook: hook, reg: reg, source: src, flows: flows}
}

// memSource is an in-memory handlers.ServerSource: user -> servers. MongoDB
// (or FerretDB, PITFALLS) times are not what these benchmarks measure.
type memSource struct {
	mu      sync.RWMutex
	servers map[string][]serverdb.Server
}

var _ handlers.ServerSource = (*memSource)(nil)

func (s *memSource) AccessibleServers(_ context.Context, user string) ([]serverdb.Server, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.servers[user], nil
}

func (s *memSource) get(user string) []serverdb.Server {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.servers[user]
}

func (s *memSource) set(user string, servers []serverdb.Server) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.servers[user] = servers
}

// handle runs ev through its flow as the consumer would, waiting out busy
// results (none are expected here: users are distinct and one event runs at
// a time). A skipped event is an error: every event here must apply.
func (w *world) handle(ctx context.Context, ev events.Event) error {
	for {
		err := w.flows[ev.Kind].Handle(ctx, ev)
		var busy *events.BusyError
		if !errors.As(err, &busy) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(busy.After):
		}
	}
}

func (w *world) login(ctx context.Context, user string) error {
	return w.handle(ctx, events.Event{Kind: events.KindUserLogin, UserID: user})
}

// userID returns an ObjectId-length id (24 hex digits) for user n of a set.
func userID(set string, n int) string { return fmt.Sprintf("%s%0*x", set, 24-len(set), n) }

// serverOf returns a server document as MongoDB would give it.
func serverOf(name string, n int, updatedAtMs int64) serverdb.Server {
	return serverdb.Server{
		Name:        name,
		DBID:        fmt.Sprintf("%024x", 0x6600000000+n),
		Config:      configJSON(name, 0),
		UpdatedAtMs: updatedAtMs,
	}
}

// configJSON returns a config of typical size (about 200 bytes) whose rev
// field tells revisions apart.
func configJSON(name string, rev int) []byte {
	return fmt.Appendf(nil, `{"type":"streamable-http","url":"https://%s.mcp.internal/mcp","title":"Server %s",`+
		`"headers":{"X-Tenant":"bench","Authorization":"Bearer {{MCP_API_KEY}}"},"timeout":30000,"rev":%d}`, name, name, rev)
}

// measured is what one measured step cost: hook counts (round trips and
// commands sent), commands Redis executed (INFO commandstats, Lua included)
// and wall time.
type measured struct {
	counts
	redisCmds int64
	stats     cmdStats
	elapsed   time.Duration
	redisCPU  time.Duration // CPU time redis-server used meanwhile
	goCPU     time.Duration // CPU time this process used meanwhile
}

// probe is a measurement in progress (see start).
type probe struct {
	w        *world
	hook     *counter
	before   counts
	redisCPU float64
	ownCPU   time.Duration
	began    time.Time
}

// start resets Redis's command statistics and notes the counters.
func (w *world) start(ctx context.Context, tb testing.TB) *probe {
	tb.Helper()
	return w.startOn(ctx, tb, w.hook)
}

// startOn is start for the traffic hook counts (another client of the same
// redis-server, such as the reference's).
func (w *world) startOn(ctx context.Context, tb testing.TB, hook *counter) *probe {
	tb.Helper()
	if err := w.admin.ConfigResetStat(ctx).Err(); err != nil {
		tb.Fatalf("config resetstat: %v", err)
	}
	cpu, err := redisCPU(ctx, w.admin)
	if err != nil {
		tb.Fatal(err)
	}
	return &probe{w: w, hook: hook, before: hook.read(), redisCPU: cpu, ownCPU: processCPU(), began: time.Now()}
}

// stop reads what was spent since start. Wall time and worker CPU count
// everything this process did meanwhile.
func (p *probe) stop(ctx context.Context, tb testing.TB) measured {
	tb.Helper()
	elapsed := time.Since(p.began)
	spent := p.hook.read().sub(p.before)
	own := processCPU() - p.ownCPU
	cpu, err := redisCPU(ctx, p.w.admin)
	if err != nil {
		tb.Fatal(err)
	}
	stats, err := readCommandStats(ctx, p.w.admin)
	if err != nil {
		tb.Fatal(err)
	}
	return measured{
		counts: spent, redisCmds: stats.flowTotal(), stats: stats, elapsed: elapsed,
		redisCPU: time.Duration((cpu - p.redisCPU) * float64(time.Second)), goCPU: own,
	}
}

// measure runs fn between start and stop.
func (w *world) measure(ctx context.Context, tb testing.TB, fn func() error) measured {
	tb.Helper()
	return w.measureOn(ctx, tb, w.hook, fn)
}

// measureOn is measure for the traffic hook counts.
func (w *world) measureOn(ctx context.Context, tb testing.TB, hook *counter, fn func() error) measured {
	tb.Helper()
	p := w.startOn(ctx, tb, hook)
	if err := fn(); err != nil {
		tb.Fatal(err)
	}
	return p.stop(ctx, tb)
}

// handleWith is handle with other flows (the same world's, audited).
func (w *world) handleWith(ctx context.Context, flows map[events.Kind]events.Handler, ev events.Event) error {
	saved := w.flows
	defer func() { w.flows = saved }()
	w.flows = flows
	return w.handle(ctx, ev)
}

// replicaFlows returns the world's flows as another replica process would run
// them: a Redis client, registry and lock client of their own on the same
// redis-server and source.
func (w *world) replicaFlows(tb testing.TB) map[events.Kind]events.Handler {
	tb.Helper()
	rdb := redis.NewClient(w.rdb.Options())
	tb.Cleanup(func() { _ = rdb.Close() })
	reg := registry.New(rdb, registry.DefaultConfig())
	locks := lockstatus.New(rdb, lockstatus.DefaultConfig())
	return handlers.Map(handlers.Params{Registry: reg, Locks: locks, Source: w.source})
}
