package serverdb_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/mcp-registry/worker/internal/devstack"
)

// TestIntegrationNamesRoundTrip checks that names with Redis-glob, hash-tag
// and unicode characters come back byte for byte, from serverName, mcp_id,
// role, idOnTheSource and non-hex user ids alike.
func TestIntegrationNamesRoundTrip(t *testing.T) {
	t.Parallel()
	m := startMongo(t)
	odd := []string{
		"a:b", "*", "srv*?[x]", "{tag}", "}{", "with space", " leading", "ünïcødé", "日本語サーバー",
		"emoji 🚀", "mix:{*} é", "dots.and/slash\\", "$dollar", "quote\"'",
	}
	for _, name := range odd {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, m)
			u := e.user(name, name) // role and idOnTheSource both odd
			e.grantUser(e.server(name), u, devstack.PermView)
			legacy, err := e.lc.AddLegacyServer(e.ctx, "legacy "+name, nil, time.Time{})
			require.NoError(t, err)
			e.grantGroup(legacy, e.group(name, name), devstack.PermView)
			e.grantRole(e.server("role "+name), name, devstack.PermView)
			e.grantGroup(e.server("raw "+name), e.group("raw", "raw-id "+name), devstack.PermView)

			got, err := e.store.AccessibleServers(t.Context(), u.Hex())
			require.NoError(t, err)
			assert.ElementsMatch(t, []string{name, "legacy " + name, "role " + name}, names(got))

			got, err = e.store.AccessibleServers(t.Context(), "raw-id "+name)
			require.NoError(t, err)
			assert.Equal(t, []string{"raw " + name}, names(got))
		})
	}
}

// TestIntegrationServerValues checks Config, DBID and UpdatedAtMs exactly.
func TestIntegrationServerValues(t *testing.T) {
	t.Parallel()
	m := startMongo(t)

	t.Run("config as stored, field order kept", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, m)
		u := e.user("USER", "")
		id := bson.NewObjectID()
		// FerretDB v1 refuses arrays directly inside arrays ("nested arrays
		// are not supported"); MongoDB stores them, and they convert the same.
		cfg := bson.D{
			{Key: "type", Value: "streamable-http"},
			{Key: "url", Value: "https://mcp.example.test/v1?a=1&b=<2>"},
			{Key: "headers", Value: bson.D{{Key: "Authorization", Value: "Bearer s3cr3t"}, {Key: "X-Empty", Value: ""}}},
			{Key: "args", Value: bson.A{"-y", int32(1), 2.5, true, nil, bson.D{{Key: "k", Value: bson.A{}}}}},
			{Key: "int", Value: int32(42)},
			{Key: "negative", Value: int32(-7)},
			{Key: "long", Value: int64(1) << 53},
			{Key: "fraction", Value: 0.1},
			{Key: "requiresOAuth", Value: true},
			{Key: "startup", Value: false},
			{Key: "nothing", Value: nil},
			{Key: "empty", Value: bson.D{}},
			{Key: "nested", Value: bson.D{{Key: "deep", Value: bson.D{{Key: "deeper", Value: bson.A{bson.D{{Key: "x", Value: bson.A{"y"}}}}}}}}},
			{Key: "text", Value: "tab\tquote\" backslash\\ newline\n ünï 🚀"},
		}
		updated := time.UnixMilli(1_712_345_678_901)
		e.insert("mcpservers", bson.D{
			{Key: "_id", Value: id},
			{Key: "serverName", Value: "s"},
			{Key: "config", Value: cfg},
			{Key: "updatedAt", Value: updated},
		})
		e.grantUser(id, u, devstack.PermView)

		got, err := e.store.AccessibleServers(t.Context(), u.Hex())
		require.NoError(t, err)
		require.Len(t, got, 1)
		assert.Equal(t, id.Hex(), got[0].DBID)
		assert.Equal(t, int64(1_712_345_678_901), got[0].UpdatedAtMs)
		require.True(t, json.Valid(got[0].Config), "config is JSON: %s", got[0].Config)
		want := `{"type":"streamable-http","url":"https://mcp.example.test/v1?a=1&b=<2>",` +
			`"headers":{"Authorization":"Bearer s3cr3t","X-Empty":""},` +
			`"args":["-y",1,2.5,true,null,{"k":[]}],"int":42,"negative":-7,"long":9007199254740992,` +
			`"fraction":0.1,"requiresOAuth":true,"startup":false,"nothing":null,"empty":{},` +
			`"nested":{"deep":{"deeper":[{"x":["y"]}]}},"text":"tab\tquote\" backslash\\ newline\n ünï 🚀"}`
		assert.JSONEq(t, want, string(got[0].Config))
		assertSameKeyOrder(t, want, string(got[0].Config))
	})

	t.Run("config from the fixture's map", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, m)
		u := e.user("USER", "")
		cfg := map[string]any{
			"command": "npx", "args": []any{"-y", "@scope/pkg"}, "env": map[string]any{"TOKEN": "x"},
			"timeout": 30000, "ratio": 0.5, "flags": []any{true, false, nil},
		}
		id, err := e.lc.AddServer(e.ctx, "map", cfg, time.UnixMilli(5))
		require.NoError(t, err)
		e.grantPublic(id, devstack.PermView)

		got, err := e.store.AccessibleServers(t.Context(), u.Hex())
		require.NoError(t, err)
		require.Len(t, got, 1)
		want, err := json.Marshal(cfg)
		require.NoError(t, err)
		assert.JSONEq(t, string(want), string(got[0].Config))
		assert.Equal(t, int64(5), got[0].UpdatedAtMs)
	})

	t.Run("absent config and updatedAt", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, m)
		u := e.user("USER", "")
		id, err := e.lc.AddServer(e.ctx, "bare", nil, time.Time{})
		require.NoError(t, err)
		notObject := bson.NewObjectID()
		e.insert("mcpservers", bson.D{
			{Key: "_id", Value: notObject},
			{Key: "serverName", Value: "odd"},
			{Key: "config", Value: "a string"},
			{Key: "updatedAt", Value: "yesterday"},
		})
		e.grantUser(id, u, devstack.PermView)
		e.grantUser(notObject, u, devstack.PermView)

		got, err := e.store.AccessibleServers(t.Context(), u.Hex())
		require.NoError(t, err)
		require.Len(t, got, 2)
		for _, s := range got {
			assert.JSONEq(t, `{}`, string(s.Config), s.Name)
			assert.Zero(t, s.UpdatedAtMs, s.Name)
		}
	})

	t.Run("legacy mcp_id document with options and top-level title", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, m)
		u := e.user("USER", "")
		titled, err := e.lc.AddLegacyOptionsServer(e.ctx, "old", "Old Server",
			map[string]any{"type": "sse", "url": "https://old"}, time.UnixMilli(7))
		require.NoError(t, err)
		ownTitle, err := e.lc.AddLegacyOptionsServer(e.ctx, "own", "Top",
			map[string]any{"url": "https://own", "title": "Own"}, time.Time{})
		require.NoError(t, err)
		noOptions, err := e.lc.AddLegacyOptionsServer(e.ctx, "bare", "Bare", nil, time.Time{})
		require.NoError(t, err)
		for _, id := range []bson.ObjectID{titled, ownTitle, noOptions} {
			e.grantUser(id, u, devstack.PermView)
		}

		got, err := e.store.AccessibleServers(t.Context(), u.Hex())
		require.NoError(t, err)
		require.Equal(t, []string{"bare", "old", "own"}, names(got))
		assert.JSONEq(t, `{}`, string(got[0].Config))
		assert.JSONEq(t, `{"type":"sse","url":"https://old","title":"Old Server"}`, string(got[1].Config))
		assert.Equal(t, int64(7), got[1].UpdatedAtMs)
		assert.JSONEq(t, `{"url":"https://own","title":"Own"}`, string(got[2].Config))
	})

	t.Run("config update is read", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, m)
		u := e.user("USER", "")
		id := e.server("s")
		e.grantUser(id, u, devstack.PermView)
		require.NoError(t, e.lc.SetServerConfig(e.ctx, id, map[string]any{"url": "https://new"}, time.UnixMilli(9_000)))
		require.Error(t, e.lc.SetServerConfig(e.ctx, bson.NewObjectID(), map[string]any{}, time.Now()), "no such server")

		got, err := e.store.AccessibleServers(t.Context(), u.Hex())
		require.NoError(t, err)
		require.Len(t, got, 1)
		assert.JSONEq(t, `{"url":"https://new"}`, string(got[0].Config))
		assert.Equal(t, int64(9_000), got[0].UpdatedAtMs)
	})
}

// assertSameKeyOrder checks that the top-level keys of two JSON objects come
// in the same order (JSONEq ignores order).
func assertSameKeyOrder(t *testing.T, want, got string) {
	t.Helper()
	keys := func(s string) []string {
		dec := json.NewDecoder(strings.NewReader(s))
		var out []string
		_, err := dec.Token() // {
		require.NoError(t, err)
		for dec.More() {
			tok, err := dec.Token()
			require.NoError(t, err)
			out = append(out, tok.(string))
			var skip json.RawMessage
			require.NoError(t, dec.Decode(&skip))
		}
		return out
	}
	assert.Equal(t, keys(want), keys(got))
}
