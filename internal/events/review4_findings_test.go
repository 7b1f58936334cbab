package events

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rawHPub publishes with the raw protocol (as a non-Go client may), so the
// header key is not checked by nats.go.
func rawHPub(t *testing.T, url, subject, hdrs, data string) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(url, "nats://"))
	require.NoError(t, err)
	defer conn.Close()
	r := bufio.NewReader(conn)
	_, err = r.ReadString('\n') // INFO
	require.NoError(t, err)
	hdr := "NATS/1.0\r\n" + hdrs + "\r\n"
	fmt.Fprintf(conn, "CONNECT {\"verbose\":false,\"pedantic\":false,\"headers\":true}\r\nHPUB %s %d %d\r\n%s%s\r\nPING\r\n",
		subject, len(hdr), len(hdr)+len(data), hdr, data)
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, err := r.ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "PONG\r\n", line)
}

// Review finding (fixed): a dead letter whose original headers include a key nats.go refuses to
// send ("X/Trace") can never be replayed, and it aborts "replay all": the
// good dead letters behind it are never replayed.
func TestIntegrationReview4ReplayAllBlockedByUnsendableHeaderKey(t *testing.T) {
	cfg := testConfig()
	cfg.Concurrency = 1
	e := newEnv(t, cfg)
	rec := &recorder{fn: func(_ context.Context, ev Event) error { return nil }}
	e.start(allKinds(rec))
	ctx := ctxT(t)

	// Undecodable payloads: dead-lettered at once.
	rawHPub(t, e.nats.URL, "mcp.user.login", "X/Trace: abc\r\n", `not json`)
	require.Len(t, e.waitDeadLetters(1), 1)
	e.publish("mcp.user.login", `still not json`, nil)
	all := e.waitDeadLetters(2)
	assert.Equal(t, []string{"abc"}, all[0].Original["X/Trace"])

	n, err := ReplayDeadLetters(ctx, e.nats.JS, e.cfg, nil)
	t.Logf("replay all: n=%d err=%v", n, err)
	// Fixed: the header nats.go cannot send is dropped, so both are replayed
	// (and, their payloads still invalid, dead-lettered again, without it).
	require.NoError(t, err)
	assert.Equal(t, 2, n, "the good dead letter behind the bad one is replayed too")
	for _, d := range e.waitDeadLetters(2) {
		assert.NotContains(t, d.Original, "X/Trace")
	}
}
