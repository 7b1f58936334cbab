package events

import (
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
)

// summary counts handled messages by kind and outcome between two summary
// log lines. At info the consume loop writes one such line every period
// instead of a line per message (that one is at debug); errors, dead letters
// and dropped messages are always logged one by one.
type summary struct {
	mu     sync.RWMutex
	counts map[summaryKey]*atomic.Int64
	slow   atomic.Int64 // longest handling time since the last line, ns
}

type summaryKey struct{ kind, outcome string }

func newSummary() *summary { return &summary{counts: map[summaryKey]*atomic.Int64{}} }

// add counts one message.
func (s *summary) add(kind, outcome string, took time.Duration) {
	k := summaryKey{kind, outcome}
	s.mu.RLock()
	n, ok := s.counts[k]
	s.mu.RUnlock()
	if !ok {
		s.mu.Lock()
		if n, ok = s.counts[k]; !ok {
			n = new(atomic.Int64)
			s.counts[k] = n
		}
		s.mu.Unlock()
	}
	n.Add(1)
	for {
		cur := s.slow.Load()
		if int64(took) <= cur || s.slow.CompareAndSwap(cur, int64(took)) {
			return
		}
	}
}

// take returns the counts since the last take ({kind: {outcome: n}}), the
// total and the longest handling time, and starts counting afresh.
func (s *summary) take() (map[string]map[string]int64, int64, time.Duration) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := map[string]map[string]int64{}
	var total int64
	for k, n := range s.counts {
		v := n.Swap(0)
		if v == 0 {
			continue
		}
		if out[k.kind] == nil {
			out[k.kind] = map[string]int64{}
		}
		out[k.kind][k.outcome] = v
		total += v
	}
	return out, total, time.Duration(s.slow.Swap(0))
}

// logSummaries writes a summary line every period until stop is closed, and
// a last one then; nothing for a period without messages.
func (c *Consumer) logSummaries(period time.Duration, stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			c.logSummary(period)
		case <-stop:
			c.logSummary(period)
			return
		}
	}
}

func (c *Consumer) logSummary(period time.Duration) {
	counts, total, slowest := c.summary.take()
	if total == 0 {
		return
	}
	c.log.Info("Messages handled",
		zap.Duration("period", period), zap.Int64("messages", total),
		zap.Any("by_kind", counts), zap.Duration("slowest", slowest))
}
