package events

import (
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"
)

// keeper sends InProgress for the messages being handled, from one goroutine
// per replica instead of a timer per message: every period it tells
// JetStream that each message handled for longer than period is still being
// worked on, so that AckWait does not run out under a slow flow.
//
// A message is tracked from add until its release; release holds the same
// lock as the sender, so once it returns no InProgress of that message can
// follow (after a NakWithDelay one would reset the redelivery timer).
type keeper struct {
	period time.Duration
	warn   func(key, msg string, fields ...zap.Field)

	mu    sync.Mutex
	msgs  map[*tracked]struct{}
	stop  chan struct{}
	done  chan struct{}
	alive bool
}

// tracked is one message the keeper keeps alive.
type tracked struct {
	msg   jetstream.Msg
	since time.Time
}

func newKeeper(period time.Duration, warn func(key, msg string, fields ...zap.Field)) *keeper {
	return &keeper{period: period, warn: warn, msgs: map[*tracked]struct{}{}}
}

// start runs the sender until close; period may change between two starts
// (the consumer's actual AckWait is known only once it is looked up).
func (k *keeper) start(period time.Duration) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.alive {
		return
	}
	k.period = period
	k.alive = true
	k.stop = make(chan struct{})
	k.done = make(chan struct{})
	go k.run(period, k.stop, k.done)
}

// close stops the sender and waits for it.
func (k *keeper) close() {
	k.mu.Lock()
	if !k.alive {
		k.mu.Unlock()
		return
	}
	k.alive = false
	close(k.stop)
	done := k.done
	k.mu.Unlock()
	<-done
}

func (k *keeper) run(period time.Duration, stop, done chan struct{}) {
	defer close(done)
	// Checking twice per period keeps a message's silence below 1.5 periods
	// (AckWait/2 with period AckWait/3).
	t := time.NewTicker(max(period/2, time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case now := <-t.C:
			k.sendDue(now, period)
		}
	}
}

// sendDue sends InProgress for every message tracked for at least period
// and restarts its clock.
func (k *keeper) sendDue(now time.Time, period time.Duration) {
	k.mu.Lock()
	defer k.mu.Unlock()
	for m := range k.msgs {
		if now.Sub(m.since) < period {
			continue
		}
		m.since = now
		if err := m.msg.InProgress(); err != nil {
			k.warn("in-progress", "InProgress failed, the message may be redelivered", zap.Error(err))
		}
	}
}

// add tracks msg from now on.
func (k *keeper) add(msg jetstream.Msg) *tracked {
	m := &tracked{msg: msg, since: time.Now()}
	k.mu.Lock()
	k.msgs[m] = struct{}{}
	k.mu.Unlock()
	return m
}

// release stops tracking m; no InProgress of it is sent after it returns.
func (k *keeper) release(m *tracked) {
	k.mu.Lock()
	delete(k.msgs, m)
	k.mu.Unlock()
}
