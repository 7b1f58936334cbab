package handlers_test

// Adversarial review tests (written by the reviewer; not part of the project).

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcp-registry/worker/internal/events"
	"github.com/mcp-registry/worker/internal/handlers"
	"github.com/mcp-registry/worker/internal/lockstatus"
	"github.com/mcp-registry/worker/internal/registry"
	"github.com/mcp-registry/worker/internal/serverdb"
	"github.com/mcp-registry/worker/internal/testenv"
)

// fakeSource is MongoDB as a map user -> servers.
type fakeSource struct {
	mu sync.Mutex
	m  map[string][]serverdb.Server
}

func (f *fakeSource) set(user string, s ...serverdb.Server) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.m[user] = s
}

func (f *fakeSource) AccessibleServers(_ context.Context, user string) ([]serverdb.Server, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]serverdb.Server(nil), f.m[user]...), nil
}

// beforeScript runs fn once, just before the first EVALSHA/EVAL of the script
// whose source is src reaches Redis (a deterministic interleaving point).
type beforeScript struct {
	sha  string
	src  string
	once sync.Once
	fn   atomic.Pointer[func()]
}

func (h *beforeScript) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *beforeScript) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		args := cmd.Args()
		if len(args) > 1 {
			if s, ok := args[1].(string); ok && (s == h.sha || s == h.src) {
				if fn := h.fn.Load(); fn != nil {
					h.once.Do(*fn)
				}
			}
		}
		return next(ctx, cmd)
	}
}

func (h *beforeScript) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

func scriptSHA(t *testing.T, file string) (string, string) {
	t.Helper()
	b, err := os.ReadFile("../registry/lua/" + file)
	require.NoError(t, err)
	sum := sha1.Sum(b)
	return hex.EncodeToString(sum[:]), string(b)
}

type rworld struct {
	t     *testing.T
	ctx   context.Context
	rdb   *redis.Client
	reg   *registry.Registry
	locks *lockstatus.Locker
	src   *fakeSource
	flows map[events.Kind]events.Handler
}

func newRWorld(t *testing.T, hooks ...redis.Hook) *rworld {
	t.Helper()
	rdb, prefix := testenv.Redis(t)
	for _, h := range hooks {
		rdb.AddHook(h)
	}
	cfg := registry.DefaultConfig()
	cfg.KeyPrefix = prefix
	reg := registry.New(rdb, cfg)
	locks := lockstatus.New(rdb, lockstatus.Config{TTL: 5 * time.Second, WaitTries: 100, RetryDelay: 20 * time.Millisecond})
	src := &fakeSource{m: map[string][]serverdb.Server{}}
	flows := handlers.Map(handlers.Params{
		Registry: reg, Locks: locks, Source: src,
		Config: handlers.Config{LoginRetryDelay: 20 * time.Millisecond},
	})
	return &rworld{t: t, ctx: t.Context(), rdb: rdb, reg: reg, locks: locks, src: src, flows: flows}
}

func (w *rworld) run(kind events.Kind, ev events.Event) error {
	ev.Kind = kind
	for {
		err := w.flows[kind].Handle(w.ctx, ev)
		var busy *events.BusyError
		if !errors.As(err, &busy) {
			if errors.Is(err, events.ErrSkip) {
				return nil
			}
			return err
		}
		time.Sleep(busy.After)
	}
}

func (w *rworld) mustRun(kind events.Kind, ev events.Event) {
	w.t.Helper()
	require.NoError(w.t, w.run(kind, ev))
}

func (w *rworld) valueURL(server string) string {
	w.t.Helper()
	raw, err := w.rdb.Get(w.ctx, w.reg.Keys().ServerValue(server)).Result()
	require.NoError(w.t, err)
	var m map[string]any
	require.NoError(w.t, json.Unmarshal([]byte(raw), &m))
	u, _ := m["url"].(string)
	return u
}

// Review finding (fixed): a login's adopt_value (CAS on rev) lands between a server flow's
// apply_record and its put_value; put_value then writes the value from the
// record the flow read before the adoption. The record says config "new"
// (MongoDB's, adopted), the value says "old", and the event that later
// brings "new" is "the same config again" and skipped: the value stays stale
// for good (until another config change).
func TestIntegrationReviewAdoptBetweenApplyAndPutValueLeavesStaleValue(t *testing.T) {
	t.Parallel()
	sha, src := scriptSHA(t, "put_value.lua")
	hook := &beforeScript{sha: sha, src: src}
	w := newRWorld(t, hook)
	const srv, u = "srv", "u1"
	oldCfg := json.RawMessage(`{"url":"old"}`)
	newCfg := json.RawMessage(`{"url":"new"}`)

	w.mustRun(events.KindServerCreated, events.Event{ServerName: srv, UserID: u, Config: oldCfg, Version: 1, DBID: "id1"})
	w.mustRun(events.KindServerShared, events.Event{ServerName: srv, Config: oldCfg, Version: 2})
	// The admin changes the config in MongoDB; its event (version 4) is still queued.
	time.Sleep(2200 * time.Millisecond) // the record's cfgChangedAt is now older than a new load's margin
	w.src.set(u, serverdb.Server{Name: srv, Config: newCfg, DBID: "id1", UpdatedAtMs: time.Now().UnixMilli() + 1000})

	// The demote (version 3) runs; just before its put_value, u logs in.
	login := func() {
		require.NoError(t, w.run(events.KindUserLogin, events.Event{UserID: u}))
	}
	hook.fn.Store(&login)
	w.mustRun(events.KindServerUnshared, events.Event{ServerName: srv, Config: oldCfg, Version: 3, AllowedUserIDs: []string{u}})
	mid, err := w.reg.Record(w.ctx, srv)
	require.NoError(t, err)
	require.JSONEq(t, string(newCfg), string(mid.Config), "the login adopted MongoDB's newer config into the record")
	require.Equal(t, "new", w.valueURL(srv), "the demote's put_value saw the record change and rebuilt the value from it")
	// The queued update arrives with the config MongoDB holds.
	w.mustRun(events.KindServerUpdated, events.Event{ServerName: srv, Config: newCfg, Version: 4})

	rec, err := w.reg.Record(w.ctx, srv)
	require.NoError(t, err)
	assert.JSONEq(t, string(newCfg), string(rec.Config), "record's canonical config")
	want, err := rec.Value()
	require.NoError(t, err)
	got, err := w.rdb.Get(w.ctx, w.reg.Keys().ServerValue(srv)).Result()
	require.NoError(t, err)
	assert.Equal(t, "new", w.valueURL(srv), "value after the last event (MongoDB and the newest event say new)")
	assert.Equal(t, string(want), got, "value is the record's")
}

// Review finding (fixed): a server flow whose lock expired mid fan-out (a grant pipeline
// delayed in flight) re-grants a server after a newer revoke to a user who
// logged in meanwhile: commit_load builds a hash without tombstones for
// servers MongoDB did not return, so apply_user has nothing to fence with;
// and the repair (MarkFanout + redelivery) does not find the user, because
// the newer flow dropped the revoke set and the user is in no holder bucket.
func TestIntegrationReviewStaleGrantAfterRevokeAndReload(t *testing.T) {
	t.Parallel()
	w := newRWorld(t)
	k := w.reg.Keys()
	const srv, u, owner = "srv", "u1", "owner"
	cfg := json.RawMessage(`{"url":"x"}`)
	w.mustRun(events.KindServerCreated, events.Event{ServerName: srv, UserID: owner, Config: cfg, Version: 1, DBID: "id1"})

	// Flow A (access v2: grant u) applies the record under its lock ...
	require.NoError(t, w.rdb.Set(w.ctx, k.ServerLock(srv), "tokA", time.Minute).Err())
	resA, err := w.reg.ApplyChange(w.ctx, "tokA", registry.Change{
		Server: srv, Version: 2, Config: cfg,
		SetsAccess: true, Allowed: []string{owner, u},
	})
	require.NoError(t, err)
	require.Equal(t, []string{u}, resA.Added)
	// ... its grant pipeline is in flight when its lock expires.
	require.NoError(t, w.rdb.Del(w.ctx, k.ServerLock(srv)).Err())

	// Flow B (access v3: u removed again) runs completely.
	w.mustRun(events.KindServerAccess, events.Event{ServerName: srv, Config: cfg, Version: 3, AllowedUserIDs: []string{owner}})
	// u logs in; MongoDB (already revoked) does not list srv.
	w.mustRun(events.KindUserLogin, events.Event{UserID: u})

	// A's delayed grant lands, A notices its fence and flags the fan-out.
	_, err = w.reg.ApplyToUsers(w.ctx, srv, resA.Record.Rev, registry.OpSet, resA.Added)
	require.NoError(t, err)
	require.NoError(t, w.reg.MarkFanout(w.ctx, srv, resA.Pending))
	// A's event is redelivered: it repairs from the current record.
	w.mustRun(events.KindServerAccess, events.Event{ServerName: srv, Config: cfg, Version: 2, AllowedUserIDs: []string{owner, u}})

	v, err := w.reg.User(w.ctx, u)
	require.NoError(t, err)
	assert.NotContains(t, v.Effective, srv, "u was revoked by v3 (the newest access event) and MongoDB agrees")
}

// Same stale writer, the tombstone variant: u was loaded when B revoked (so
// B left a tombstone), but an invalidate + re-login replaced the hash and
// dropped the tombstone before A's delayed grant landed.
func TestIntegrationReviewStaleGrantAfterInvalidateDropsTombstone(t *testing.T) {
	t.Parallel()
	w := newRWorld(t)
	k := w.reg.Keys()
	const srv, u, owner = "srv", "u1", "owner"
	cfg := json.RawMessage(`{"url":"x"}`)
	w.mustRun(events.KindServerCreated, events.Event{ServerName: srv, UserID: owner, Config: cfg, Version: 1, DBID: "id1"})
	w.mustRun(events.KindUserLogin, events.Event{UserID: u})

	require.NoError(t, w.rdb.Set(w.ctx, k.ServerLock(srv), "tokA", time.Minute).Err())
	resA, err := w.reg.ApplyChange(w.ctx, "tokA", registry.Change{
		Server: srv, Version: 2, Config: cfg,
		SetsAccess: true, Allowed: []string{owner, u},
	})
	require.NoError(t, err)
	require.NoError(t, w.rdb.Del(w.ctx, k.ServerLock(srv)).Err())

	w.mustRun(events.KindServerAccess, events.Event{ServerName: srv, Config: cfg, Version: 3, AllowedUserIDs: []string{owner}})
	m, err := w.rdb.HGet(w.ctx, k.UserMembers(u), srv).Result()
	require.NoError(t, err)
	require.Equal(t, fmt.Sprintf("-%d", resA.Record.Rev+1), m, "B left a tombstone")
	w.mustRun(events.KindUserInvalidate, events.Event{UserID: u})
	w.mustRun(events.KindUserLogin, events.Event{UserID: u})

	// The reload dropped B's tombstone, so A's delayed grant lands; A notices
	// its fence, flags the fan-out, and its redelivery repairs through the
	// revoke set B left to expire (not dropped).
	_, err = w.reg.ApplyToUsers(w.ctx, srv, resA.Record.Rev, registry.OpSet, resA.Added)
	require.NoError(t, err)
	require.NoError(t, w.reg.MarkFanout(w.ctx, srv, resA.Pending))
	w.mustRun(events.KindServerAccess, events.Event{ServerName: srv, Config: cfg, Version: 2, AllowedUserIDs: []string{owner, u}})
	v, err := w.reg.User(w.ctx, u)
	require.NoError(t, err)
	assert.NotContains(t, v.Effective, srv)
}

// counter counts the user ids the worker reads back from holder buckets
// (HSCAN replies) and asks about (SMISMEMBER), and all commands.
type counter struct {
	on    atomic.Bool
	cmds  atomic.Int64
	items atomic.Int64
}

func (c *counter) DialHook(next redis.DialHook) redis.DialHook { return next }
func (c *counter) add(cmd redis.Cmder) {
	c.cmds.Add(1)
	switch r := cmd.(type) {
	case *redis.ScanCmd:
		keys, _ := r.Val()
		c.items.Add(int64(len(keys)))
	case *redis.BoolSliceCmd: // SMISMEMBER
		c.items.Add(int64(len(r.Val())))
	}
}

func (c *counter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		if c.on.Load() {
			c.add(cmd)
		}
		return err
	}
}

func (c *counter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		if c.on.Load() {
			for _, cmd := range cmds {
				c.add(cmd)
			}
		}
		return err
	}
}

// accessCost runs, on a private server whose allowed users all logged in
// (holders), one access event that adds a single user, and returns the Redis
// work it took.
func accessCost(t *testing.T, holders int) (cmds, items int64) {
	c := &counter{}
	w := newRWorld(t, c)
	const srv = "srv"
	cfg := json.RawMessage(`{"url":"x"}`)
	users := make([]string, 5000) // the same allowed set in every run
	for i := range users {
		users[i] = fmt.Sprintf("user-%05d", i)
	}
	w.mustRun(events.KindServerCreated, events.Event{ServerName: srv, UserID: users[0], Config: cfg, Version: 1, DBID: "id1"})
	w.mustRun(events.KindServerAccess, events.Event{ServerName: srv, Config: cfg, Version: 2, AllowedUserIDs: users})
	for _, u := range users[:holders] { // these users' logins claimed srv (holder index)
		_, err := w.reg.ClaimServers(w.ctx, u, []string{srv}, 0)
		require.NoError(t, err)
	}
	// The first access change after those logins walks the holders once and
	// forgets the ones the allowed set covers; measured is the next one.
	w.mustRun(events.KindServerAccess, events.Event{
		ServerName: srv, Config: cfg, Version: 3,
		AllowedUserIDs: append(append([]string{}, users...), "newcomer"),
	})
	c.on.Store(true)
	w.mustRun(events.KindServerAccess, events.Event{
		ServerName: srv, Config: cfg, Version: 4,
		AllowedUserIDs: append(append([]string{}, users...), "newcomer", "another"),
	})
	c.on.Store(false)
	return c.cmds.Load(), c.items.Load()
}

// Review finding (cost, fixed; amortized): an access event that changes one user's membership walks
// every login holder of the server (128 HSCANs + SMISMEMBER of all holders),
// although the design says grant/revoke cost O(users whose membership
// changes). Holders who stay allowed are never pruned, so the index only grows.
func TestIntegrationReviewAccessEventCostGrowsWithHolders(t *testing.T) {
	t.Parallel()
	_, small := accessCost(t, 2)
	_, big := accessCost(t, 5000)
	t.Logf("work for one added user: 2 holders %d items, 5000 holders %d items", small, big)
	assert.LessOrEqual(t, big, 2*small+10, "one membership change should cost the same whatever the number of holders")
}
