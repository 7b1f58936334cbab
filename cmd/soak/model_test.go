package main

import (
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/mcp-registry/worker/reader"
)

// The model's expected views follow the contract: a private server for the
// users it lists, a shared one in tier app (user when it requires OAuth)
// for every loaded user, nothing deleted, nothing for a user never loaded.
func TestModelExpectedViews(t *testing.T) {
	t.Parallel()
	u1, u2, u3 := bson.NewObjectID().Hex(), bson.NewObjectID().Hex(), bson.NewObjectID().Hex()
	m := newModel(1, []string{u1, u2, u3})
	for _, u := range []string{u1, u2} {
		m.loggedIn[u] = true
	}
	m.servers = []*modelServer{
		{name: "priv", scope: scopePrivate, rev: 4, allowed: []string{u1, u3}},
		{name: "app", scope: scopePublic, rev: 2, allowed: []string{u2}},
		{name: "oauth", scope: scopePublic, rev: 3, oauth: true},
		{name: "gone", scope: scopeDeleted, rev: 9, allowed: []string{u1}},
	}
	assert.Equal(t, map[string]expectedEntry{
		"priv": {reader.TierPrivate, 4}, "app": {reader.TierApp, 2}, "oauth": {reader.TierUser, 3},
	}, m.expected(u1))
	assert.Equal(t, map[string]expectedEntry{"app": {reader.TierApp, 2}, "oauth": {reader.TierUser, 3}}, m.expected(u2))
	assert.Nil(t, m.expected(u3), "listed but never logged in: not loaded")
}

func TestViewDiffFindsEveryKindOfMismatch(t *testing.T) {
	t.Parallel()
	val := func(rev int) json.RawMessage { return json.RawMessage(`{"url":"x","rev":` + itoa(rev) + `}`) }
	want := map[string]expectedEntry{"a": {reader.TierPrivate, 2}, "b": {reader.TierApp, 1}, "c": {reader.TierPrivate, 5}}
	tests := []struct {
		name string
		want map[string]expectedEntry
		view reader.View
		diff string
	}{
		{"equal", want, reader.View{Loaded: true, Effective: map[string]reader.Entry{
			"a": {Tier: reader.TierPrivate, Config: val(2)}, "b": {Tier: reader.TierApp, Config: val(1)},
			"c": {Tier: reader.TierPrivate, Config: val(5)},
		}}, ""},
		{"all wrong", want, reader.View{Loaded: true, Effective: map[string]reader.Entry{
			"a": {Tier: reader.TierPrivate, Config: val(1)}, "b": {Tier: reader.TierUser, Config: val(1)},
			"d": {Tier: reader.TierPrivate, Config: val(1)},
		}}, "a at rev 1, want 2, b in tier user, want app, missing c, extra d"},
		{"not loaded", want, reader.View{}, "not loaded, but logged in"},
		{"loaded, never logged in", nil, reader.View{Loaded: true}, "loaded, but never logged in"},
		{"neither", nil, reader.View{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.diff, viewDiff(tt.want, tt.view))
		})
	}
}

// Every change the generator makes keeps the model consistent: versions
// grow per server, deleted servers are replaced, allowed lists stay sets.
func TestModelChangesKeepItConsistent(t *testing.T) {
	t.Parallel()
	users := make([]string, 50)
	for i := range users {
		users[i] = bson.NewObjectID().Hex()
	}
	m := newModel(7, users)
	for range 5 {
		m.create().commit()
	}
	versions := map[string]int64{}
	kinds := map[string]int{}
	for i := range 2000 {
		ch := m.next(i%10 != 0)
		kinds[ch.kind]++
		for _, ev := range ch.commit() {
			var p map[string]any
			require.NoError(t, json.Unmarshal(ev.marshal(), &p))
			if name, ok := p["serverName"].(string); ok {
				v := int64(p["version"].(float64))
				assert.Greater(t, v, versions[name], "%s versions grow", name)
				versions[name] = v
			}
		}
	}
	for _, k := range []string{"login", "update", "grant", "revoke", "share", "unshare", "delete"} {
		assert.Positive(t, kinds[k], "the mix has %s", k)
	}
	live := 0
	for _, s := range m.servers {
		if s.scope != scopeDeleted {
			live++
		}
		seen := map[string]bool{}
		for _, u := range s.allowed {
			assert.False(t, seen[u], "%s lists %s once", s.name, u)
			seen[u] = true
		}
		assert.LessOrEqual(t, len(s.allowed), maxAllowed)
	}
	assert.Equal(t, 5, live, "every delete made a new server")
}

func TestSummarizePhasesAndRecovery(t *testing.T) {
	t.Parallel()
	t0 := time.Unix(1000, 0)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	windows := []window{{kind: faultRedisRestart, start: at(10), end: at(13)}}
	recs := []record{
		{kind: "login", published: at(1), noticed: at(1.01), outcome: "done"},
		{kind: "grant", published: at(11), noticed: at(14), outcome: "done"},
		{kind: "update", published: at(13.5), noticed: at(13.6), outcome: "skipped"},
		{kind: "login", published: at(20), noticed: at(20.1), outcome: "dead_lettered"},
		{kind: "login", published: at(21)},
	}
	s := summarize(recs, windows)
	assert.Equal(t, []time.Duration{time.Second}, s.recovery, "the last event published before the end finished 1s after it")
	assert.Equal(t, 5, s.published)
	assert.Equal(t, 3, s.applied)
	assert.Equal(t, 1, s.noNotice)
	assert.Len(t, s.phases["during "+faultRedisRestart], 1)
	assert.Len(t, s.phases["recovery"], 1)
	assert.Len(t, s.phases["normal"], 2)
	assert.Equal(t, "3s", pct(s.phases["during "+faultRedisRestart], 99))
	s.deadLettered = 1
	assert.True(t, s.failed())
}

func itoa(n int) string { return strconv.Itoa(n) }
