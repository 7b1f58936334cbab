package events

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"go.uber.org/zap"
)

// progressMsg counts InProgress calls; nothing else of jetstream.Msg is used.
type progressMsg struct {
	jetstream.Msg
	n atomic.Int64
}

func (m *progressMsg) InProgress() error { m.n.Add(1); return nil }

func TestKeeperSendsOnlyForMessagesHeldLongerThanThePeriod(t *testing.T) {
	k := newKeeper(time.Hour, func(string, string, ...zap.Field) {})
	old, fresh := &progressMsg{}, &progressMsg{}
	a := k.add(old)
	a.since = time.Now().Add(-2 * time.Second)
	b := k.add(fresh)

	k.sendDue(time.Now(), time.Second)
	assert.Equal(t, int64(1), old.n.Load())
	assert.Zero(t, fresh.n.Load(), "not due yet")

	k.sendDue(time.Now(), time.Second)
	assert.Equal(t, int64(1), old.n.Load(), "its clock restarted")

	k.release(a)
	k.release(b)
	k.sendDue(time.Now().Add(time.Hour), time.Second)
	assert.Equal(t, int64(1), old.n.Load(), "no InProgress after release")
	assert.Zero(t, fresh.n.Load())
}

func TestKeeperRunsUntilClosed(t *testing.T) {
	k := newKeeper(time.Hour, func(string, string, ...zap.Field) {})
	m := &progressMsg{}
	tr := k.add(m)
	k.start(20 * time.Millisecond)
	assert.Eventually(t, func() bool { return m.n.Load() >= 2 }, 2*time.Second, 5*time.Millisecond)
	k.release(tr)
	k.close()
	n := m.n.Load()
	time.Sleep(60 * time.Millisecond)
	assert.Equal(t, n, m.n.Load())
	k.close() // twice is fine
}
