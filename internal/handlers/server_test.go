package handlers_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcp-registry/worker/internal/events"
	"github.com/mcp-registry/worker/internal/lockstatus"
	"github.com/mcp-registry/worker/internal/registry"
)

// created: the loaded creator gets the server; an unloaded creator does not,
// but the record knows the server.
func TestIntegrationCreatedReachesLoadedCreator(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	w := e.mainWorld()
	loaded, idle := e.user("", "USER", ""), e.user("", "USER", "")
	w.login(loaded)
	w.must(created("mine", loaded, cfg("https://mine"), 10))
	w.must(created("theirs", idle, cfg("https://theirs"), 10))

	assert.JSONEq(t, `{"url":"https://mine","lastUpdatedAt":10,"updatedAt":10}`, string(w.private(loaded, "mine")))
	assert.False(t, w.view(idle).Loaded)
	assert.Empty(t, w.view(idle).Private, "an unloaded user's registry is not created by an event")
	sv := w.serverView("theirs")
	assert.Equal(t, "private", sv.Scope)
	assert.Equal(t, int64(10), sv.Version)
	assert.Equal(t, []string{loaded}, w.serverView("mine").CachedFor)
}

// Hard case 7: a user loaded with zero servers gets a later grant, with the
// registry's TTL equal to the flag's.
func TestIntegrationZeroServerUserGetsLaterGrant(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	w := e.mainWorld()
	u := e.user("", "USER", "")
	w.login(u)
	require.True(t, w.view(u).Loaded)
	w.must(access("s", cfg("https://s"), 5, u))
	assert.JSONEq(t, `{"url":"https://s","lastUpdatedAt":5,"updatedAt":5}`, string(w.private(u, "s")))
	k := w.reg.Keys()
	assert.Greater(t, e.rdb.PTTL(e.ctx, k.UserMembers(u)).Val(), 59*time.Minute,
		"the grant kept the membership's one TTL")
}

// Hard case 8: an update reaches every user who has the server and no one
// else; other servers are untouched.
func TestIntegrationUpdateReachesExactlyTheCachingUsers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	w := e.mainWorld()
	s := e.server("s", map[string]any{"url": "https://old"}, time.UnixMilli(100))
	other := e.server("other", map[string]any{"url": "https://other"}, time.UnixMilli(100))
	var holders []string
	for range 3 {
		u := e.user("", "USER", "")
		e.grantUser(s, u)
		holders = append(holders, u)
	}
	bystander, idle := e.user("", "USER", ""), e.user("", "USER", "")
	e.grantUser(other, bystander)
	e.grantUser(s, idle) // allowed in MongoDB but never logged in
	for _, u := range append(holders, bystander) {
		w.login(u)
	}
	otherBefore := w.private(bystander, "other")

	w.must(updated("s", cfg("https://new"), 200))
	for _, u := range holders {
		got := decodeValue(t, w.private(u, "s"))
		assert.Equal(t, "https://new", got["url"])
		assert.Equal(t, s.Hex(), got["dbId"], "dbId learned from the loads is kept")
		assert.EqualValues(t, 200, got["lastUpdatedAt"])
	}
	assert.Nil(t, w.private(bystander, "s"), "no one else gets it")
	assert.Equal(t, otherBefore, w.private(bystander, "other"), "other servers untouched")
	assert.False(t, w.view(idle).Loaded)
}

// An update of a server nobody has: the record keeps the config, nobody is touched.
func TestIntegrationUpdateOfUnknownServer(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	w := e.mainWorld()
	u := e.user("", "USER", "")
	w.login(u)
	w.must(updated("ghost", cfg("https://ghost"), 7))
	assert.Empty(t, w.view(u).Private)
	rec, err := w.reg.Record(e.ctx, "ghost")
	require.NoError(t, err)
	assert.JSONEq(t, `{"url":"https://ghost"}`, string(rec.Config))
	assert.Equal(t, int64(7), rec.ConfigVersion)
	assert.Equal(t, "unknown", w.serverView("ghost").Scope)
	assert.Empty(t, w.serverView("ghost").CachedFor)
}

// Hard case 9: an access change keeps, revokes and grants (to loaded users
// only), and a replay changes nothing.
func TestIntegrationAccessChangeKeepsRevokesGrants(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	w := e.mainWorld()
	s := e.server("s", map[string]any{"url": "https://s"}, time.UnixMilli(100))
	a, b, c, d := e.user("", "USER", ""), e.user("", "USER", ""), e.user("", "USER", ""), e.user("", "USER", "")
	e.grantUser(s, a)
	e.grantUser(s, b)
	for _, u := range []string{a, b, c} {
		w.login(u)
	}
	ev := access("s", cfg("https://s2"), 300, b, c, d)
	w.must(ev)
	assert.Nil(t, w.private(a, "s"), "revoked")
	assert.Equal(t, "https://s2", decodeValue(t, w.private(b, "s"))["url"], "kept, with the canonical config")
	assert.Equal(t, "https://s2", decodeValue(t, w.private(c, "s"))["url"], "granted to a loaded user")
	assert.False(t, w.view(d).Loaded, "not loaded: nothing written")
	assert.Equal(t, []string{b, c}, sorted(w.serverView("s").CachedFor))

	before := snapshotWorld(t, w, "s", a, b, c, d)
	err := w.flows[events.KindServerAccess].Handle(e.ctx, ev)
	assert.ErrorIs(t, err, events.ErrSkip, "a replay is skipped")
	assert.Equal(t, before, snapshotWorld(t, w, "s", a, b, c, d), "and changes nothing")

	w.must(access("s", cfg("https://s2"), 400)) // empty list: nobody
	assert.Nil(t, w.private(b, "s"))
	assert.Nil(t, w.private(c, "s"))
}

// Hard case 10: promote takes the server out of every private registry into
// the right tier; demote does the reverse, to loaded users only.
func TestIntegrationPromoteAndDemote(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	w := e.mainWorld()
	s := e.server("s", map[string]any{"url": "https://s"}, time.UnixMilli(100))
	a, b, idle := e.user("", "USER", ""), e.user("", "USER", ""), e.user("", "USER", "")
	e.grantUser(s, a)
	w.login(a)
	w.login(b)

	w.must(shared("s", cfg("https://s", "requiresOAuth", true), 200))
	assert.Nil(t, w.private(a, "s"), "out of every private registry")
	for _, u := range []string{a, b} {
		ent := w.view(u).Effective["s"]
		assert.Equal(t, registry.TierUser, ent.Tier, "requiresOAuth goes to the user tier")
	}
	assert.Equal(t, "public", w.serverView("s").Scope)
	assert.Equal(t, registry.TierUser, *w.serverView("s").Tier)

	w.must(updated("s", cfg("https://s"), 250)) // no requiresOAuth any more: moves to app
	assert.Equal(t, registry.TierApp, w.view(b).Effective["s"].Tier)
	assert.NotContains(t, tierNames(t, w, registry.TierUser), "s", "a name lives in one tier only")

	w.must(unshared("s", cfg("https://s"), 300, b, idle))
	assert.Empty(t, tierNames(t, w, registry.TierApp))
	assert.Empty(t, tierNames(t, w, registry.TierUser))
	assert.Nil(t, w.private(a, "s"), "a is not in the list")
	assert.Equal(t, registry.TierPrivate, w.view(b).Effective["s"].Tier, "b is loaded and listed")
	assert.False(t, w.view(idle).Loaded, "idle is listed but not loaded")

	// A login after the demote reads MongoDB (where the server is not
	// shared with idle) and the record (private, idle allowed): MongoDB wins
	// for what it lists, so idle gets nothing it cannot see there.
	w.login(idle)
	assert.Nil(t, w.private(idle, "s"))
}

// Hard case 11: delete takes the server out of everything, and an older event
// does not bring it back.
func TestIntegrationDeleteIsFinal(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	w := e.mainWorld()
	a := e.user("", "USER", "")
	w.login(a)
	w.must(access("p", cfg("https://p"), 10, a))
	w.must(shared("pub", cfg("https://pub"), 10))
	w.must(deleted("p", 20))
	w.must(deleted("pub", 20))
	assert.Empty(t, w.view(a).Effective)
	for _, ev := range []events.Event{
		updated("p", cfg("https://x"), 15), access("p", cfg("https://x"), 15, a),
		shared("p", cfg("https://x"), 19), unshared("pub", cfg("https://x"), 19, a), created("p", a, cfg("https://x"), 5),
	} {
		w.must(ev)
	}
	assert.Empty(t, w.view(a).Effective, "older events do not bring it back")
	assert.Equal(t, "deleted", w.serverView("p").Scope)
	w.login(e.user("", "USER", ""))
}

// Hard case 15 (flow side): a worker that applied the record but died before
// the fan-out finished leaves the fan-out marked; the redelivery completes it.
func TestIntegrationRedeliveryFinishesInterruptedFanout(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	w := e.mainWorld()
	a := e.user("", "USER", "")
	w.login(a)
	ev := access("s", cfg("https://s"), 10, a)
	// The crashed attempt: record applied under the lock, nothing else.
	require.NoError(t, e.locks.WithLock(e.ctx, w.reg.Keys().ServerLock("s"), func(ctx context.Context, f lockstatus.Fence) error {
		_, err := w.reg.ApplyChange(ctx, f.Token, registry.Change{Server: "s", Version: 10, Config: ev.Config, SetsAccess: true, Allowed: []string{a}})
		return err
	}))
	assert.Nil(t, w.private(a, "s"))
	w.must(ev) // the redelivery
	assert.NotNil(t, w.private(a, "s"), "the redelivery finished the grant")
	rec, err := w.reg.Record(e.ctx, "s")
	require.NoError(t, err)
	assert.Zero(t, rec.Fanout)
	assert.ErrorIs(t, w.flows[events.KindServerAccess].Handle(e.ctx, ev), events.ErrSkip, "then it is a plain duplicate")
}

// Hard case 18: on a name clash app beats user beats private, in the full
// view and in single lookups.
func TestIntegrationTierPrecedence(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	w := e.mainWorld()
	u := e.user("", "USER", "")
	for _, n := range []string{"x", "y", "z"} {
		e.grantUser(e.server(n, map[string]any{"url": "https://private-" + n}, time.UnixMilli(1)), u)
	}
	w.login(u)
	// Clashes can only come from writes racing each other; make them directly.
	// Values live once per server; tiers name servers.
	require.NoError(t, w.reg.PutTier(e.ctx, "x", registry.TierApp, 1))
	require.NoError(t, w.reg.PutTier(e.ctx, "y", registry.TierUser, 1))
	require.NoError(t, e.rdb.HSet(e.ctx, w.reg.Keys().Tier(registry.TierUser), "x", 1).Err())

	v := w.view(u)
	want := map[string]registry.Tier{"x": registry.TierApp, "y": registry.TierUser, "z": registry.TierPrivate}
	for name, tier := range want {
		assert.Equal(t, tier, v.Effective[name].Tier, name)
		got, ok, err := w.reg.Lookup(e.ctx, u, name)
		require.NoError(t, err)
		require.True(t, ok)
		assert.Equal(t, tier, got.Tier, "lookup of %s", name)
		assert.JSONEq(t, string(v.Effective[name].Config), string(got.Config))
	}
	// One value per server (layout 2): whichever tier wins, the bytes are the server's.
	assert.Equal(t, "https://private-x", decodeValue(t, v.Effective["x"].Config)["url"])
	_, ok, err := w.reg.Lookup(e.ctx, u, "nope")
	require.NoError(t, err)
	assert.False(t, ok)
}

// Every flow is idempotent: applying each event twice gives the state of once.
func TestIntegrationEveryFlowReplayIsANoop(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	w := e.mainWorld()
	a, b := e.user("", "USER", ""), e.user("", "USER", "")
	w.login(a)
	w.login(b)
	seq := []events.Event{
		created("s", a, cfg("https://1"), 1), updated("s", cfg("https://2"), 2), access("s", cfg("https://3"), 3, a, b),
		shared("s", cfg("https://4", "startup", false), 4), unshared("s", cfg("https://5"), 5, b), deleted("s", 6),
	}
	for _, ev := range seq {
		w.must(ev)
		before := snapshotWorld(t, w, "s", a, b)
		assert.ErrorIs(t, w.flows[ev.Kind].Handle(e.ctx, ev), events.ErrSkip, "%s replay", ev.Kind)
		assert.Equal(t, before, snapshotWorld(t, w, "s", a, b), "%s replay changes nothing", ev.Kind)
	}
}

func tierNames(t *testing.T, w world, tier registry.Tier) []string {
	t.Helper()
	names, err := w.e.rdb.HKeys(w.e.ctx, w.reg.Keys().Tier(tier)).Result()
	require.NoError(t, err)
	return names
}

// worldState is what readers can observe of one server in a world.
type worldState struct {
	Private map[string]string
	App     string
	User    string
	Record  string
}

func snapshotWorld(t *testing.T, w world, server string, users ...string) worldState {
	t.Helper()
	st := worldState{Private: map[string]string{}}
	for _, u := range users {
		st.Private[u] = string(w.private(u, server))
	}
	k := w.reg.Keys()
	// A tier names the server; what readers see is the server's one value.
	value := w.e.rdb.Get(w.e.ctx, k.ServerValue(server)).Val()
	if w.e.rdb.HExists(w.e.ctx, k.Tier(registry.TierApp), server).Val() {
		st.App = value
	}
	if w.e.rdb.HExists(w.e.ctx, k.Tier(registry.TierUser), server).Val() {
		st.User = value
	}
	rec, err := w.reg.Record(w.e.ctx, server)
	require.NoError(t, err)
	allowed := w.e.rdb.SMembers(w.e.ctx, k.ServerAllowed(server)).Val()
	b, _ := json.Marshal([]any{rec.Scope, string(rec.Config), rec.ConfigVersion, rec.AccessVersion, rec.ScopeVersion, sorted(allowed)})
	st.Record = string(b)
	return st
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	sortStrings(out)
	return out
}

// A long flow of one server (its lock held) neither blocks another server's
// events nor pins a consumer slot for long: the same server's next event is
// handed back as busy after the bounded lock wait.
func TestIntegrationOneServerDoesNotBlockAnother(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	w := e.mainWorld()
	u := e.user("", "USER", "")
	w.login(u)
	// A fan-out of "big" is in progress elsewhere: its lock is held.
	require.NoError(t, e.rdb.Set(e.ctx, w.reg.Keys().ServerLock("big"), "other-worker", time.Minute).Err())

	start := time.Now()
	require.NoError(t, w.flows[events.KindServerAccess].Handle(e.ctx, access("small", cfg("https://small"), 1, u)))
	assert.Less(t, time.Since(start), time.Second, "another server's event runs at once")
	assert.NotNil(t, w.private(u, "small"))

	err := w.flows[events.KindServerAccess].Handle(e.ctx, access("big", cfg("https://big"), 1, u))
	var busy *events.BusyError
	require.ErrorAs(t, err, &busy, "the same server's event is handed back, not blocked")
	assert.Nil(t, w.private(u, "big"))
}
