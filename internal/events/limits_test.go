package events

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLimitsCheck(t *testing.T) {
	t.Parallel()
	l := Limits{MaxAllowedUsers: 2, MaxConfigBytes: 16}
	tests := []struct {
		name string
		ev   Event
		want string // "" = accepted
	}{
		{"login", Event{Kind: KindUserLogin, Subject: "mcp.user.login", UserID: "u1"}, ""},
		{"at the user cap", Event{Kind: KindServerAccess, Subject: "mcp.server.access", AllowedUserIDs: []string{"a", "b"}}, ""},
		{
			"over the user cap",
			Event{Kind: KindServerAccess, Subject: "mcp.server.access", AllowedUserIDs: []string{"a", "b", "c"}},
			`invalid mcp.server.access event: field "allowedUserIds": 3 users, more than the limit of 2 (--max-allowed-users)`,
		},
		{
			"unshared over the user cap",
			Event{Kind: KindServerUnshared, Subject: "mcp.server.unshared", AllowedUserIDs: []string{"a", "b", "c"}},
			"more than the limit of 2",
		},
		{"config at the cap", Event{Kind: KindServerUpdated, Subject: "mcp.server.updated", Config: json.RawMessage(`{"a":"01234567"}`)}, ""},
		{
			"config over the cap",
			Event{Kind: KindServerUpdated, Subject: "mcp.server.updated", Config: json.RawMessage(`{"a":"012345678"}`)},
			`invalid mcp.server.updated event: field "config": 17 bytes, more than the limit of 16 (--max-config-bytes)`,
		},
		{"zero limits are off", Event{Kind: KindServerAccess, AllowedUserIDs: make([]string, 10)}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			lim := l
			if tt.name == "zero limits are off" {
				lim = Limits{}
			}
			err := lim.Check(tt.ev)
			if tt.want == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrPermanent)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

// An access list or a config over the caps is dead-lettered with a clear
// reason, never stored.
func TestIntegrationEventsOverTheCapsAreDeadLettered(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.MaxAllowedUsers, cfg.MaxConfigBytes = 3, 64
	e := newEnv(t, cfg)
	rec := &recorder{}
	e.start(allKinds(rec))

	users := func(n int) string {
		ids := make([]string, n)
		for i := range ids {
			ids[i] = fmt.Sprintf("u%d", i)
		}
		b, _ := json.Marshal(ids)
		return string(b)
	}
	big := `{"url":"` + strings.Repeat("x", 64) + `"}`
	e.publish("mcp.server.access", `{"serverName":"s1","config":{},"allowedUserIds":`+users(4)+`}`, nil)
	e.publish("mcp.server.unshared", `{"serverName":"s1","config":{},"allowedUserIds":`+users(4)+`}`, nil)
	e.publish("mcp.server.updated", `{"serverName":"s1","config":`+big+`}`, nil)
	e.publish("mcp.server.access", `{"serverName":"s1","config":{},"allowedUserIds":`+users(3)+`}`, nil)

	dls := e.waitDeadLetters(3)
	e.waitSettled()
	reasons := map[string]string{}
	for _, dl := range dls {
		reasons[dl.Subject] = dl.Reason
	}
	assert.Contains(t, reasons["mcp.server.access"], "4 users, more than the limit of 3 (--max-allowed-users)")
	assert.Contains(t, reasons["mcp.server.unshared"], "4 users, more than the limit of 3 (--max-allowed-users)")
	assert.Contains(t, reasons["mcp.server.updated"], "more than the limit of 64 (--max-config-bytes)")
	require.Eventually(t, func() bool { return len(rec.seen()) == 1 }, 5*time.Second, 10*time.Millisecond)
	assert.Len(t, rec.seen()[0].ev.AllowedUserIDs, 3)
}

func TestIntegrationDeadLetterStreamIsBounded(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.DLQMaxAge, cfg.DLQMaxBytes = 48*time.Hour, 8<<20
	e := newEnv(t, cfg)
	st, err := e.nats.JS.Stream(ctxT(t), cfg.DLQStream)
	require.NoError(t, err)
	sc := st.CachedInfo().Config
	assert.Equal(t, 48*time.Hour, sc.MaxAge)
	assert.Equal(t, int64(8<<20), sc.MaxBytes)

	d := DefaultConfig()
	assert.Equal(t, 14*24*time.Hour, d.DLQMaxAge)
	assert.Equal(t, int64(1<<30), d.DLQMaxBytes)
	assert.Equal(t, 100000, d.MaxAllowedUsers)
	assert.Equal(t, 64<<10, d.MaxConfigBytes)
}
