package events_test

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcp-registry/worker/internal/events"
)

var testDecoder = events.Decoder{Subjects: events.Subjects{Prefix: events.DefaultPrefix}}

const cfg = `{"type":"sse","url":"http://127.0.0.1:1/x","headers":{"b":"2","a":"1"}}`

func TestDecodeValid(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", events.MaxIDBytes/2) // 256 bytes, the limit
	tests := []struct {
		name    string
		kind    events.Kind
		payload string
		msgID   string
		seq     uint64
		want    events.Event
	}{
		{
			"login", events.KindUserLogin, `{"userId":"u1"}`, "", 7,
			events.Event{UserID: "u1", Version: 7},
		},
		{
			"login at publish time has version 0", events.KindUserLogin, `{"userId":"u1"}`, "", 0,
			events.Event{UserID: "u1"},
		},
		{
			"login with every optional field", events.KindUserLogin,
			`{"userId":"u1","version":42,"eventId":"e1","occurredAt":"2024-05-06T07:08:09.5+02:00"}`, "m1", 7,
			events.Event{
				UserID: "u1", Version: 42, EventID: "e1",
				OccurredAt: time.Date(2024, 5, 6, 5, 8, 9, 5e8, time.UTC),
			},
		},
		{
			"eventId from header", events.KindUserLogin, `{"userId":"u1"}`, "m1", 1,
			events.Event{UserID: "u1", EventID: "m1", Version: 1},
		},
		{
			"empty eventId falls back to header", events.KindUserLogin, `{"userId":"u1","eventId":""}`, "m1", 1,
			events.Event{UserID: "u1", EventID: "m1", Version: 1},
		},
		{
			"null optional fields are absent", events.KindUserLogin,
			`{"userId":"u1","version":null,"eventId":null,"occurredAt":null}`, "m1", 3,
			events.Event{UserID: "u1", EventID: "m1", Version: 3},
		},
		{
			"largest version", events.KindUserLogin, `{"userId":"u1","version":9223372036854775807}`, "", 1,
			events.Event{UserID: "u1", Version: math.MaxInt64},
		},
		{
			"unknown and unused fields ignored", events.KindUserLogin,
			`{"userId":"u1","config":5,"serverName":[],"allowedUserIds":"x","extra":{"a":[1,2]},"extra":1}`, "", 1,
			events.Event{UserID: "u1", Version: 1},
		},
		{
			"keys are case-sensitive", events.KindUserLogin, `{"UserId":"u2","userId":"u1","USERID":null}`, "", 1,
			events.Event{UserID: "u1", Version: 1},
		},
		{
			"escaped key", events.KindUserLogin, `{"user\u0049d":"u1"}`, "", 1,
			events.Event{UserID: "u1", Version: 1},
		},
		{
			"white space around the object", events.KindUserLogin, " \t\r\n{ \"userId\" : \"u1\" }\n", "", 1,
			events.Event{UserID: "u1", Version: 1},
		},
		{
			"invalidate", events.KindUserInvalidate, `{"userId":"u1"}`, "", 2,
			events.Event{UserID: "u1", Version: 2},
		},
		{
			"created, config compacted in key order", events.KindServerCreated,
			`{"serverName":"s1","userId":"u1","config":{ "type" : "sse", "url":"http://127.0.0.1:1/x",` +
				"\n" + `"headers":{"b":"2", "a":"1"} },"version":5}`, "", 9,
			events.Event{ServerName: "s1", UserID: "u1", Config: json.RawMessage(cfg), Version: 5},
		},
		{
			"updated ignores userId", events.KindServerUpdated,
			`{"serverName":"s1","userId":"u1","config":{},"version":6}`, "", 9,
			events.Event{ServerName: "s1", Config: json.RawMessage(`{}`), Version: 6},
		},
		{
			"access sorts and de-duplicates", events.KindServerAccess,
			`{"serverName":"s1","allowedUserIds":[ "b","a" ,"B","é","a","b"],"config":` + cfg + `}`, "", 9,
			events.Event{
				ServerName: "s1", AllowedUserIDs: []string{"B", "a", "b", "é"},
				Config: json.RawMessage(cfg), Version: 9,
			},
		},
		{
			"access with nobody", events.KindServerAccess,
			`{"serverName":"s1","allowedUserIds":[ ],"config":{}}`, "", 9,
			events.Event{ServerName: "s1", AllowedUserIDs: []string{}, Config: json.RawMessage(`{}`), Version: 9},
		},
		{
			"shared", events.KindServerShared, `{"serverName":"s1","config":` + cfg + `,"version":1}`, "", 9,
			events.Event{ServerName: "s1", Config: json.RawMessage(cfg), Version: 1},
		},
		{
			"unshared", events.KindServerUnshared,
			`{"serverName":"s1","allowedUserIds":["u2","u1"],"config":{"a":1}}`, "", 9,
			events.Event{
				ServerName: "s1", AllowedUserIDs: []string{"u1", "u2"},
				Config: json.RawMessage(`{"a":1}`), Version: 9,
			},
		},
		{
			"deleted ignores config", events.KindServerDeleted, `{"serverName":"s1","config":null}`, "", 4,
			events.Event{ServerName: "s1", Version: 4},
		},
		{
			"names round-trip exactly", events.KindServerCreated,
			`{"serverName":" a:b*{c} d ","userId":"名前 🚀\u00e9\ud83d\ude80\/\"\\","config":{}}`, "", 1,
			events.Event{
				ServerName: " a:b*{c} d ", UserID: "名前 🚀é🚀/\"\\",
				Config: json.RawMessage(`{}`), Version: 1,
			},
		},
		{
			"ids of 256 bytes", events.KindServerAccess,
			`{"serverName":"` + long + `","allowedUserIds":["` + long + `"],"config":{}}`, "", 1,
			events.Event{ServerName: long, AllowedUserIDs: []string{long}, Config: json.RawMessage(`{}`), Version: 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			subject := testDecoder.Subjects.For(tt.kind)
			got, err := testDecoder.Decode(subject, []byte(tt.payload), tt.msgID, tt.seq)
			require.NoError(t, err)
			want := tt.want
			want.Kind, want.Subject, want.StreamSeq = tt.kind, subject, tt.seq
			assert.Equal(t, want, got)
		})
	}
}

func TestDecodeInvalid(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", events.MaxIDBytes+1)
	tests := []struct {
		name    string
		kind    events.Kind
		payload string
		want    string // the error text after "invalid <subject> event: "
	}{
		// missing fields, per kind
		{"login without userId", events.KindUserLogin, `{"user_id":"u1"}`, `field "userId": required but missing`},
		{"invalidate without userId", events.KindUserInvalidate, `{}`, `field "userId": required but missing`},
		{"created without serverName", events.KindServerCreated, `{"userId":"u1","config":{}}`, `field "serverName": required but missing`},
		{"created without userId", events.KindServerCreated, `{"serverName":"s1","config":{}}`, `field "userId": required but missing`},
		{"created without config", events.KindServerCreated, `{"serverName":"s1","userId":"u1"}`, `field "config": required but missing`},
		{"updated without config", events.KindServerUpdated, `{"serverName":"s1"}`, `field "config": required but missing`},
		{"access without config", events.KindServerAccess, `{"serverName":"s1","allowedUserIds":[]}`, `field "config": required but missing`},
		{"shared without serverName", events.KindServerShared, `{"config":{}}`, `field "serverName": required but missing`},
		{"deleted without serverName", events.KindServerDeleted, `{"version":1}`, `field "serverName": required but missing`},
		// wrong types
		{"userId number", events.KindUserLogin, `{"userId":5}`, `field "userId": must be a string, got number`},
		{"userId null", events.KindUserLogin, `{"userId":null}`, `field "userId": must be a string, got null`},
		{"serverName array", events.KindServerDeleted, `{"serverName":["s1"]}`, `field "serverName": must be a string, got array`},
		{"allowedUserIds string", events.KindServerAccess, `{"serverName":"s1","allowedUserIds":"u1","config":{}}`, `field "allowedUserIds": must be an array of strings, got string`},
		{"allowedUserIds element number", events.KindServerUnshared, `{"serverName":"s1","allowedUserIds":[1],"config":{}}`, `field "allowedUserIds"[0]: must be a string, got number`},
		{"allowedUserIds element null", events.KindServerAccess, `{"serverName":"s1","allowedUserIds":["a", null],"config":{}}`, `field "allowedUserIds"[1]: must be a string, got null`},
		{"allowedUserIds element object", events.KindServerAccess, `{"serverName":"s1","allowedUserIds":["a",{}],"config":{}}`, `field "allowedUserIds"[1]: must be a string, got object`},
		{"config null", events.KindServerUpdated, `{"serverName":"s1","config":null}`, `field "config": must be a JSON object, got null`},
		{"config array", events.KindServerShared, `{"serverName":"s1","config":[{}]}`, `field "config": must be a JSON object, got array`},
		{"config string", events.KindServerCreated, `{"serverName":"s1","userId":"u1","config":"{}"}`, `field "config": must be a JSON object, got string`},
		{"config invalid UTF-8", events.KindServerUpdated, "{\"serverName\":\"s1\",\"config\":{\"a\":\"\xff\"}}", `field "config": is not valid UTF-8`},
		// ids
		{"empty id", events.KindUserLogin, `{"userId":""}`, `field "userId": is empty or only white space`},
		{"white space id", events.KindServerDeleted, `{"serverName":"  \u3000 "}`, `field "serverName": is empty or only white space`},
		{"257-byte id", events.KindUserLogin, `{"userId":"` + long + `"}`, `field "userId": is 257 bytes, more than the limit of 256`},
		{"257-byte element", events.KindServerAccess, `{"serverName":"s1","allowedUserIds":["` + long + `"],"config":{}}`, `field "allowedUserIds"[0]: is 257 bytes, more than the limit of 256`},
		{"NUL in id", events.KindUserLogin, `{"userId":"a\u0000"}`, `field "userId": contains a control character`},
		{"newline in id", events.KindUserLogin, `{"userId":"a\nb"}`, `field "userId": contains a control character`},
		{"DEL in id", events.KindServerDeleted, "{\"serverName\":\"a\x7f\"}", `field "serverName": contains a control character`},
		{"C1 control in id", events.KindServerDeleted, `{"serverName":"a\u0085"}`, `field "serverName": contains a control character`},
		{"control in element", events.KindServerAccess, `{"serverName":"s1","allowedUserIds":["a","b","c","d\te"],"config":{}}`, `field "allowedUserIds"[3]: contains a control character`},
		{"invalid UTF-8 id", events.KindUserLogin, "{\"userId\":\"a\xffb\"}", `field "userId": is not valid UTF-8`},
		{"invalid UTF-8 element", events.KindServerUnshared, "{\"serverName\":\"s1\",\"allowedUserIds\":[\"\xc3\"],\"config\":{}}", `field "allowedUserIds"[0]: is not valid UTF-8`},
		{"lone surrogate escape", events.KindUserLogin, `{"userId":"a\ud800b"}`, `field "userId": is not valid UTF-8: unpaired surrogate escape`},
		{"reversed surrogates", events.KindUserLogin, `{"userId":"\udc00\ud800"}`, `field "userId": is not valid UTF-8: unpaired surrogate escape`},
		// version
		{"fractional version", events.KindServerDeleted, `{"serverName":"s1","version":1.5}`, `field "version": must be an integer, got 1.5`},
		{"whole fractional version", events.KindServerDeleted, `{"serverName":"s1","version":1.0}`, `field "version": must be an integer, got 1.0`},
		{"exponent version", events.KindServerDeleted, `{"serverName":"s1","version":1e3}`, `field "version": must be an integer, got 1e3`},
		{"string version", events.KindServerDeleted, `{"serverName":"s1","version":"3"}`, `field "version": must be an integer, got string`},
		{"boolean version", events.KindServerDeleted, `{"serverName":"s1","version":true}`, `field "version": must be an integer, got boolean`},
		{"zero version", events.KindServerDeleted, `{"serverName":"s1","version":0}`, `field "version": must be greater than 0, got 0`},
		{"negative zero version", events.KindServerDeleted, `{"serverName":"s1","version":-0}`, `field "version": must be greater than 0, got 0`},
		{"negative version", events.KindServerDeleted, `{"serverName":"s1","version":-3}`, `field "version": must be greater than 0, got -3`},
		{"version overflow", events.KindServerDeleted, `{"serverName":"s1","version":9223372036854775808}`, `field "version": 9223372036854775808 does not fit in a 64-bit integer`},
		// eventId and occurredAt
		{"eventId number", events.KindUserLogin, `{"userId":"u1","eventId":1}`, `field "eventId": must be a string, got number`},
		{"eventId too long", events.KindUserLogin, `{"userId":"u1","eventId":"` + long + `"}`, `field "eventId": is 257 bytes, more than the limit of 256`},
		{"eventId invalid UTF-8", events.KindUserLogin, "{\"userId\":\"u1\",\"eventId\":\"\xfe\"}", `field "eventId": is not valid UTF-8`},
		{"occurredAt not RFC 3339", events.KindUserLogin, `{"userId":"u1","occurredAt":"2024-05-06 07:08:09"}`, `field "occurredAt": is not an RFC 3339 time`},
		{"occurredAt empty", events.KindUserLogin, `{"userId":"u1","occurredAt":""}`, `field "occurredAt": is not an RFC 3339 time`},
		{"occurredAt number", events.KindUserLogin, `{"userId":"u1","occurredAt":1715000000}`, `field "occurredAt": must be an RFC 3339 time string, got number`},
		// shape of the payload
		{"duplicate key", events.KindUserLogin, `{"userId":"u1","userId":"u2"}`, `field "userId": given more than once`},
		{"duplicate escaped key", events.KindServerDeleted, `{"serverName":"s1","server\u004eame":"s2"}`, `field "serverName": given more than once`},
		{"empty payload", events.KindUserLogin, ``, `payload is empty`},
		{"blank payload", events.KindUserLogin, " \n", `payload is empty`},
		{"array payload", events.KindUserLogin, `[{"userId":"u1"}]`, `payload must be a JSON object, got array`},
		{"string payload", events.KindUserLogin, `"u1"`, `payload must be a JSON object, got string`},
		{"null payload", events.KindUserLogin, `null`, `payload must be a JSON object, got null`},
		{"number payload", events.KindUserLogin, `12`, `payload must be a JSON object, got number`},
		{"not JSON", events.KindUserLogin, `userId=u1`, `payload is not valid JSON: invalid character 'u'`},
		{"truncated", events.KindUserLogin, `{"userId":"u1"`, `payload is not valid JSON: unexpected EOF`},
		{"truncated after comma", events.KindUserLogin, `{"userId":"u1",`, `payload is not valid JSON: unexpected EOF`},
		{"trailing comma", events.KindUserLogin, `{"userId":"u1",}`, `payload is not valid JSON: invalid character '}'`},
		{"missing colon", events.KindUserLogin, `{"userId" "u1"}`, `payload is not valid JSON: expected colon after object key`},
		{"bad nested value", events.KindServerUpdated, `{"serverName":"s1","config":{"a":}}`, `payload is not valid JSON: invalid character '}'`},
		{"trailing garbage", events.KindUserLogin, `{"userId":"u1"}x`, `payload is not valid JSON: trailing data after the object`},
		{"second object", events.KindUserLogin, `{"userId":"u1"} {"userId":"u2"}`, `payload is not valid JSON: trailing data after the object`},
		{"trailing number", events.KindUserLogin, `{"userId":"u1"}1`, `payload is not valid JSON: trailing data after the object`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			subject := testDecoder.Subjects.For(tt.kind)
			got, err := testDecoder.Decode(subject, []byte(tt.payload), "m1", 5)
			require.Error(t, err)
			assert.ErrorIs(t, err, events.ErrPermanent)
			assert.ErrorContains(t, err, "permanent: invalid "+subject+" event: "+tt.want)
			assert.Zero(t, got)
		})
	}
}

func TestDecodeSubject(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		prefix  string
		subject string
		wantErr string
	}{
		{"known", "mcp", "mcp.user.login", ""},
		{"custom prefix", "tenant-1.mcp", "tenant-1.mcp.server.deleted", ""},
		{"unknown kind", "mcp", "mcp.user.logout", `permanent: unknown subject "mcp.user.logout"`},
		{"extra token", "mcp", "mcp.user.login.x", `permanent: unknown subject "mcp.user.login.x"`},
		{"dead-letter subject", "mcp", "mcp.dlq.user.login", `permanent: unknown subject "mcp.dlq.user.login"`},
		{"prefix only", "mcp", "mcp", `permanent: unknown subject "mcp": not under prefix "mcp"`},
		{"wrong prefix", "mcp", "other.user.login", `permanent: unknown subject "other.user.login": not under prefix "mcp"`},
		{"prefix of another prefix", "mcp", "mcpx.user.login", `permanent: unknown subject "mcpx.user.login": not under prefix "mcp"`},
		{"empty", "mcp", "", `permanent: unknown subject "": not under prefix "mcp"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := events.Decoder{Subjects: events.Subjects{Prefix: tt.prefix}}
			ev, err := d.Decode(tt.subject, []byte(`{"userId":"u1","serverName":"s1"}`), "", 1)
			if tt.wantErr == "" {
				require.NoError(t, err)
				assert.Equal(t, tt.subject, ev.Subject)
				return
			}
			assert.ErrorIs(t, err, events.ErrPermanent)
			assert.EqualError(t, err, tt.wantErr)
		})
	}
}

func TestDecodeMaxPayload(t *testing.T) {
	t.Parallel()
	// pad returns a valid user.login payload of exactly n bytes.
	pad := func(n int) []byte {
		const head, tail = `{"userId":"u1","pad":"`, `"}`
		return []byte(head + strings.Repeat("x", n-len(head)-len(tail)) + tail)
	}
	subject := testDecoder.Subjects.For(events.KindUserLogin)
	tests := []struct {
		name    string
		max     int
		size    int
		wantErr string
	}{
		{"default limit exactly", 0, events.DefaultMaxPayload, ""},
		{"default limit exceeded", 0, events.DefaultMaxPayload + 1, "payload is 1048577 bytes, more than the limit of 1048576"},
		{"negative means default", -1, events.DefaultMaxPayload + 1, "payload is 1048577 bytes, more than the limit of 1048576"},
		{"custom limit exactly", 64, 64, ""},
		{"custom limit exceeded", 64, 65, "payload is 65 bytes, more than the limit of 64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := testDecoder
			d.MaxPayload = tt.max
			data := pad(tt.size)
			require.Len(t, data, tt.size)
			ev, err := d.Decode(subject, data, "", 1)
			if tt.wantErr == "" {
				require.NoError(t, err)
				assert.Equal(t, "u1", ev.UserID)
				return
			}
			assert.ErrorIs(t, err, events.ErrPermanent)
			assert.EqualError(t, err, "permanent: invalid "+subject+" event: "+tt.wantErr)
		})
	}
}

func TestDecodeStreamSeqTooLarge(t *testing.T) {
	t.Parallel()
	subject := testDecoder.Subjects.For(events.KindUserLogin)
	_, err := testDecoder.Decode(subject, []byte(`{"userId":"u1"}`), "", math.MaxInt64+1)
	assert.ErrorIs(t, err, events.ErrPermanent)
	assert.ErrorContains(t, err, "does not fit in a 64-bit integer")

	ev, err := testDecoder.Decode(subject, []byte(`{"userId":"u1","version":3}`), "", math.MaxInt64+1)
	require.NoError(t, err)
	assert.Equal(t, int64(3), ev.Version)
}

func TestValidateID(t *testing.T) {
	t.Parallel()
	tests := []struct {
		id      string
		wantErr string
	}{
		{"u1", ""},
		{" padded ", ""},
		{"a:b*{c}[d]?\\ e", ""},
		{"名前 🚀", ""},
		{"\u200b", ""}, // zero-width space is a format character, not white space or control
		{strings.Repeat("x", events.MaxIDBytes), ""},
		{"", "is empty or only white space"},
		{" \t\n ", "is empty or only white space"},
		{"\u00a0", "is empty or only white space"},
		{strings.Repeat("x", events.MaxIDBytes+1), "is 257 bytes, more than the limit of 256"},
		{"a\x00", "contains a control character"},
		{"a\tb", "contains a control character"},
		{"a\u009fb", "contains a control character"},
		{"a\xffb", "is not valid UTF-8"},
		{"\xed\xa0\x80", "is not valid UTF-8"}, // an encoded surrogate
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			t.Parallel()
			err := events.ValidateID(tt.id)
			if tt.wantErr == "" {
				assert.NoError(t, err)
				return
			}
			assert.EqualError(t, err, tt.wantErr)
			assert.False(t, errors.Is(err, events.ErrPermanent), "ValidateID's errors are plain")
		})
	}
}

// CONTRACT section 2 [v2]: server.access and server.unshared without
// allowedUserIds (or with null) derive the allowed users from MongoDB;
// user.refresh and group.changed; tenantId on any event.
func TestDecodeV2Events(t *testing.T) {
	t.Parallel()
	for _, k := range []events.Kind{events.KindServerAccess, events.KindServerUnshared} {
		for _, payload := range []string{`{"serverName":"s1","config":{}}`, `{"serverName":"s1","config":{},"allowedUserIds":null}`} {
			ev, err := testDecoder.Decode(testDecoder.Subjects.For(k), []byte(payload), "", 1)
			require.NoError(t, err, payload)
			assert.True(t, ev.DeriveAccess, payload)
			assert.Nil(t, ev.AllowedUserIDs)
		}
		ev, err := testDecoder.Decode(testDecoder.Subjects.For(k), []byte(`{"serverName":"s1","config":{},"allowedUserIds":[]}`), "", 1)
		require.NoError(t, err)
		assert.False(t, ev.DeriveAccess, "an empty list means nobody, not derive")
		assert.Equal(t, []string{}, ev.AllowedUserIDs)
	}
	ev, err := testDecoder.Decode("mcp.user.refresh", []byte(`{"userId":"u1","tenantId":"acme"}`), "", 1)
	require.NoError(t, err)
	assert.Equal(t, events.Event{Kind: events.KindUserRefresh, Subject: "mcp.user.refresh", UserID: "u1", TenantID: "acme", Version: 1, StreamSeq: 1}, ev)
	ev, err = testDecoder.Decode("mcp.group.changed", []byte(`{"groupId":"g:1","addedMemberIds":["b","a"]}`), "", 1)
	require.NoError(t, err)
	assert.Equal(t, "g:1", ev.GroupID)
	assert.Equal(t, []string{"a", "b"}, ev.AddedMemberIDs)
	assert.Nil(t, ev.RemovedMemberIDs)
	_, err = testDecoder.Decode("mcp.group.changed", []byte(`{"addedMemberIds":["a"]}`), "", 1)
	require.ErrorContains(t, err, `field "groupId": required but missing`)
	_, err = testDecoder.Decode("mcp.user.refresh", []byte(`{"userId":"u1","tenantId":"a\u0000b"}`), "", 1)
	require.ErrorContains(t, err, `tenantId`)
}
