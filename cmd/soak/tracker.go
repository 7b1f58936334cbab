package main

import (
	"encoding/json"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
)

// notifyPrefix is where the workers announce finished events (Mcp-Notify).
const notifyPrefix = "_INBOX.soak."

// record is one published event: when it was published and when the
// worker's notice said it finished, and how.
type record struct {
	kind      string
	published time.Time
	noticed   time.Time // zero: no notice (yet)
	outcome   string
}

// tracker keeps every published event's record; notices complete them.
type tracker struct {
	mu      sync.Mutex
	records map[string]*record
	order   []string
}

func newTracker() *tracker { return &tracker{records: map[string]*record{}} }

func (t *tracker) published(id, kind string, at time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.records[id] = &record{kind: kind, published: at}
	t.order = append(t.order, id)
}

// subscribe records the first notice of each event.
func (t *tracker) subscribe(nc *nats.Conn) (*nats.Subscription, error) {
	return nc.Subscribe(notifyPrefix+">", func(msg *nats.Msg) {
		now := time.Now()
		var n struct{ EventID, Outcome string }
		if json.Unmarshal(msg.Data, &n) != nil {
			return
		}
		t.mu.Lock()
		defer t.mu.Unlock()
		if r := t.records[n.EventID]; r != nil && r.noticed.IsZero() {
			r.noticed, r.outcome = now, n.Outcome
		}
	})
}

// snapshot returns copies of the records in publish order.
func (t *tracker) snapshot() []record {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]record, len(t.order))
	for i, id := range t.order {
		out[i] = *t.records[id]
	}
	return out
}
