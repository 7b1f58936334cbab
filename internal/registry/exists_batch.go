package registry

import (
	"context"
	"sync"

	"github.com/redis/go-redis/v9"
)

// existsBatcher answers concurrent EXISTS questions (is this user loaded?)
// with pipelines: while at most inFlight pipelines are out, later questions
// queue, and whichever waiting caller gets a free slot sends everything
// queued (up to maxBatch) as one pipeline and hands each caller its answer.
// A lone caller sends at once, alone: nothing waits for a batch to fill.
//
// It starts no goroutine: callers send the batches. A caller whose question
// another caller took only waits for that pipeline; a caller never sends more
// than one batch without its own question answered or taken. Under a burst
// of warm logins this turns one Redis round trip per login into one per
// batch, on both sides of the socket.
type existsBatcher struct {
	rdb      redis.UniversalClient
	maxBatch int
	slots    chan struct{} // one token per pipeline in flight

	mu    sync.Mutex
	queue []*existsQuestion
}

// existsQuestion is one caller's key and, once done is closed, its answer.
type existsQuestion struct {
	key    string
	taken  bool // in a pipeline (set under the batcher's mutex)
	exists bool
	err    error
	done   chan struct{}
}

func newExistsBatcher(rdb redis.UniversalClient, inFlight, maxBatch int) *existsBatcher {
	return &existsBatcher{rdb: rdb, maxBatch: maxBatch, slots: make(chan struct{}, inFlight)}
}

// exists reports whether key exists. ctx bounds the caller's wait; a
// pipeline already sent finishes with go-redis's own timeouts.
func (b *existsBatcher) exists(ctx context.Context, key string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	q := &existsQuestion{key: key, done: make(chan struct{})}
	b.mu.Lock()
	b.queue = append(b.queue, q)
	b.mu.Unlock()
	for {
		select {
		case <-q.done:
			return q.exists, q.err
		case <-ctx.Done():
			return false, ctx.Err()
		case b.slots <- struct{}{}:
		}
		batch := b.take(q)
		if batch == nil { // q is in a pipeline already: wait for it
			<-b.slots
			select {
			case <-q.done:
				return q.exists, q.err
			case <-ctx.Done():
				return false, ctx.Err()
			}
		}
		b.send(context.WithoutCancel(ctx), batch)
		<-b.slots
	}
}

// take removes up to maxBatch questions from the queue, or returns nil when
// q was taken by another caller.
func (b *existsBatcher) take(q *existsQuestion) []*existsQuestion {
	b.mu.Lock()
	defer b.mu.Unlock()
	if q.taken {
		return nil
	}
	n := min(len(b.queue), b.maxBatch)
	batch := make([]*existsQuestion, n)
	copy(batch, b.queue)
	for _, t := range batch {
		t.taken = true
	}
	rest := copy(b.queue, b.queue[n:])
	clear(b.queue[rest:])
	b.queue = b.queue[:rest]
	return batch
}

// send asks Redis for every question of batch (one command alone, else one
// pipeline) and answers each.
func (b *existsBatcher) send(ctx context.Context, batch []*existsQuestion) {
	if len(batch) == 1 {
		q := batch[0]
		n, err := b.rdb.Exists(ctx, q.key).Result()
		q.exists, q.err = n == 1, err
		close(q.done)
		return
	}
	cmds := make([]*redis.IntCmd, len(batch))
	_, _ = b.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, q := range batch {
			cmds[i] = p.Exists(ctx, q.key)
		}
		return nil
	})
	for i, q := range batch {
		n, err := cmds[i].Result()
		q.exists, q.err = n == 1, err
		close(q.done)
	}
}
