package devstack

import (
	"fmt"
	"sync"
	"time"

	"github.com/alicebob/miniredis/v2"
)

// redisTick is how often the Redis clock moves. A key's TTL runs out at most
// one tick early (the first tick after a write forwards the whole interval).
const redisTick = 100 * time.Millisecond

// Redis is an in-memory Redis-protocol server (miniredis) whose TTLs really
// expire: a ticker moves its clock forward by the wall time that passed.
type Redis struct {
	srv  *miniredis.Miniredis
	addr string
	stop chan struct{}
	done chan struct{}
	once sync.Once
}

// StartRedis starts the server on addr (e.g. "127.0.0.1:16379";
// "127.0.0.1:0" picks a free port) and its clock.
func StartRedis(addr string) (*Redis, error) {
	srv := miniredis.NewMiniRedis()
	if err := srv.StartAddr(addr); err != nil {
		return nil, fmt.Errorf("redis on %s: %w", addr, err)
	}
	r := &Redis{srv: srv, addr: srv.Addr(), stop: make(chan struct{}), done: make(chan struct{})}
	go r.runClock()
	return r, nil
}

// runClock forwards the server's TTLs by the real elapsed time until Close.
// It never uses miniredis's ClockTTL, which sorts every key on every command.
func (r *Redis) runClock() {
	defer close(r.done)
	ticker := time.NewTicker(redisTick)
	defer ticker.Stop()
	last := time.Now()
	for {
		select {
		case <-r.stop:
			return
		case <-ticker.C:
			now := time.Now()
			r.srv.FastForward(now.Sub(last))
			last = now
		}
	}
}

// Addr returns the host:port the server listens on.
func (r *Redis) Addr() string { return r.addr }

// URL returns the server's redis:// URL.
func (r *Redis) URL() string { return "redis://" + r.addr }

// Close stops the clock and the server and waits for both. It is safe to call
// more than once.
func (r *Redis) Close() {
	r.once.Do(func() {
		close(r.stop)
		<-r.done
		r.srv.Close()
	})
}
