package registry_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcp-registry/worker/internal/registry"
)

func TestIntegrationClaimServers(t *testing.T) {
	t.Parallel()
	reg, c := newRegistry(t)
	k := reg.Keys()
	known := createServer(t, reg, c, "known", 4, registry.ScopePrivate, `{"url":"k"}`, "u1")
	require.Positive(t, known.AccessChangedAtMs)
	noAccess := createServer(t, reg, c, "public", 2, registry.ScopePublic, `{"url":"p"}`)
	require.NoError(t, c.SAdd(t.Context(), k.ServerAllowed("public"), "u1").Err())

	tests := []struct {
		name        string
		user        string
		accessSince int64
		wantAllowed []bool // known, public, new
	}{
		{"allowed read when access changed since", "u1", known.AccessChangedAtMs, []bool{true, false, false}},
		{"allowed read from the start of time", "u1", 0, []bool{true, false, false}},
		{"not read when access changed before", "u1", known.AccessChangedAtMs + 1, []bool{false, false, false}},
		{"a user not allowed", "u2", 0, []bool{false, false, false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			states, err := reg.ClaimServers(t.Context(), tt.user, []string{"known", "public", "new"}, tt.accessSince)
			require.NoError(t, err)
			require.Len(t, states, 3)
			assert.Equal(t, known, states[0].Record, "the whole record is read")
			assert.Equal(t, noAccess, states[1].Record)
			assert.Equal(t, registry.Record{Name: "new"}, states[2].Record)
			assert.Equal(t, tt.wantAllowed, []bool{states[0].Allowed, states[1].Allowed, states[2].Allowed})
			for _, name := range []string{"known", "public", "new"} {
				assert.Equal(t, "1", hgetAll(t, c, k.ServerHolders(name, registry.HolderBucket(tt.user)))[tt.user],
					"%s: the user is in the holder index", name)
			}
		})
	}
	assert.False(t, exists(t, c, k.ServerRecord("new")), "claiming writes no record")
	states, err := reg.ClaimServers(t.Context(), "u2", nil, 0)
	require.NoError(t, err)
	assert.Empty(t, states)
}

// adopt_value returns 1 (written) or 0 (the record changed since the load read
// it, or the server is deleted: nothing written); AdoptValues discards it.
func TestIntegrationAdoptValues(t *testing.T) {
	t.Parallel()
	cfg := json.RawMessage(`{"url":"from-mongo"}`)
	const at = 1700000000555
	tests := []struct {
		name string
		// setup prepares the record and returns the revision the load read.
		setup   func(t *testing.T, reg *registry.Registry, c redis.UniversalClient) int64
		dbID    string
		written bool
		wantID  string // record's dbId after (the value carries the adoption's own)
	}{
		{"no record (1)", func(*testing.T, *registry.Registry, redis.UniversalClient) int64 { return 0 }, "mongo-id", true, "mongo-id"},
		{"no record, no id (1)", func(*testing.T, *registry.Registry, redis.UniversalClient) int64 { return 0 }, "", true, ""},
		{"record unchanged since the read (1)", func(t *testing.T, reg *registry.Registry, c redis.UniversalClient) int64 {
			return change(t, reg, c, registry.Change{Server: "srv", Version: 1, Scope: registry.ScopePrivate, SetsAccess: true, Allowed: []string{"u1"}}).Record.Rev
		}, "mongo-id", true, "mongo-id"},
		{"record unchanged, id kept when none given (1)", func(t *testing.T, reg *registry.Registry, c redis.UniversalClient) int64 {
			return change(t, reg, c, registry.Change{Server: "srv", Version: 1, Scope: registry.ScopePrivate, DBID: "event-id"}).Record.Rev
		}, "", true, "event-id"},
		{"record changed since the read (0)", func(t *testing.T, reg *registry.Registry, c redis.UniversalClient) int64 {
			read := change(t, reg, c, registry.Change{Server: "srv", Version: 1, Scope: registry.ScopePrivate}).Record.Rev
			change(t, reg, c, registry.Change{Server: "srv", Version: 2, Config: json.RawMessage(`{"url":"from-event"}`)})
			return read
		}, "mongo-id", false, ""},
		{"record created since the read (0)", func(t *testing.T, reg *registry.Registry, c redis.UniversalClient) int64 {
			change(t, reg, c, registry.Change{Server: "srv", Version: 1, Scope: registry.ScopePrivate})
			return 0
		}, "mongo-id", false, ""},
		{"deleted (0)", func(t *testing.T, reg *registry.Registry, c redis.UniversalClient) int64 {
			return change(t, reg, c, registry.Change{Server: "srv", Version: 1, Scope: registry.ScopeDeleted}).Record.Rev
		}, "mongo-id", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			reg, c := newRegistry(t)
			k := reg.Keys()
			read := tt.setup(t, reg, c)
			before := hgetAll(t, c, k.ServerRecord("srv"))
			require.NoError(t, reg.AdoptValues(t.Context(), []registry.Adoption{
				{Server: "srv", Rev: read, Config: cfg, DBID: tt.dbID, UpdatedAtMs: at},
			}))
			after := hgetAll(t, c, k.ServerRecord("srv"))
			if !tt.written {
				assert.False(t, exists(t, c, k.ServerValue("srv")), "no value written")
				assert.Equal(t, before, after, "record untouched")
				return
			}
			want, err := registry.Value(cfg, tt.dbID, at)
			require.NoError(t, err)
			assert.Equal(t, string(want), get(t, c, k.ServerValue("srv")))
			rec, err := reg.Record(t.Context(), "srv")
			require.NoError(t, err)
			assert.JSONEq(t, string(cfg), string(rec.Config))
			assert.EqualValues(t, at, rec.UpdatedAtMs)
			assert.Equal(t, tt.wantID, rec.DBID)
			assert.True(t, rec.HasValue)
			assert.Equal(t, read, rec.Rev, "revision unchanged")
			assert.Equal(t, before["cfgVersion"], after["cfgVersion"], "versions unchanged")
			assert.Equal(t, before["scope"], after["scope"])
			assert.Equal(t, fmt.Sprint(read), after["valRev"])
		})
	}
}

func TestIntegrationAdoptValuesMany(t *testing.T) {
	t.Parallel()
	reg, c := newRegistry(t)
	k := reg.Keys()
	stale := change(t, reg, c, registry.Change{Server: "b", Version: 1, Scope: registry.ScopePrivate}).Record.Rev
	change(t, reg, c, registry.Change{Server: "b", Version: 2, Scope: registry.ScopePrivate})
	require.NoError(t, reg.AdoptValues(t.Context(), []registry.Adoption{
		{Server: "a", Config: json.RawMessage(`{"n":"a"}`), UpdatedAtMs: 1},
		{Server: "b", Rev: stale, Config: json.RawMessage(`{"n":"b"}`), UpdatedAtMs: 1},
		{Server: "c", Config: json.RawMessage(`{"n":"c"}`), UpdatedAtMs: 1},
	}))
	assert.True(t, exists(t, c, k.ServerValue("a")))
	assert.False(t, exists(t, c, k.ServerValue("b")), "each adoption is checked on its own")
	assert.True(t, exists(t, c, k.ServerValue("c")))
	require.NoError(t, reg.AdoptValues(t.Context(), nil))
	err := reg.AdoptValues(t.Context(), []registry.Adoption{{Server: "d", Config: json.RawMessage(`[1]`)}})
	require.Error(t, err, "a config that is not an object")
	assert.False(t, exists(t, c, k.ServerValue("d")))
}
