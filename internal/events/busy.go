package events

import "sync"

// busyCounts remembers, per stream sequence, how many deliveries of a message
// this replica handed back as busy (BusyError). Busy deliveries are waiting,
// not failing: they must not use up the transient-failure budget
// (RetryPolicy.MaxDeliver) of a message whose next attempt fails for real.
// Replica-local and bounded: another replica's busy deliveries are not seen,
// which only makes the budget stricter, never looser.
type busyCounts struct {
	mu    sync.Mutex
	max   int
	m     map[uint64]uint64
	order []uint64 // insertion order, to forget the oldest beyond max
}

func newBusyCounts(max int) *busyCounts {
	return &busyCounts{max: max, m: make(map[uint64]uint64)}
}

// get returns the busy deliveries recorded for seq.
func (b *busyCounts) get(seq uint64) uint64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.m[seq]
}

// add records one more busy delivery of seq.
func (b *busyCounts) add(seq uint64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.m[seq]; !ok {
		b.order = append(b.order, seq)
		for len(b.order) > b.max {
			delete(b.m, b.order[0])
			b.order = b.order[1:]
		}
	}
	b.m[seq]++
}

// forget drops seq once its message is finished.
func (b *busyCounts) forget(seq uint64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.m, seq) // its place in order is dropped lazily by add
}
