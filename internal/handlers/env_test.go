package handlers_test

import (
	"context"
	"encoding/json"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/mcp-registry/worker/internal/devstack"
	"github.com/mcp-registry/worker/internal/events"
	"github.com/mcp-registry/worker/internal/handlers"
	"github.com/mcp-registry/worker/internal/lockstatus"
	"github.com/mcp-registry/worker/internal/registry"
	"github.com/mcp-registry/worker/internal/serverdb"
	"github.com/mcp-registry/worker/internal/testenv"
)

// env is one test's world: a key prefix on real Redis, an embedded FerretDB
// with LibreChat's collections, and the flows wired as in production.
type env struct {
	t      *testing.T
	ctx    context.Context
	prefix string
	rdb    redis.UniversalClient
	reg    *registry.Registry
	locks  *lockstatus.Locker
	lc     devstack.LibreChat
	store  *serverdb.Store
	source *countingSource
	flows  map[events.Kind]events.Handler
}

type envOptions struct {
	rdb     redis.UniversalClient // nil: the shared test Redis with a prefix of its own
	lockTTL time.Duration
}

func newEnv(t *testing.T, opts ...func(*envOptions)) *env {
	t.Helper()
	o := envOptions{lockTTL: 2 * time.Second}
	for _, f := range opts {
		f(&o)
	}
	prefix := "t:"
	if o.rdb == nil {
		o.rdb, prefix = testenv.DefaultRedis(t)
	}
	m := testenv.StartMongo(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	regCfg := registry.DefaultConfig()
	regCfg.KeyPrefix = prefix
	require.NoError(t, regCfg.Validate())
	reg := registry.New(o.rdb, regCfg)
	locks := lockstatus.New(o.rdb, lockstatus.Config{TTL: o.lockTTL, WaitTries: 100, RetryDelay: 20 * time.Millisecond})
	store := serverdb.New(m.Client, serverdb.Config{Database: "LibreChat"})
	src := &countingSource{inner: store}
	e := &env{t: t, ctx: ctx, prefix: prefix, rdb: o.rdb, reg: reg, locks: locks, lc: devstack.LibreChat{DB: m.DB}, store: store, source: src}
	e.flows = handlers.Map(handlers.Params{
		Registry: reg, Locks: locks, Source: src, IDs: store, Access: store,
		Config: handlers.Config{LoginRetryDelay: 20 * time.Millisecond},
	})
	return e
}

// countingSource counts MongoDB loads and lets a test hook into them.
type countingSource struct {
	inner  handlers.ServerSource
	calls  atomic.Int64
	mu     sync.Mutex
	during func(ctx context.Context, user string) error // runs before the read
	after  func(ctx context.Context, user string) error // runs after the read
}

func (s *countingSource) AccessibleServers(ctx context.Context, user string) ([]serverdb.Server, error) {
	s.calls.Add(1)
	s.mu.Lock()
	during, after := s.during, s.after
	s.mu.Unlock()
	if during != nil {
		if err := during(ctx, user); err != nil {
			return nil, err
		}
	}
	servers, err := s.inner.AccessibleServers(ctx, user)
	if err == nil && after != nil {
		err = after(ctx, user)
	}
	return servers, err
}

func (s *countingSource) hook(during, after func(ctx context.Context, user string) error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.during, s.after = during, after
}

// handle runs the flow of kind like the consumer would, retrying busy
// results, and returns the final error.
func (e *env) handle(kind events.Kind, ev events.Event) error {
	e.t.Helper()
	ev.Kind = kind
	for {
		err := e.flows[kind].Handle(e.ctx, ev)
		var busy *events.BusyError
		if !errorsAs(err, &busy) {
			return err
		}
		time.Sleep(busy.After)
	}
}

func (e *env) login(user string) error {
	return e.handle(events.KindUserLogin, events.Event{UserID: user})
}

func (e *env) user(name, role, idOnTheSource string) string {
	e.t.Helper()
	id, err := e.lc.AddUser(e.ctx, role, idOnTheSource)
	require.NoError(e.t, err)
	_ = name
	return id.Hex()
}

func (e *env) server(name string, config map[string]any, updatedAt time.Time) bson.ObjectID {
	e.t.Helper()
	id, err := e.lc.AddServer(e.ctx, name, config, updatedAt)
	require.NoError(e.t, err)
	return id
}

func (e *env) grantUser(server bson.ObjectID, user string) {
	e.t.Helper()
	uid, err := bson.ObjectIDFromHex(user)
	require.NoError(e.t, err)
	require.NoError(e.t, e.lc.GrantUser(e.ctx, server, uid, devstack.PermView))
}

func (e *env) view(user string) registry.UserView {
	e.t.Helper()
	v, err := e.reg.User(e.ctx, user)
	require.NoError(e.t, err)
	return v
}

// privateNames returns the names in a user's private registry.
func (e *env) privateNames(user string) []string {
	e.t.Helper()
	names := []string{}
	for n := range e.view(user).Private {
		names = append(names, n)
	}
	sortStrings(names)
	return names
}

// value decodes one cached value.
func decodeValue(t *testing.T, raw json.RawMessage) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(raw, &m))
	return m
}
