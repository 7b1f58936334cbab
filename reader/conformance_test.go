package reader_test

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"maps"
	"os"
	"path/filepath"
	"sort"
	"strings"
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
	"github.com/mcp-registry/worker/reader"
	"github.com/mcp-registry/worker/reader/layout"
)

// The conformance suite: scenarios run through the worker's real flows, the
// keys readers read are dumped with the expected views into
// testdata/conformance/*.json, and every reader (this one, clients/node) must
// return exactly those views. `go test ./reader -run Conformance -update`
// rewrites the files; without -update the test fails when the worker no
// longer writes what the files say.
var update = flag.Bool("update", false, "rewrite testdata/conformance from the worker's flows")

const conformanceDir = "../testdata/conformance"

// fixtureCredsKey is the CREDS_KEY of the encrypted fixture (a test key).
const fixtureCredsKey = "4f1c0e7b9a3d5e2f6a8b0c1d2e3f405162738495a6b7c8d9e0f1a2b3c4d5e6f7"

// fixture is the file format every reader's conformance test loads.
type fixture struct {
	Name     string                     `json:"name"`
	About    string                     `json:"about"`
	CredsKey string                     `json:"credsKey"`
	Keys     []fixtureKey               `json:"keys"`
	Views    map[string]fixtureView     `json:"views"`
	Servers  map[string]json.RawMessage `json:"servers"`
}

type fixtureKey struct {
	Key   string `json:"key"` // without the prefix
	Type  string `json:"type"`
	Value any    `json:"value"` // string, or field -> value
	TTLMs int64  `json:"ttlMs"`
}

type fixtureView struct {
	Loaded    bool                       `json:"loaded"`
	Private   map[string]json.RawMessage `json:"private"`
	Effective map[string]reader.Entry    `json:"effective"`
}

// scenario builds one fixture's state through the flows and says what
// readers must see.
type scenario struct {
	name, about string
	credsKey    string
	users       []string
	servers     []string
	// logins maps users to the servers their MongoDB grants (read at login).
	logins map[string][]string
	// agentOnly names login servers reached only through an agent (consumeOnly).
	agentOnly map[string]bool
	// tenants maps users to their tenant (their login servers are that
	// tenant's, with the URL https://db/<tenant>).
	tenants map[string]string
	events  []events.Event
	// want is the expected effective view per user: name -> tier and the
	// config fields the value must have besides updatedAt/lastUpdatedAt/dbId.
	want map[string]map[string]wantEntry
	// loaded lists users expected loaded (the rest are not).
	loaded []string
	// others are servers no view shows whose value server(name) returns.
	others map[string]wantEntry
}

type wantEntry struct {
	tier   reader.Tier
	config map[string]any
	dbID   string
	at     int64
}

func ev(kind events.Kind, server string, version int64, config string, users ...string) events.Event {
	e := events.Event{Kind: kind, ServerName: server, Version: version, UpdatedAtMs: 1_760_000_000_000 + version}
	if config != "" {
		e.Config = json.RawMessage(config)
	}
	switch kind {
	case events.KindServerCreated:
		e.UserID = users[0]
	case events.KindServerAccess, events.KindServerUnshared:
		e.AllowedUserIDs = append([]string{}, users...)
		sort.Strings(e.AllowedUserIDs)
	}
	return e
}

func scenarios() []scenario {
	odd := []string{"a:b", "team{x}", "50%", "ユーザー*", "sp ace"}
	secret, key := encryptFixture("s3cr3t-client"), encryptFixture("sk-admin-key")
	return []scenario{{
		name: "odd-names", about: "ids and server names with ':', '{', '}', '%', '*', spaces and unicode; per-user isolation",
		users: odd, servers: []string{"srv:1", "{weird}", "100%", "サーバー*", "my server"},
		events: []events.Event{
			ev(events.KindServerAccess, "srv:1", 1, `{"url":"https://s1"}`, "a:b", "team{x}"),
			ev(events.KindServerAccess, "{weird}", 1, `{"url":"https://w"}`, "50%"),
			ev(events.KindServerAccess, "100%", 1, `{"url":"https://p"}`, "ユーザー*", "sp ace"),
			ev(events.KindServerAccess, "サーバー*", 1, `{"type":"stdio","command":"npx"}`, "sp ace"),
			ev(events.KindServerAccess, "my server", 1, `{"url":"https://m"}`),
		},
		others: map[string]wantEntry{"my server": {config: map[string]any{"url": "https://m"}, at: 1}},
		want: map[string]map[string]wantEntry{
			"a:b":     {"srv:1": {tier: reader.TierPrivate, config: map[string]any{"url": "https://s1"}, at: 1}},
			"team{x}": {"srv:1": {tier: reader.TierPrivate, config: map[string]any{"url": "https://s1"}, at: 1}},
			"50%":     {"{weird}": {tier: reader.TierPrivate, config: map[string]any{"url": "https://w"}, at: 1}},
			"ユーザー*":   {"100%": {tier: reader.TierPrivate, config: map[string]any{"url": "https://p"}, at: 1}},
			"sp ace":  {"100%": {tier: reader.TierPrivate, config: map[string]any{"url": "https://p"}, at: 1}, "サーバー*": {tier: reader.TierPrivate, config: map[string]any{"type": "stdio", "command": "npx"}, at: 1}},
		},
		loaded: odd,
	}, {
		name: "tiers-and-clashes", about: "app beats user beats private; a promoted server leaves private registries; requiresOAuth/startup choose the tier",
		users: []string{"u1", "u2"}, servers: []string{"x", "y", "z", "w"},
		events: []events.Event{
			ev(events.KindServerAccess, "x", 1, `{"url":"https://x"}`, "u1"),
			ev(events.KindServerShared, "x", 2, `{"url":"https://x2"}`),
			ev(events.KindServerShared, "y", 1, `{"url":"https://y","requiresOAuth":true}`),
			ev(events.KindServerShared, "w", 1, `{"url":"https://w","startup":false,"RequiresOAuth":false}`),
			ev(events.KindServerAccess, "z", 1, `{"url":"https://z"}`, "u1"),
		},
		want: map[string]map[string]wantEntry{
			"u1": {
				"x": {tier: reader.TierApp, config: map[string]any{"url": "https://x2"}, at: 2},
				"y": {tier: reader.TierUser, config: map[string]any{"url": "https://y", "requiresOAuth": true}, at: 1},
				"w": {tier: reader.TierUser, config: map[string]any{"url": "https://w", "startup": false, "RequiresOAuth": false}, at: 1},
				"z": {tier: reader.TierPrivate, config: map[string]any{"url": "https://z"}, at: 1},
			},
			"u2": {
				"x": {tier: reader.TierApp, config: map[string]any{"url": "https://x2"}, at: 2},
				"y": {tier: reader.TierUser, config: map[string]any{"url": "https://y", "requiresOAuth": true}, at: 1},
				"w": {tier: reader.TierUser, config: map[string]any{"url": "https://w", "startup": false, "RequiresOAuth": false}, at: 1},
			},
		},
		loaded: []string{"u1", "u2"},
	}, {
		name: "zero-deleted-demoted", about: "a user loaded with zero servers, a user not loaded, a deleted server, a demoted server reaching only its new list, a login-written value with dbId, an agent-only server (consumeOnly in the user's view, not in the server's value)",
		users: []string{"zero", "kept", "dropped", "mongo"}, servers: []string{"gone", "demoted", "from-db", "via-agent"},
		logins:    map[string][]string{"mongo": {"from-db", "via-agent"}},
		agentOnly: map[string]bool{"via-agent": true},
		events: []events.Event{
			ev(events.KindServerAccess, "gone", 1, `{"url":"https://gone"}`, "kept"),
			ev(events.KindServerDeleted, "gone", 2, ""),
			ev(events.KindServerAccess, "demoted", 1, `{"url":"https://d"}`, "kept", "dropped"),
			ev(events.KindServerShared, "demoted", 2, `{"url":"https://d"}`),
			ev(events.KindServerUnshared, "demoted", 3, `{"url":"https://d"}`, "kept"),
		},
		want: map[string]map[string]wantEntry{
			"zero":    {},
			"kept":    {"demoted": {tier: reader.TierPrivate, config: map[string]any{"url": "https://d"}, at: 3}},
			"dropped": {},
			"mongo": {
				"from-db":   {tier: reader.TierPrivate, config: map[string]any{"url": "https://db"}, dbID: "65f0c0ffee0000000000abcd", at: 1_750_000_000_000},
				"via-agent": {tier: reader.TierPrivate, config: map[string]any{"url": "https://db", "consumeOnly": true}, dbID: "65f0c0ffee0000000000abcd", at: 1_750_000_000_000},
			},
			"nobody": {},
		},
		loaded: []string{"zero", "kept", "dropped", "mongo"},
	}, {
		name: "tenants", about: "two tenants with a server of the same name, and one tenant's shared server: each user sees only the own tenant's (names in Redis are tenant-qualified)",
		users: []string{"ua", "ug"}, servers: []string{layout.Qualify("acme", "github"), layout.Qualify("globex", "github"), layout.Qualify("acme", "tool")},
		tenants: map[string]string{"ua": "acme", "ug": "globex"},
		logins:  map[string][]string{"ua": {"github"}, "ug": {"github"}},
		events: []events.Event{
			func() events.Event {
				e := ev(events.KindServerShared, "tool", 1, `{"url":"https://tool"}`)
				e.TenantID = "acme"
				return e
			}(),
		},
		want: map[string]map[string]wantEntry{
			"ua": {
				"github": {tier: reader.TierPrivate, config: map[string]any{"url": "https://db/acme"}, dbID: "65f0c0ffee0000000000abcd", at: 1_750_000_000_000},
				"tool":   {tier: reader.TierApp, config: map[string]any{"url": "https://tool"}, at: 1},
			},
			"ug": {
				"github": {tier: reader.TierPrivate, config: map[string]any{"url": "https://db/globex"}, dbID: "65f0c0ffee0000000000abcd", at: 1_750_000_000_000},
			},
		},
		others: map[string]wantEntry{
			layout.Qualify("acme", "github"):   {config: map[string]any{"url": "https://db/acme"}, dbID: "65f0c0ffee0000000000abcd", at: 1_750_000_000_000},
			layout.Qualify("globex", "github"): {config: map[string]any{"url": "https://db/globex"}, dbID: "65f0c0ffee0000000000abcd", at: 1_750_000_000_000},
			layout.Qualify("acme", "tool"):     {config: map[string]any{"url": "https://tool"}, at: 1},
		},
		loaded: []string{"ua", "ug"},
	}, {
		name: "encrypted", about: "oauth.client_secret and apiKey.key encrypted with CREDS_KEY as LibreChat does (AES-256-CBC, '<iv hex>:<ct hex>'); a plain field stays as it is",
		credsKey: fixtureCredsKey, users: []string{"enc"}, servers: []string{"vault", "plain"},
		events: []events.Event{
			ev(events.KindServerAccess, "vault", 1, `{"url":"https://v","oauth":{"client_id":"cid","client_secret":"`+secret+`"},"apiKey":{"source":"admin","key":"`+key+`"}}`, "enc"),
			ev(events.KindServerAccess, "plain", 1, `{"url":"https://p","oauth":{"client_secret":"not-encrypted"}}`, "enc"),
		},
		want: map[string]map[string]wantEntry{
			"enc": {
				"vault": {tier: reader.TierPrivate, at: 1, config: map[string]any{
					"url":   "https://v",
					"oauth": map[string]any{"client_id": "cid", "client_secret": "s3cr3t-client"}, "apiKey": map[string]any{"source": "admin", "key": "sk-admin-key"},
				}},
				"plain": {tier: reader.TierPrivate, at: 1, config: map[string]any{"url": "https://p", "oauth": map[string]any{"client_secret": "not-encrypted"}}},
			},
		},
		loaded: []string{"enc"},
	}}
}

func tenantPath(tenant string) string {
	if tenant == "" {
		return ""
	}
	return "/" + tenant
}

// encryptFixture encrypts like LibreChat, with an IV derived from the text so
// that the fixture files are reproducible (LibreChat draws a random IV).
func encryptFixture(text string) string {
	k, _ := hex.DecodeString(fixtureCredsKey)
	block, _ := aes.NewCipher(k)
	sum := sha256.Sum256([]byte(text))
	iv := sum[:aes.BlockSize]
	n := aes.BlockSize - len(text)%aes.BlockSize
	plain := append([]byte(text), []byte(strings.Repeat(string(rune(n)), n))...)
	out := make([]byte, len(plain))
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(out, plain)
	return hex.EncodeToString(iv) + ":" + hex.EncodeToString(out)
}

// mapSource is an in-memory MongoDB for the scenarios' logins.
type mapSource map[string][]serverdb.Server

func (m mapSource) AccessibleServers(_ context.Context, user string) ([]serverdb.Server, error) {
	return m[user], nil
}

// build runs sc through the flows on rdb under prefix and returns its fixture.
func (sc scenario) build(ctx context.Context, t *testing.T, rdb redis.UniversalClient, prefix string) fixture {
	t.Helper()
	reg := registry.New(rdb, registry.Config{KeyPrefix: prefix, CacheTTL: time.Hour, PendingTTL: time.Minute})
	locks := lockstatus.New(rdb, lockstatus.Config{TTL: 5 * time.Second, WaitTries: 100, RetryDelay: 10 * time.Millisecond})
	src := mapSource{}
	for user, names := range sc.logins {
		for _, n := range names {
			src[user] = append(src[user], serverdb.Server{
				Name: n, DBID: "65f0c0ffee0000000000abcd",
				Config: json.RawMessage(`{"url":"https://db` + tenantPath(sc.tenants[user]) + `"}`), UpdatedAtMs: 1_750_000_000_000, ConsumeOnly: sc.agentOnly[n],
				Tenant: sc.tenants[user],
			})
		}
	}
	flows := handlers.Map(handlers.Params{Registry: reg, Locks: locks, Source: src})
	run := func(e events.Event) {
		err := flows[e.Kind].Handle(ctx, e)
		if errors.Is(err, events.ErrSkip) {
			err = nil
		}
		require.NoError(t, err, "%s %s", e.Kind, e.ServerName)
	}
	for _, u := range sc.users {
		run(events.Event{Kind: events.KindUserLogin, UserID: u})
	}
	for _, e := range sc.events {
		run(e)
	}
	f := fixture{Name: sc.name, About: sc.about, CredsKey: sc.credsKey, Views: map[string]fixtureView{}, Servers: map[string]json.RawMessage{}}
	k := layout.NewKeys(prefix)
	dump := func(key string, ttl bool) {
		typ, err := rdb.Type(ctx, key).Result()
		require.NoError(t, err)
		fk := fixtureKey{Key: strings.TrimPrefix(key, prefix), Type: typ}
		switch typ {
		case "none":
			return
		case "hash":
			h := rdb.HGetAll(ctx, key).Val()
			if _, ok := h[layout.LoadedField]; ok {
				h[layout.LoadedField] = "1700000000000" // the load time: fixed, so files are reproducible
			}
			fk.Value = h
		case "string":
			fk.Value = rdb.Get(ctx, key).Val()
		default:
			t.Fatalf("%s: unexpected type %s", key, typ)
		}
		if ttl {
			fk.TTLMs = 3_600_000
		}
		f.Keys = append(f.Keys, fk)
	}
	for _, u := range sc.users {
		dump(k.UserMembers(u), true)
	}
	for _, tier := range layout.SharedTiers {
		dump(k.Tier(tier), false)
	}
	names := append([]string{}, sc.servers...)
	sort.Strings(names)
	for _, s := range names {
		dump(k.ServerValue(s), false)
	}
	for name, w := range sc.others {
		f.Servers[name] = w.value(t)
	}
	for user, entries := range sc.want {
		v := fixtureView{Private: map[string]json.RawMessage{}, Effective: map[string]reader.Entry{}}
		for _, u := range sc.loaded {
			v.Loaded = v.Loaded || u == user
		}
		for name, w := range entries {
			raw := w.value(t)
			v.Effective[name] = reader.Entry{Tier: w.tier, Config: raw}
			if w.tier == reader.TierPrivate {
				v.Private[name] = raw
			}
			server := w
			server.config = maps.Clone(w.config)
			delete(server.config, "consumeOnly") // per user, never in the server's one value
			f.Servers[layout.Qualify(sc.tenants[user], name)] = server.value(t)
		}
		f.Views[user] = v
	}
	for _, s := range names {
		if _, ok := f.Servers[s]; !ok {
			f.Servers[s] = json.RawMessage("null")
		}
	}
	return f
}

// value is the expected value: the config plus updatedAt, lastUpdatedAt and dbId.
func (w wantEntry) value(t *testing.T) json.RawMessage {
	cfg := map[string]any{}
	for key, val := range w.config {
		cfg[key] = val
	}
	at := w.at
	if at < 1_000_000_000_000 { // a version: the events' updatedAt is base + version
		at += 1_760_000_000_000
	}
	cfg["updatedAt"], cfg["lastUpdatedAt"] = at, at
	if w.dbID != "" {
		cfg["dbId"] = w.dbID
	}
	raw, err := json.Marshal(cfg)
	require.NoError(t, err)
	return raw
}

// TestIntegrationConformanceFixturesMatchTheWorker rebuilds every fixture
// through the flows and compares it with the committed file (-update writes it).
func TestIntegrationConformanceFixturesMatchTheWorker(t *testing.T) {
	rdb, prefix := testenv.DefaultRedis(t)
	for _, sc := range scenarios() {
		t.Run(sc.name, func(t *testing.T) {
			f := sc.build(t.Context(), t, rdb, prefix+sc.name+":")
			got, err := json.MarshalIndent(f, "", "  ")
			require.NoError(t, err)
			path := filepath.Join(conformanceDir, sc.name+".json")
			if *update {
				require.NoError(t, os.WriteFile(path, append(got, '\n'), 0o644))
				return
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err, "run `go test ./reader -run Conformance -update`")
			assert.JSONEq(t, string(want), string(got), "the worker no longer writes %s: regenerate with -update and review the diff", path)
		})
	}
}

// TestIntegrationConformanceGoReader loads each committed fixture into Redis
// and checks the Go reader returns exactly its views and server values.
func TestIntegrationConformanceGoReader(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(conformanceDir, "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, files, "no conformance fixtures")
	rdb, prefix := testenv.DefaultRedis(t)
	for _, path := range files {
		var f fixture
		raw, err := os.ReadFile(path)
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(raw, &f))
		t.Run(f.Name, func(t *testing.T) {
			ctx := t.Context()
			p := prefix + "load:" + f.Name + ":"
			loadFixture(ctx, t, rdb, p, f)
			rd, err := reader.New(rdb, reader.Options{KeyPrefix: p, CredsKey: f.CredsKey})
			require.NoError(t, err)
			for user, want := range f.Views {
				got, err := rd.Effective(ctx, user)
				require.NoError(t, err)
				assert.Equal(t, want.Loaded, got.Loaded, user)
				assert.Equal(t, want.Loaded, got.ExpiresInMs > 0, user)
				assertJSONMaps(t, want.Private, got.Private, user+" private")
				require.Len(t, got.Effective, len(want.Effective), user)
				for name, w := range want.Effective {
					g := got.Effective[name]
					assert.Equal(t, w.Tier, g.Tier, "%s %s", user, name)
					assert.JSONEq(t, string(w.Config), string(g.Config), "%s %s", user, name)
					l, ok, err := rd.Lookup(ctx, user, name)
					require.NoError(t, err)
					require.True(t, ok, "lookup %s %s", user, name)
					assert.Equal(t, w.Tier, l.Tier, "lookup %s %s", user, name)
					assert.JSONEq(t, string(w.Config), string(l.Config), "lookup %s %s", user, name)
				}
			}
			for name, want := range f.Servers {
				got, ok, err := rd.Server(ctx, name)
				require.NoError(t, err)
				if string(want) == "null" {
					assert.False(t, ok, name)
					continue
				}
				require.True(t, ok, name)
				assert.JSONEq(t, string(want), string(got), name)
			}
		})
	}
}

func loadFixture(ctx context.Context, t *testing.T, rdb redis.UniversalClient, prefix string, f fixture) {
	t.Helper()
	for _, k := range f.Keys {
		key := prefix + k.Key
		switch v := k.Value.(type) {
		case string:
			require.NoError(t, rdb.Set(ctx, key, v, 0).Err())
		case map[string]any:
			require.NoError(t, rdb.HSet(ctx, key, v).Err())
		}
		if k.TTLMs > 0 {
			require.NoError(t, rdb.PExpire(ctx, key, time.Duration(k.TTLMs)*time.Millisecond).Err())
		}
	}
}

func assertJSONMaps(t *testing.T, want, got map[string]json.RawMessage, what string) {
	t.Helper()
	require.Len(t, got, len(want), what)
	for name, w := range want {
		assert.JSONEq(t, string(w), string(got[name]), "%s %s", what, name)
	}
}
