package registry_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcp-registry/worker/internal/registry"
)

// put_value returns 1 (written), 0 (deleted server: value removed) or -1
// (fenced: nothing written).
func TestIntegrationPutValue(t *testing.T) {
	t.Parallel()
	cfg := json.RawMessage(`{"url":"https://x","type":"streamable-http"}`)
	t.Run("written (1)", func(t *testing.T) {
		t.Parallel()
		tests := []struct {
			name      string
			recordID  string // dbId the event gave the record
			argID     string // dbId passed to PutValue
			wantID    string
			wantInRec string
		}{
			{"id from the record", "rec-id", "", "rec-id", "rec-id"},
			{"id given is noted", "", "new-id", "new-id", "new-id"},
			{"id given replaces", "rec-id", "new-id", "new-id", "new-id"},
			{"no id", "", "", "", ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				reg, c := newServer(t)
				k := reg.Keys()
				applyChange(t, reg, registry.Change{Version: 1, Scope: registry.ScopePrivate})
				res := applyChange(t, reg, registry.Change{Version: 2, Config: cfg, UpdatedAtMs: 1700000000123, DBID: tt.recordID})
				require.EqualValues(t, 2, res.Record.Rev)
				require.NoError(t, reg.PutValue(t.Context(), srvToken, res.Record, tt.argID))

				want, err := registry.Value(cfg, tt.wantID, 1700000000123)
				require.NoError(t, err)
				assert.Equal(t, string(want), get(t, c, k.ServerValue("srv")))
				fields := hgetAll(t, c, k.ServerRecord("srv"))
				assert.Equal(t, "2", fields["valRev"], "notes the revision the value reflects")
				assert.Equal(t, tt.wantInRec, fields["dbId"])
				rec, err := reg.Record(t.Context(), "srv")
				require.NoError(t, err)
				assert.True(t, rec.HasValue)
				got, err := rec.Value()
				require.NoError(t, err)
				assert.Equal(t, string(want), string(got), "the record rebuilds the same bytes")
			})
		}
	})
	t.Run("deleted (0): value removed", func(t *testing.T) {
		t.Parallel()
		reg, c := newServer(t)
		k := reg.Keys()
		res := applyChange(t, reg, registry.Change{Version: 1, Config: cfg, Scope: registry.ScopePrivate})
		stale := res.Record
		require.NoError(t, reg.PutValue(t.Context(), srvToken, stale, "id"))
		res = applyChange(t, reg, registry.Change{Version: 2, Scope: registry.ScopeDeleted})
		// A value written from the pre-delete record (e.g. the value key came back) is refused.
		require.NoError(t, c.Set(t.Context(), k.ServerValue("srv"), "leftover", 0).Err())
		require.NoError(t, reg.PutValue(t.Context(), srvToken, stale, "other-id"))
		assert.False(t, exists(t, c, k.ServerValue("srv")))
		fields := hgetAll(t, c, k.ServerRecord("srv"))
		assert.NotContains(t, fields, "dbId", "no id noted for a deleted server")
		assert.NotContains(t, fields, "valRev")
		assert.Equal(t, res.Record.Rev, stale.Rev+1)
	})
	t.Run("fenced (-1)", func(t *testing.T) {
		t.Parallel()
		reg, c := newServer(t)
		k := reg.Keys()
		res := applyChange(t, reg, registry.Change{Version: 1, Config: cfg})
		holdLock(t, c, k.ServerLock("srv"), "other")
		err := reg.PutValue(t.Context(), srvToken, res.Record, "id")
		require.ErrorIs(t, err, registry.ErrFenced)
		assert.False(t, exists(t, c, k.ServerValue("srv")))
		fields := hgetAll(t, c, k.ServerRecord("srv"))
		assert.NotContains(t, fields, "dbId")
		assert.NotContains(t, fields, "valRev")
	})
	t.Run("config not an object", func(t *testing.T) {
		t.Parallel()
		reg, c := newServer(t)
		err := reg.PutValue(t.Context(), srvToken, registry.Record{Name: "srv", Config: json.RawMessage(`[1]`)}, "")
		require.Error(t, err)
		assert.False(t, exists(t, c, reg.Keys().ServerValue("srv")))
	})
}
