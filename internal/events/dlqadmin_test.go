package events

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestIntegrationDeadLetterListReplayPurge(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.Concurrency = 1 // dead letters in publish order
	e := newEnv(t, cfg)
	var fixed atomic.Bool // the handler refuses until "the bug is fixed"
	rec := &recorder{fn: func(_ context.Context, ev Event) error {
		if !fixed.Load() {
			return Permanentf("cannot load %s", ev.UserID)
		}
		return nil
	}}
	e.start(allKinds(rec))
	ctx := ctxT(t)

	for i := range 3 {
		hdr := nats.Header{}
		hdr.Set(HeaderMsgID, fmt.Sprintf("orig-%d", i))
		hdr.Set("X-Keep", "yes")
		e.publish("mcp.user.login", fmt.Sprintf(`{"userId":"u%d"}`, i), hdr)
	}
	all := e.waitDeadLetters(3)
	for i, dl := range all {
		assert.Equal(t, fmt.Sprintf(`{"userId":"u%d"}`, i), string(dl.Data))
		assert.Equal(t, "mcp.user.login", dl.Subject)
		assert.Equal(t, fmt.Sprintf("cannot load u%d", i), trimPermanent(dl.Reason))
		if i > 0 {
			assert.Greater(t, dl.Seq, all[i-1].Seq, "oldest first")
		}
	}
	first2, err := ListDeadLetters(ctx, e.nats.JS, e.cfg, 2)
	require.NoError(t, err)
	require.Len(t, first2, 2)
	assert.Equal(t, all[0].Seq, first2[0].Seq)

	fixed.Store(true)
	n, err := ReplayDeadLetters(ctx, e.nats.JS, e.cfg, []uint64{all[0].Seq})
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	calls := rec.waitCalls(t, 4)
	replayed := calls[3].ev
	assert.Equal(t, "u0", replayed.UserID)
	assert.Equal(t, fmt.Sprintf("orig-0:replay:%d", all[0].Seq), replayed.EventID)
	left := e.deadLetters()
	require.Len(t, left, 2)
	assert.Equal(t, all[1].Seq, left[0].Seq)

	// The replayed message carries the original headers, not the Mcp-Dlq-* ones.
	st, err := e.nats.JS.Stream(ctx, e.cfg.Stream)
	require.NoError(t, err)
	raw, err := st.GetMsg(ctx, replayed.StreamSeq)
	require.NoError(t, err)
	assert.Equal(t, "yes", raw.Header.Get("X-Keep"))
	for k := range raw.Header {
		assert.NotContains(t, k, "Mcp-Dlq-")
	}

	// Replay all; a repeat finds nothing.
	n, err = ReplayDeadLetters(ctx, e.nats.JS, e.cfg, nil)
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	rec.waitCalls(t, 6)
	assert.Empty(t, e.deadLetters())
	n, err = ReplayDeadLetters(ctx, e.nats.JS, e.cfg, nil)
	require.NoError(t, err)
	assert.Zero(t, n)
	_, err = ReplayDeadLetters(ctx, e.nats.JS, e.cfg, []uint64{all[0].Seq})
	require.Error(t, err, "an already replayed dead letter is gone")

	// Purge.
	fixed.Store(false)
	e.publish("mcp.user.login", `{"userId":"u9"}`, nil)
	e.waitDeadLetters(1)
	purged, err := PurgeDeadLetters(ctx, e.nats.JS, e.cfg)
	require.NoError(t, err)
	assert.Equal(t, uint64(1), purged)
	assert.Empty(t, e.deadLetters())

	// No consumer was left on the dead-letter stream.
	dlq, err := e.nats.JS.Stream(ctx, e.cfg.DLQStream)
	require.NoError(t, err)
	info, err := dlq.Info(ctx)
	require.NoError(t, err)
	assert.Zero(t, info.State.Consumers)
}

func TestIntegrationDeadLetterAdminWithoutStream(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testConfig())
	c := e.cfg
	c.DLQStream = "NOPE"
	ctx := ctxT(t)
	_, err := ListDeadLetters(ctx, e.nats.JS, c, 0)
	require.ErrorContains(t, err, "NOPE")
	_, err = ReplayDeadLetters(ctx, e.nats.JS, c, nil)
	require.Error(t, err)
	_, err = PurgeDeadLetters(ctx, e.nats.JS, c)
	require.Error(t, err)
}

// trimPermanent drops the "permanent: " prefix of a wrapped ErrPermanent.
func trimPermanent(s string) string {
	const p = "permanent: "
	if len(s) >= len(p) && s[:len(p)] == p {
		return s[len(p):]
	}
	return s
}

// A dead letter names its target subject in a header anyone who can publish
// to the dead-letter subjects can plant: replay refuses every subject the
// decoder would not accept, one error per dead letter, and keeps those.
func TestIntegrationReplayRefusesForeignSubjects(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testConfig())
	ctx := ctxT(t)
	plant := func(target string) uint64 {
		data := `{"userId":"u1"}`
		if strings.HasPrefix(target, "$JS.API.STREAM.DELETE.") {
			data = "" // what the API wants
		}
		m := &nats.Msg{Subject: "mcp.dlq.user.login", Data: []byte(data), Header: nats.Header{}}
		m.Header.Set(HeaderDLQSubject, target)
		ack, err := e.nats.JS.PublishMsg(ctx, m)
		require.NoError(t, err)
		return ack.Sequence
	}
	refused := map[uint64]string{}
	for _, target := range []string{
		"$JS.API.STREAM.DELETE." + e.cfg.Stream,
		"$JS.API.STREAM.PURGE." + e.cfg.Stream,
		"mcp.dlq.user.login",
		"mcp.user.bogus",
		"other.user.login",
		"_INBOX.x",
		"mcp.user.*",
	} {
		refused[plant(target)] = target
	}
	good := plant("mcp.user.login")

	n, err := ReplayDeadLetters(ctx, e.nats.JS, e.cfg, nil)
	require.Error(t, err)
	assert.Equal(t, 1, n, "the valid one is replayed")
	for seq, target := range refused {
		assert.Contains(t, err.Error(), fmt.Sprintf("dead letter %d: target subject %q", seq, target))
	}

	st, err := e.nats.JS.Stream(ctx, e.cfg.Stream)
	require.NoError(t, err, "the main stream is still there")
	info, err := st.Info(ctx)
	require.NoError(t, err)
	assert.Equal(t, uint64(1), info.State.Msgs, "only the valid dead letter reached it")

	var left []uint64
	for _, dl := range e.deadLetters() {
		left = append(left, dl.Seq)
	}
	assert.Len(t, left, len(refused), "refused dead letters stay")
	assert.NotContains(t, left, good)

	// By sequence too.
	for seq := range refused {
		_, err := ReplayDeadLetters(ctx, e.nats.JS, e.cfg, []uint64{seq})
		require.Error(t, err)
		assert.Contains(t, err.Error(), "not an event subject")
	}
}
