package registry_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcp-registry/worker/internal/registry"
)

// newServer returns a Registry and holds the lock of server "srv" with srvToken.
func newServer(t *testing.T) (*registry.Registry, redis.UniversalClient) {
	t.Helper()
	reg, c := newRegistry(t)
	holdLock(t, c, reg.Keys().ServerLock("srv"), srvToken)
	return reg, c
}

func applyChange(t *testing.T, reg *registry.Registry, ch registry.Change) registry.ApplyResult {
	t.Helper()
	ch.Server = "srv"
	res, err := reg.ApplyChange(t.Context(), srvToken, ch)
	require.NoError(t, err)
	return res
}

func finish(t *testing.T, reg *registry.Registry, tier registry.Tier) {
	t.Helper()
	require.NoError(t, reg.FinishFanout(t.Context(), srvToken, "srv", tier, true))
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// apply_record returns {mask, fields, before, diffed, added}: the mask (and
// the record) of every combination of aspects.
func TestIntegrationApplyChangeMask(t *testing.T) {
	t.Parallel()
	cfg := json.RawMessage(`{"url":"u"}`)
	tests := []struct {
		name   string
		change registry.Change
		want   registry.Aspects
	}{
		{"config", registry.Change{Config: cfg}, registry.AspectConfig},
		{"access", registry.Change{SetsAccess: true, Allowed: []string{"a"}}, registry.AspectAccess},
		{"scope", registry.Change{Scope: registry.ScopePublic}, registry.AspectScope},
		{"config+access", registry.Change{Config: cfg, SetsAccess: true}, registry.AspectConfig | registry.AspectAccess},
		{"config+scope", registry.Change{Config: cfg, Scope: registry.ScopePrivate}, registry.AspectConfig | registry.AspectScope},
		{"access+scope", registry.Change{SetsAccess: true, Allowed: []string{"a"}, Scope: registry.ScopeDeleted}, registry.AspectAccess | registry.AspectScope},
		{"all", registry.Change{Config: cfg, SetsAccess: true, Allowed: []string{"a"}, Scope: registry.ScopePublic}, 7},
		{"nothing", registry.Change{}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			reg, c := newServer(t)
			before := redisNowMs(t, c)
			tt.change.Version = 10
			res := applyChange(t, reg, tt.change)
			after := redisNowMs(t, c)
			assert.Equal(t, tt.want, res.Pending)
			assert.Zero(t, res.Unfinished)
			assert.False(t, res.Diffed, "no earlier allowed set was known")
			assert.Empty(t, res.Added)
			rec := res.Record
			assert.Equal(t, "srv", rec.Name)
			assert.Equal(t, tt.want, rec.Fanout)
			wantRev := int64(1)
			if tt.want == 0 {
				wantRev = 0
			}
			assert.Equal(t, wantRev, rec.Rev, "rev grows once per applied change")
			if tt.want.Has(registry.AspectConfig) {
				assert.JSONEq(t, string(cfg), string(rec.Config))
				assert.EqualValues(t, 10, rec.ConfigVersion)
				assert.GreaterOrEqual(t, rec.ConfigChangedAtMs, before)
				assert.LessOrEqual(t, rec.ConfigChangedAtMs, after)
				assert.GreaterOrEqual(t, rec.UpdatedAtMs, before, "no updatedAt in the event: now")
				assert.LessOrEqual(t, rec.UpdatedAtMs, after)
			} else {
				assert.Empty(t, rec.Config)
				assert.Zero(t, rec.ConfigVersion)
				assert.Zero(t, rec.ConfigChangedAtMs)
			}
			if tt.want.Has(registry.AspectAccess) {
				assert.EqualValues(t, 10, rec.AccessVersion)
				assert.ElementsMatch(t, tt.change.Allowed, members(t, c, reg.Keys().ServerAllowed("srv")))
			} else {
				assert.Zero(t, rec.AccessVersion)
			}
			if tt.want.Has(registry.AspectScope) {
				assert.Equal(t, tt.change.Scope, rec.Scope)
				assert.EqualValues(t, 10, rec.ScopeVersion)
			} else {
				assert.Empty(t, rec.Scope)
			}
			if tt.want&(registry.AspectAccess|registry.AspectScope) != 0 {
				assert.GreaterOrEqual(t, rec.AccessChangedAtMs, before)
				assert.LessOrEqual(t, rec.AccessChangedAtMs, after)
			} else {
				assert.Zero(t, rec.AccessChangedAtMs, "a config change does not touch accessChangedAt")
			}
			assert.False(t, exists(t, c, reg.Keys().ServerAllowedNext("srv")), "scratch set not left behind")
			assert.False(t, rec.HasValue, "apply_record writes no value")
		})
	}
}

func TestIntegrationApplyChangeUpdatedAtFromEvent(t *testing.T) {
	t.Parallel()
	reg, _ := newServer(t)
	res := applyChange(t, reg, registry.Change{Version: 1, Config: json.RawMessage(`{}`), UpdatedAtMs: 1234})
	assert.EqualValues(t, 1234, res.Record.UpdatedAtMs)
	res = applyChange(t, reg, registry.Change{Version: 1, Config: json.RawMessage(`{"x":1}`), UpdatedAtMs: 99})
	assert.EqualValues(t, 1234, res.Record.UpdatedAtMs, "a duplicate does not move updatedAt")
}

func TestIntegrationApplyChangeNewerOnly(t *testing.T) {
	t.Parallel()
	reg, c := newServer(t)
	allowed := reg.Keys().ServerAllowed("srv")

	res := applyChange(t, reg, registry.Change{Version: 10, Config: json.RawMessage(`{"v":10}`)})
	require.Equal(t, registry.AspectConfig, res.Pending)
	res = applyChange(t, reg, registry.Change{Version: 2, Scope: registry.ScopePrivate, SetsAccess: true, Allowed: []string{"a"}})
	require.Equal(t, registry.AspectConfig|registry.AspectAccess|registry.AspectScope, res.Pending, "unfinished config kept")
	require.Equal(t, registry.AspectConfig, res.Unfinished)
	require.EqualValues(t, 2, res.Record.Rev)
	finish(t, reg, "")
	changedAt := res.Record.AccessChangedAtMs

	// Config is newer already; scope and access are older: only they apply.
	res = applyChange(t, reg, registry.Change{
		Version: 5, Config: json.RawMessage(`{"v":5}`), Scope: registry.ScopePublic,
		SetsAccess: true, Allowed: []string{"b", "c"},
	})
	assert.Equal(t, registry.AspectAccess|registry.AspectScope, res.Pending)
	assert.Zero(t, res.Unfinished)
	assert.JSONEq(t, `{"v":10}`, string(res.Record.Config))
	assert.EqualValues(t, 10, res.Record.ConfigVersion)
	assert.Equal(t, registry.ScopePublic, res.Record.Scope)
	assert.EqualValues(t, 5, res.Record.ScopeVersion)
	assert.EqualValues(t, 5, res.Record.AccessVersion)
	assert.EqualValues(t, 3, res.Record.Rev)
	assert.GreaterOrEqual(t, res.Record.AccessChangedAtMs, changedAt)
	assert.EqualValues(t, 10, res.Record.Version())
	assert.Equal(t, []string{"b", "c"}, sorted(members(t, c, allowed)), "the allowed set is replaced, not merged")
	finish(t, reg, registry.TierApp)

	// A duplicate (same version) and a stale event change nothing.
	for _, v := range []int64{5, 4} {
		res = applyChange(t, reg, registry.Change{
			Version: v, Config: json.RawMessage(`{"v":0}`), Scope: registry.ScopeDeleted,
			SetsAccess: true, Allowed: []string{"z"},
		})
		assert.Zero(t, res.Pending, "version %d", v)
		assert.False(t, res.Diffed, "version %d", v)
		assert.Empty(t, res.Added, "version %d", v)
		assert.EqualValues(t, 3, res.Record.Rev, "version %d", v)
		assert.Equal(t, registry.ScopePublic, res.Record.Scope)
		assert.JSONEq(t, `{"v":10}`, string(res.Record.Config))
		assert.Zero(t, res.Record.Fanout)
	}
	assert.Equal(t, []string{"b", "c"}, sorted(members(t, c, allowed)))

	// Aspects are versioned independently: config moves on, scope stays.
	res = applyChange(t, reg, registry.Change{Version: 11, Config: json.RawMessage(`{"v":11}`)})
	assert.Equal(t, registry.AspectConfig, res.Pending)
	assert.EqualValues(t, 4, res.Record.Rev)
	assert.Equal(t, registry.TierApp, res.Record.Tier)
}

func TestIntegrationApplyChangeUnfinishedFanoutAccumulates(t *testing.T) {
	t.Parallel()
	reg, _ := newServer(t)
	res := applyChange(t, reg, registry.Change{Version: 1, Config: json.RawMessage(`{}`)})
	assert.Equal(t, registry.AspectConfig, res.Pending)
	assert.Zero(t, res.Unfinished)
	res = applyChange(t, reg, registry.Change{Version: 2, SetsAccess: true})
	assert.Equal(t, registry.AspectConfig|registry.AspectAccess, res.Pending)
	assert.Equal(t, registry.AspectConfig, res.Unfinished)
	res = applyChange(t, reg, registry.Change{Version: 1, Config: json.RawMessage(`{}`)})
	assert.Equal(t, registry.AspectConfig|registry.AspectAccess, res.Pending, "a redelivery finds the unfinished mask")
	assert.Equal(t, registry.AspectConfig|registry.AspectAccess, res.Unfinished)
	assert.EqualValues(t, 2, res.Record.Rev, "a stale change does not bump rev")
	res = applyChange(t, reg, registry.Change{Version: 3, Scope: registry.ScopePublic})
	assert.Equal(t, registry.AspectConfig|registry.AspectAccess|registry.AspectScope, res.Pending)
	assert.Equal(t, res.Pending, res.Record.Fanout)

	finish(t, reg, registry.TierUser)
	res = applyChange(t, reg, registry.Change{Version: 3, Scope: registry.ScopePublic})
	assert.Zero(t, res.Pending)
	assert.Zero(t, res.Unfinished)
	assert.Zero(t, res.Record.Fanout)
	assert.EqualValues(t, 3, res.Record.Rev)
}

// Versions are compared as 20-digit strings: exact above 2^53, where Lua's
// doubles would make the two versions equal (and the newer one a duplicate).
func TestIntegrationApplyChangeVersionsCompareExactly(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		older, newer  int64
		olderPadded   string
		newerRecorded string
	}{
		{"2^53+1 after 2^53", 9007199254740992, 9007199254740993, "00009007199254740992", "00009007199254740993"},
		{"1700000000000000001 after 1700000000000000000", 1700000000000000000, 1700000000000000001, "01700000000000000000", "01700000000000000001"},
		{"max int64 after max-1", 9223372036854775806, 9223372036854775807, "09223372036854775806", "09223372036854775807"},
		{"10 after 9 (lengths differ)", 9, 10, "00000000000000000009", "00000000000000000010"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			all := func(v int64, who string) registry.Change {
				return registry.Change{
					Version: v, Config: json.RawMessage(`{"who":"` + who + `"}`), Scope: registry.ScopePrivate,
					SetsAccess: true, Allowed: []string{who},
				}
			}
			reg, c := newServer(t)
			res := applyChange(t, reg, all(tt.older, "older"))
			require.Equal(t, registry.Aspects(7), res.Pending)
			assert.Equal(t, tt.olderPadded, hgetAll(t, c, reg.Keys().ServerRecord("srv"))["accessVersion"])
			finish(t, reg, "")

			res = applyChange(t, reg, all(tt.newer, "newer"))
			assert.Equal(t, registry.Aspects(7), res.Pending, "the newer version applies to every aspect")
			assert.Equal(t, tt.newer, res.Record.AccessVersion, "parses back exactly")
			assert.Equal(t, tt.newer, res.Record.ConfigVersion)
			assert.Equal(t, tt.newer, res.Record.ScopeVersion)
			assert.Equal(t, tt.newer, res.Record.Version())
			assert.JSONEq(t, `{"who":"newer"}`, string(res.Record.Config))
			assert.Equal(t, []string{"newer"}, members(t, c, reg.Keys().ServerAllowed("srv")))
			assert.EqualValues(t, 2, res.Record.Rev)
			assert.Equal(t, tt.newerRecorded, hgetAll(t, c, reg.Keys().ServerRecord("srv"))["accessVersion"])
			rec, err := reg.Record(t.Context(), "srv")
			require.NoError(t, err)
			assert.Equal(t, tt.newer, rec.AccessVersion, "Record parses it back exactly")
			finish(t, reg, "")

			res = applyChange(t, reg, all(tt.older, "late"))
			assert.Zero(t, res.Pending, "the older version redelivered after the newer one changes nothing")
			assert.JSONEq(t, `{"who":"newer"}`, string(res.Record.Config))
			assert.Equal(t, []string{"newer"}, members(t, c, reg.Keys().ServerAllowed("srv")))
		})
	}
}

// A record the first layout wrote keeps its versions as plain numbers; they
// compare by value, not as strings.
func TestIntegrationApplyChangeFirstLayoutVersions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		stored  string // cfgVersion, accessVersion and scopeVersion as layout 1 wrote them
		version int64
		applies bool
	}{
		{"newer with more digits applies", "5", 10, true},
		{"newer with as many digits applies", "5", 6, true},
		{"older refused", "5", 3, false},
		{"same refused", "5", 5, false},
		{"older with fewer digits refused", "10", 9, false},
		{"19 digits, newer applies", "1700000000000000000", 1700000000000000001, true},
		{"19 digits, same refused", "1700000000000000000", 1700000000000000000, false},
		{"16 digits, 2^53+1 after 2^53 applies", "9007199254740992", 9007199254740993, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			reg, c := newServer(t)
			k := reg.Keys()
			require.NoError(t, c.HSet(t.Context(), k.ServerRecord("srv"),
				"scope", "private", "config", `{"v":"old"}`, "rev", "2", "dbId", "id1",
				"cfgVersion", tt.stored, "accessVersion", tt.stored, "scopeVersion", tt.stored).Err())
			require.NoError(t, c.SAdd(t.Context(), k.ServerAllowed("srv"), "old").Err())

			res := applyChange(t, reg, registry.Change{
				Version: tt.version, Config: json.RawMessage(`{"v":"new"}`), Scope: registry.ScopePublic,
				SetsAccess: true, Allowed: []string{"new"},
			})
			stored, err := strconv.ParseInt(tt.stored, 10, 64)
			require.NoError(t, err)
			if tt.applies {
				assert.Equal(t, registry.Aspects(7), res.Pending)
				assert.JSONEq(t, `{"v":"new"}`, string(res.Record.Config))
				assert.Equal(t, registry.ScopePublic, res.Record.Scope)
				assert.Equal(t, tt.version, res.Record.ConfigVersion)
				assert.Equal(t, tt.version, res.Record.AccessVersion)
				assert.EqualValues(t, 3, res.Record.Rev)
				assert.True(t, res.Diffed, "a layout-1 accessVersion is a known allowed set")
				assert.Equal(t, []string{"new"}, res.Added)
				assert.Equal(t, []string{"new"}, members(t, c, k.ServerAllowed("srv")))
				assert.Equal(t, []string{"old"}, members(t, c, k.ServerRevoke("srv")))
				assert.Equal(t, fmt.Sprintf("%020d", tt.version), hgetAll(t, c, k.ServerRecord("srv"))["cfgVersion"])
			} else {
				assert.Zero(t, res.Pending)
				assert.JSONEq(t, `{"v":"old"}`, string(res.Record.Config))
				assert.Equal(t, registry.ScopePrivate, res.Record.Scope)
				assert.Equal(t, stored, res.Record.ConfigVersion)
				assert.EqualValues(t, 2, res.Record.Rev)
				assert.Equal(t, []string{"old"}, members(t, c, k.ServerAllowed("srv")))
				assert.Empty(t, members(t, c, k.ServerRevoke("srv")))
			}
		})
	}
}

// apply_record's diffed and added: what the allowed set gained from a known
// set, and the revoke set of what it lost.
func TestIntegrationApplyChangeAccessDiff(t *testing.T) {
	t.Parallel()
	t.Run("first access is not a diff", func(t *testing.T) {
		t.Parallel()
		reg, c := newServer(t)
		k := reg.Keys()
		// An allowed set without accessVersion (not from an applied event) is not known.
		require.NoError(t, c.SAdd(t.Context(), k.ServerAllowed("srv"), "a").Err())
		res := applyChange(t, reg, registry.Change{Version: 1, SetsAccess: true, Allowed: []string{"a", "b", "c"}})
		assert.Equal(t, registry.AspectAccess, res.Pending)
		assert.False(t, res.Diffed)
		assert.Empty(t, res.Added)
		assert.Empty(t, members(t, c, k.ServerRevoke("srv")))
	})
	t.Run("a,b,c to b,c,d", func(t *testing.T) {
		t.Parallel()
		reg, c := newServer(t)
		k := reg.Keys()
		res := applyChange(t, reg, registry.Change{Version: 1, SetsAccess: true, Allowed: []string{"a", "b", "c"}})
		require.False(t, res.Diffed)
		finish(t, reg, "")
		res = applyChange(t, reg, registry.Change{Version: 2, SetsAccess: true, Allowed: []string{"b", "c", "d"}})
		assert.Equal(t, registry.AspectAccess, res.Pending)
		assert.True(t, res.Diffed)
		assert.Equal(t, []string{"d"}, res.Added)
		assert.Equal(t, []string{"a"}, members(t, c, k.ServerRevoke("srv")))
		assert.Equal(t, []string{"b", "c", "d"}, sorted(members(t, c, k.ServerAllowed("srv"))))

		// A stale access event diffs nothing and revokes nobody.
		res = applyChange(t, reg, registry.Change{Version: 1, SetsAccess: true, Allowed: []string{"x"}})
		assert.False(t, res.Diffed)
		assert.Empty(t, res.Added)
		assert.Equal(t, []string{"a"}, members(t, c, k.ServerRevoke("srv")))

		// Revoke set accumulates until a fan-out drains it.
		res = applyChange(t, reg, registry.Change{Version: 3, SetsAccess: true, Allowed: []string{"d"}})
		assert.True(t, res.Diffed)
		assert.Empty(t, res.Added)
		assert.Equal(t, []string{"a", "b", "c"}, sorted(members(t, c, k.ServerRevoke("srv"))))
	})
	t.Run("to nobody", func(t *testing.T) {
		t.Parallel()
		reg, c := newServer(t)
		k := reg.Keys()
		applyChange(t, reg, registry.Change{Version: 1, SetsAccess: true, Allowed: []string{"a", "b"}})
		res := applyChange(t, reg, registry.Change{Version: 2, SetsAccess: true})
		assert.True(t, res.Pending.Has(registry.AspectAccess))
		assert.True(t, res.Diffed)
		assert.Empty(t, res.Added)
		assert.EqualValues(t, 2, res.Record.AccessVersion)
		assert.False(t, exists(t, c, k.ServerAllowed("srv")))
		assert.Equal(t, []string{"a", "b"}, sorted(members(t, c, k.ServerRevoke("srv"))))
		in, err := reg.AllowedAmong(t.Context(), "srv", []string{"a", "b"})
		require.NoError(t, err)
		assert.Equal(t, []bool{false, false}, in)
		// From nobody (a known, empty set) everyone is added.
		res = applyChange(t, reg, registry.Change{Version: 3, SetsAccess: true, Allowed: []string{"c"}})
		assert.True(t, res.Diffed)
		assert.Equal(t, []string{"c"}, res.Added)
	})
	t.Run("more than 1000 users either way", func(t *testing.T) {
		t.Parallel()
		reg, c := newServer(t)
		k := reg.Keys()
		users := make([]string, 2500)
		for i := range users {
			users[i] = fmt.Sprintf("user-%05d", i)
		}
		res := applyChange(t, reg, registry.Change{Version: 1, SetsAccess: true, Allowed: users[:2400]})
		assert.Equal(t, registry.AspectAccess, res.Pending)
		n, err := c.SCard(t.Context(), k.ServerAllowed("srv")).Result()
		require.NoError(t, err)
		assert.EqualValues(t, 2400, n)
		res = applyChange(t, reg, registry.Change{Version: 2, SetsAccess: true, Allowed: users[1100:]})
		assert.True(t, res.Diffed)
		assert.Equal(t, users[2400:], sorted(res.Added))
		assert.Equal(t, users[:1100], sorted(members(t, c, k.ServerRevoke("srv"))))
	})
}

// A deleted server loses its value and id at once; re-created, it learns its new id.
func TestIntegrationApplyChangeDeleteDropsValueAndID(t *testing.T) {
	t.Parallel()
	reg, c := newServer(t)
	k := reg.Keys()
	res := applyChange(t, reg, registry.Change{
		Version: 1, Config: json.RawMessage(`{"url":"u"}`), Scope: registry.ScopePrivate,
		SetsAccess: true, Allowed: []string{"a"}, DBID: "id1",
	})
	require.Equal(t, "id1", res.Record.DBID)
	require.NoError(t, reg.PutValue(t.Context(), srvToken, res.Record, ""))
	require.True(t, exists(t, c, k.ServerValue("srv")))
	finish(t, reg, "")

	res = applyChange(t, reg, registry.Change{Version: 2, Scope: registry.ScopeDeleted})
	assert.Equal(t, registry.AspectScope, res.Pending)
	assert.Equal(t, registry.ScopeDeleted, res.Record.Scope)
	assert.Empty(t, res.Record.DBID)
	assert.False(t, res.Record.HasValue)
	assert.False(t, exists(t, c, k.ServerValue("srv")), "value gone for every reader")
	assert.NotContains(t, hgetAll(t, c, k.ServerRecord("srv")), "dbId")
	finish(t, reg, "")

	res = applyChange(t, reg, registry.Change{
		Version: 3, Config: json.RawMessage(`{"url":"v"}`), Scope: registry.ScopePrivate,
		SetsAccess: true, Allowed: []string{"a"},
	})
	assert.Equal(t, registry.ScopePrivate, res.Record.Scope)
	assert.Empty(t, res.Record.DBID, "the re-created server has no id until one is learned")
	require.NoError(t, reg.PutValue(t.Context(), srvToken, res.Record, ""))
	var v map[string]any
	require.NoError(t, json.Unmarshal([]byte(get(t, c, k.ServerValue("srv"))), &v))
	assert.NotContains(t, v, "dbId")
	assert.Equal(t, "v", v["url"])
}

// A delete event may carry the deleted document's id (dbId is optional on
// every server event). It must not survive the delete: the re-created server
// would otherwise be served with the old document's id.
func TestIntegrationApplyChangeDeleteCarryingDBIDDropsID(t *testing.T) {
	t.Parallel()
	reg, c := newServer(t)
	k := reg.Keys()
	res := applyChange(t, reg, registry.Change{
		Version: 1, Config: json.RawMessage(`{"url":"u"}`), Scope: registry.ScopePrivate,
		SetsAccess: true, Allowed: []string{"a"}, DBID: "old-id",
	})
	require.NoError(t, reg.PutValue(t.Context(), srvToken, res.Record, ""))
	finish(t, reg, "")

	res = applyChange(t, reg, registry.Change{Version: 2, Scope: registry.ScopeDeleted, DBID: "old-id"})
	assert.False(t, exists(t, c, k.ServerValue("srv")))
	assert.Empty(t, res.Record.DBID, "the deleted document's id is dropped with it")
	finish(t, reg, "")

	res = applyChange(t, reg, registry.Change{
		Version: 3, Config: json.RawMessage(`{"url":"v"}`), Scope: registry.ScopePrivate,
		SetsAccess: true, Allowed: []string{"a"},
	})
	assert.Empty(t, res.Record.DBID, "the re-created server must not inherit the deleted document's id")
}

func TestIntegrationApplyChangeDBID(t *testing.T) {
	t.Parallel()
	reg, _ := newServer(t)
	res := applyChange(t, reg, registry.Change{Version: 5, Config: json.RawMessage(`{}`)})
	assert.Empty(t, res.Record.DBID)
	res = applyChange(t, reg, registry.Change{Version: 5, Config: json.RawMessage(`{}`), DBID: "id1"})
	assert.Zero(t, res.Pending&^res.Unfinished, "a duplicate applies nothing")
	assert.Empty(t, res.Record.DBID, "a duplicate teaches no id: only applied events are trusted")
	res = applyChange(t, reg, registry.Change{Version: 4, Config: json.RawMessage(`{}`), DBID: "stale"})
	assert.Empty(t, res.Record.DBID, "nor does a stale one (it may name a deleted document)")
	res = applyChange(t, reg, registry.Change{Version: 6, Config: json.RawMessage(`{}`), DBID: "id2"})
	assert.Equal(t, "id2", res.Record.DBID, "an applied event brings its id")
	res = applyChange(t, reg, registry.Change{Version: 7, Config: json.RawMessage(`{"x":1}`)})
	assert.Equal(t, "id2", res.Record.DBID, "an event without an id keeps it")
}

// apply_record's {-1, ...}: the lock does not hold the token; nothing written.
func TestIntegrationApplyChangeFenced(t *testing.T) {
	t.Parallel()
	for _, lock := range []string{"other", ""} {
		t.Run("lock="+lock, func(t *testing.T) {
			t.Parallel()
			reg, c := newRegistry(t)
			k := reg.Keys()
			if lock != "" {
				holdLock(t, c, k.ServerLock("srv"), lock)
			}
			_, err := reg.ApplyChange(t.Context(), srvToken, registry.Change{
				Server: "srv", Version: 1, DBID: "id",
				Config: json.RawMessage(`{}`), Scope: registry.ScopePublic, SetsAccess: true, Allowed: []string{"a"},
			})
			require.ErrorIs(t, err, registry.ErrFenced)
			for _, key := range []string{k.ServerRecord("srv"), k.ServerAllowed("srv"), k.ServerAllowedNext("srv"), k.ServerRevoke("srv")} {
				assert.False(t, exists(t, c, key), key)
			}
		})
	}
}
