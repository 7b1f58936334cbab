package events_test

import (
	"bytes"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcp-registry/worker/internal/events"
)

// fuzzSeeds are the seed corpus of FuzzDecode: a valid payload for every kind
// and some invalid ones.
var fuzzSeeds = []struct {
	kind    events.Kind
	payload string
	valid   bool
}{
	{events.KindUserLogin, `{"userId":"665f1a2b3c4d5e6f70819203","eventId":"e1","occurredAt":"2024-05-06T07:08:09Z"}`, true},
	{events.KindUserInvalidate, `{"userId":"u1","version":3}`, true},
	{events.KindServerCreated, `{"serverName":"files","userId":"u1","config":{"type":"stdio","command":"npx","args":["-y","x"]},"version":1715000000000}`, true},
	{events.KindServerUpdated, `{"serverName":"a:b*{c} d","config":{"url":"http://127.0.0.1/x","requiresOAuth":true},"version":2}`, true},
	{events.KindServerAccess, `{"serverName":"s1","allowedUserIds":["u2","u1","u2"],"config":{"startup":false},"version":4}`, true},
	{events.KindServerShared, `{"serverName":"名前 🚀","config":{},"version":5}`, true},
	{events.KindServerUnshared, `{"serverName":"s1","allowedUserIds":[],"config":{"a":{"b":[1,2,{"c":null}]}},"version":6}`, true},
	{events.KindServerDeleted, `{"serverName":"s1","version":7}`, true},
	{events.KindUserLogin, `{"userId":"u1","occurredAt":"0000-01-01T00:00:00+01:00"}`, true},
	// invalid ones
	{events.KindUserLogin, `{"userId":"u1"}{}`, false},
	{events.KindUserLogin, `{"userId":"u1","userId":"u2"}`, false},
	{events.KindUserLogin, `{"userId":"\ud800"}`, false},
	{events.KindUserLogin, `{"userId":"\ud83d\ude80\u0000"}`, false},
	{events.KindUserLogin, "{\"userId\":\"\xff\"}", false},
	{events.KindUserLogin, `{"userId":"   "}`, false},
	{events.KindServerDeleted, `{"serverName":"s1","version":1e3}`, false},
	{events.KindServerDeleted, `{"serverName":"s1","version":-1}`, false},
	{events.KindServerDeleted, `{"serverName":"s1","version":99999999999999999999}`, false},
	{events.KindServerAccess, `{"serverName":"s1","allowedUserIds":["a",1],"config":{}}`, false},
	{events.KindServerAccess, `{"serverName":"s1","allowedUserIds":null,"config":{}}`, true}, // derive from MongoDB
	{events.KindUserRefresh, `{"userId":"u1","tenantId":"t1"}`, true},
	{events.KindGroupChanged, `{"groupId":"g1","addedMemberIds":["u2","u1"],"removedMemberIds":[]}`, true},
	{events.KindGroupChanged, `{"groupId":"g1","addedMemberIds":"u1"}`, false},
	{events.KindServerUpdated, `{"serverName":"s1","config":{},"dbId":"665f1c2e9b1e8a3d4c5b6a79","updatedAt":5}`, true},
	{events.KindServerUpdated, `{"serverName":"s1","config":[]}`, false},
	{events.KindServerUpdated, `{"serverName":"s1","config":{"a":`, false},
	{events.KindServerCreated, `[]`, false},
	{events.KindServerCreated, ``, false},
}

// fuzzSubject picks the subject for the fuzzer's kind byte: one of the
// contract's kinds, or an unknown one.
func fuzzSubject(k uint8) string {
	s := events.Subjects{Prefix: events.DefaultPrefix}
	if i := int(k) % (len(events.Kinds) + 1); i < len(events.Kinds) {
		return s.For(events.Kinds[i])
	}
	return s.For("server.renamed")
}

// kindIndex is the fuzzer's kind byte for k.
func kindIndex(k events.Kind) uint8 { return uint8(slices.Index(events.Kinds, k)) }

func FuzzDecode(f *testing.F) {
	for i, s := range fuzzSeeds {
		f.Add(kindIndex(s.kind), []byte(s.payload), "", uint64(i))
	}
	f.Add(uint8(len(events.Kinds)), []byte(`{"serverName":"s1"}`), "m1", uint64(1))
	f.Add(kindIndex(events.KindUserLogin), []byte(`{"userId":"u1"}`), "msg-1", uint64(1)<<63)

	f.Fuzz(func(t *testing.T, k uint8, data []byte, msgID string, seq uint64) {
		subject := fuzzSubject(k)
		ev, err := testDecoder.Decode(subject, data, msgID, seq)
		if err != nil {
			require.ErrorIs(t, err, events.ErrPermanent)
			require.Zero(t, ev)
			return
		}
		checkEvent(t, subject, ev)

		again, err := testDecoder.Decode(subject, bytes.Clone(data), msgID, seq)
		require.NoError(t, err, "decoding is deterministic")
		require.Equal(t, ev, again, "decoding is deterministic")

		if payload, header, ok := reencode(t, ev, msgID); ok {
			back, err := testDecoder.Decode(subject, payload, header, seq)
			require.NoError(t, err, "re-encoded %s", payload)
			require.Equal(t, ev, back, "an event survives re-encoding exactly")
		}
	})
}

// checkEvent asserts the invariants of every accepted event.
func checkEvent(t *testing.T, subject string, ev events.Event) {
	t.Helper()
	require.Equal(t, subject, ev.Subject)
	require.Contains(t, events.Kinds, ev.Kind)
	require.GreaterOrEqual(t, ev.Version, int64(0))

	switch ev.Kind {
	case events.KindUserLogin, events.KindUserInvalidate, events.KindUserRefresh, events.KindServerCreated:
		require.NoError(t, events.ValidateID(ev.UserID), "userId %q", ev.UserID)
	default:
		require.Empty(t, ev.UserID)
	}
	if !ev.Kind.IsServer() {
		require.Empty(t, ev.ServerName)
	} else {
		require.NoError(t, events.ValidateID(ev.ServerName), "serverName %q", ev.ServerName)
	}
	if ev.Kind == events.KindGroupChanged {
		require.NoError(t, events.ValidateID(ev.GroupID), "groupId %q", ev.GroupID)
	} else {
		require.Empty(t, ev.GroupID)
		require.Nil(t, ev.AddedMemberIDs)
		require.Nil(t, ev.RemovedMemberIDs)
	}
	if (ev.Kind == events.KindServerAccess || ev.Kind == events.KindServerUnshared) && ev.DeriveAccess {
		require.Nil(t, ev.AllowedUserIDs, "derived access carries no list")
	} else if ev.Kind == events.KindServerAccess || ev.Kind == events.KindServerUnshared {
		require.NotNil(t, ev.AllowedUserIDs)
		for _, id := range ev.AllowedUserIDs {
			require.NoError(t, events.ValidateID(id), "allowedUserIds element %q", id)
		}
		require.True(t, slices.IsSorted(ev.AllowedUserIDs), "allowedUserIds sorted")
		require.Len(t, slices.Compact(slices.Clone(ev.AllowedUserIDs)), len(ev.AllowedUserIDs), "allowedUserIds unique")
	} else {
		require.Nil(t, ev.AllowedUserIDs)
	}
	switch ev.Kind {
	case events.KindServerCreated, events.KindServerUpdated, events.KindServerAccess,
		events.KindServerShared, events.KindServerUnshared:
		require.True(t, json.Valid(ev.Config), "config is valid JSON")
		require.Equal(t, byte('{'), ev.Config[0], "config is an object")
		var compact bytes.Buffer
		require.NoError(t, json.Compact(&compact, ev.Config))
		require.Equal(t, compact.String(), string(ev.Config), "config is compact")
	default:
		require.Empty(t, ev.Config)
	}
	if !ev.OccurredAt.IsZero() {
		require.Equal(t, time.UTC, ev.OccurredAt.Location())
	}
}

// reencode builds a payload (and Nats-Msg-Id header) from ev the way a
// publisher would; ok is false when ev holds something a publisher could not
// send back (an occurredAt outside years 0-9999 once in UTC).
func reencode(t *testing.T, ev events.Event, msgID string) (payload []byte, header string, ok bool) {
	t.Helper()
	m := map[string]any{}
	if ev.UserID != "" {
		m["userId"] = ev.UserID
	}
	if ev.ServerName != "" {
		m["serverName"] = ev.ServerName
	}
	if ev.AllowedUserIDs != nil {
		m["allowedUserIds"] = ev.AllowedUserIDs
	}
	for key, v := range map[string]string{"dbId": ev.DBID, "tenantId": ev.TenantID, "groupId": ev.GroupID} {
		if v != "" {
			m[key] = v
		}
	}
	if ev.UpdatedAtMs > 0 {
		m["updatedAt"] = ev.UpdatedAtMs
	}
	if ev.AddedMemberIDs != nil {
		m["addedMemberIds"] = ev.AddedMemberIDs
	}
	if ev.RemovedMemberIDs != nil {
		m["removedMemberIds"] = ev.RemovedMemberIDs
	}
	if ev.Config != nil {
		m["config"] = ev.Config
	}
	if ev.Version > 0 {
		m["version"] = ev.Version
	}
	if ev.EventID != msgID {
		m["eventId"] = ev.EventID
	}
	if !ev.OccurredAt.IsZero() {
		if y := ev.OccurredAt.Year(); y < 0 || y > 9999 {
			return nil, "", false
		}
		m["occurredAt"] = ev.OccurredAt.Format(time.RFC3339Nano)
	}
	payload, err := json.Marshal(m)
	require.NoError(t, err)
	return payload, msgID, true
}

// TestFuzzSeeds checks the seeds are what they claim, so the corpus keeps
// exercising the accept path of every kind.
func TestFuzzSeeds(t *testing.T) {
	t.Parallel()
	valid := map[events.Kind]bool{}
	for _, s := range fuzzSeeds {
		_, err := testDecoder.Decode(testDecoder.Subjects.For(s.kind), []byte(s.payload), "", 1)
		if s.valid {
			assert.NoError(t, err, s.payload)
			valid[s.kind] = true
		} else {
			assert.ErrorIs(t, err, events.ErrPermanent, s.payload)
		}
	}
	assert.Len(t, valid, len(events.Kinds), "one valid seed per kind")
}
