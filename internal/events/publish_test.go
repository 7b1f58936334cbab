package events

import (
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestIntegrationPublisher(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testConfig())
	p := NewPublisher(e.nats.JS, e.cfg)
	ctx := ctxT(t)
	st, err := e.nats.JS.Stream(ctx, e.cfg.Stream)
	require.NoError(t, err)

	t.Run("invalid payload is refused", func(t *testing.T) {
		_, _, err := p.Publish(ctx, "user.login", []byte(`{"userId":""}`), nil, false)
		require.ErrorIs(t, err, ErrPermanent)
		_, _, err = p.Publish(ctx, "user.nope", []byte(`{"userId":"u1"}`), nil, false)
		require.ErrorIs(t, err, ErrPermanent)
	})

	t.Run("eventId is the Nats-Msg-Id and a duplicate is dropped", func(t *testing.T) {
		hdr := nats.Header{}
		hdr.Set("X-Trace", "t1")
		payload := []byte(`{"userId":"u1","eventId":"evt-1"}`)
		id, ack, err := p.Publish(ctx, "user.login", payload, hdr, false)
		require.NoError(t, err)
		assert.Equal(t, "evt-1", id)
		assert.False(t, ack.Duplicate)
		assert.Equal(t, e.cfg.Stream, ack.Stream)
		assert.Equal(t, nats.Header{"X-Trace": {"t1"}}, hdr, "the caller's header is not changed")

		msg, err := st.GetMsg(ctx, ack.Sequence)
		require.NoError(t, err)
		assert.Equal(t, "mcp.user.login", msg.Subject)
		assert.Equal(t, "evt-1", msg.Header.Get(HeaderMsgID))
		assert.Equal(t, "t1", msg.Header.Get("X-Trace"))
		assert.Equal(t, payload, msg.Data)

		id2, ack2, err := p.Publish(ctx, "user.login", payload, nil, false)
		require.NoError(t, err)
		assert.Equal(t, "evt-1", id2)
		assert.True(t, ack2.Duplicate)
		assert.Equal(t, ack.Sequence, ack2.Sequence)
	})

	t.Run("no eventId gets a unique id", func(t *testing.T) {
		id1, ack1, err := p.Publish(ctx, "user.invalidate", []byte(`{"userId":"u1"}`), nil, false)
		require.NoError(t, err)
		id2, ack2, err := p.Publish(ctx, "user.invalidate", []byte(`{"userId":"u1"}`), nil, false)
		require.NoError(t, err)
		assert.NotEmpty(t, id1)
		assert.NotEqual(t, id1, id2)
		assert.False(t, ack2.Duplicate)
		assert.NotEqual(t, ack1.Sequence, ack2.Sequence)

		hdr := nats.Header{}
		hdr.Set(HeaderMsgID, "caller-id")
		id3, _, err := p.Publish(ctx, "user.invalidate", []byte(`{"userId":"u1"}`), hdr, false)
		require.NoError(t, err)
		assert.Equal(t, "caller-id", id3)
	})

	t.Run("force publishes an invalid event", func(t *testing.T) {
		id, ack, err := p.Publish(ctx, "server.updated", []byte(`{"serverName":"s","eventId":"bad-1"}`), nil, true)
		require.NoError(t, err)
		assert.Equal(t, "bad-1", id)
		assert.False(t, ack.Duplicate)
		id, _, err = p.Publish(ctx, "user.login", []byte(`not json`), nil, true)
		require.NoError(t, err)
		assert.NotEmpty(t, id)
		_, _, err = p.Publish(ctx, "user.*", []byte(`{"userId":"u1"}`), nil, true)
		require.ErrorContains(t, err, "not a subject")
	})
}
