package lockstatus

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-redsync/redsync/v4"
	"github.com/go-redsync/redsync/v4/redis/goredis/v9"
	"github.com/redis/go-redis/v9"
)

// Fence identifies one holding of a lock: the lock key and the owner's token
// (the value redsync stored). A write script given both refuses to run when
// the key no longer holds the token.
type Fence struct {
	Key   string
	Token string
}

// Locker hands out locks. It is safe for concurrent use; each holding uses a
// Mutex of its own (a redsync Mutex is not goroutine-safe).
type Locker struct {
	rs      *redsync.Redsync
	cfg     Config
	metrics *Metrics
}

// New returns a Locker on client (a single, failover or cluster client).
func New(client redis.UniversalClient, cfg Config) *Locker {
	return NewInstrumented(client, cfg, nil)
}

// NewInstrumented is New recording m (nil records nothing).
func NewInstrumented(client redis.UniversalClient, cfg Config, m *Metrics) *Locker {
	return &Locker{rs: redsync.New(goredis.NewPool(client)), cfg: cfg, metrics: m}
}

// WithLock waits (bounded by Config) for the lock at key, runs fn while
// keeping the lock alive, then releases it. It returns ErrLocked when the
// lock stayed taken, fn's error otherwise.
func (l *Locker) WithLock(ctx context.Context, key string, fn func(ctx context.Context, f Fence) error) error {
	return l.run(ctx, key, l.cfg.WaitTries, fn)
}

// TryWithLock is WithLock with a single attempt: ErrLocked at once when the
// lock is taken.
func (l *Locker) TryWithLock(ctx context.Context, key string, fn func(ctx context.Context, f Fence) error) error {
	return l.run(ctx, key, 1, fn)
}

func (l *Locker) run(ctx context.Context, key string, tries int, fn func(ctx context.Context, f Fence) error) error {
	m := l.rs.NewMutex(key,
		redsync.WithExpiry(l.cfg.TTL),
		redsync.WithTries(tries),
		redsync.WithRetryDelay(l.cfg.RetryDelay),
	)
	began := time.Now()
	if err := m.LockContext(ctx); err != nil {
		err = classifyLockError(ctx, key, err)
		l.metrics.acquired(ctx, err, time.Since(began))
		return err
	}
	l.metrics.acquired(ctx, nil, time.Since(began))
	held := time.Now()
	defer func() { l.metrics.released(time.Since(held)) }()
	workCtx, cancel := context.WithCancelCause(ctx)
	stopped := l.keepAlive(workCtx, cancel, m)

	err := fn(workCtx, Fence{Key: key, Token: m.Value()})
	if cause := context.Cause(workCtx); errors.Is(cause, ErrLockLost) && err != nil {
		err = fmt.Errorf("%w: %w", ErrLockLost, err)
	}

	cancel(nil)
	<-stopped // the Mutex is not goroutine-safe: stop extending before unlocking
	unlockCtx, done := context.WithTimeout(context.WithoutCancel(ctx), l.cfg.TTL)
	defer done()
	// An expired lock (ErrLockAlreadyExpired) or a Redis error here changes
	// nothing: the key expires by itself and nobody else's lock is touched.
	_, _ = m.UnlockContext(unlockCtx)
	return err
}

// keepAlive extends the lock every TTL/3 until ctx is done. When an extension
// fails the work context is cancelled with ErrLockLost. The returned channel
// is closed when the goroutine has stopped.
func (l *Locker) keepAlive(ctx context.Context, cancel context.CancelCauseFunc, m *redsync.Mutex) <-chan struct{} {
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(l.cfg.TTL / 3)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				extendCtx, done := context.WithTimeout(ctx, l.cfg.TTL/3)
				ok, _ := m.ExtendContext(extendCtx)
				done()
				// Any ok == false is a lost lock (PITFALLS: the error text misleads).
				if !ok && ctx.Err() == nil {
					l.metrics.lostOne()
					cancel(ErrLockLost)
					return
				}
			}
		}
	}()
	return stopped
}

func classifyLockError(ctx context.Context, key string, err error) error {
	var taken *redsync.ErrTaken
	var nodeTaken *redsync.ErrNodeTaken
	switch {
	case errors.As(err, &taken), errors.As(err, &nodeTaken):
		return fmt.Errorf("lock %s: %w", key, ErrLocked)
	case errors.Is(err, redsync.ErrFailed) && ctx.Err() != nil:
		return fmt.Errorf("lock %s: %w", key, ctx.Err())
	case errors.Is(err, redsync.ErrFailed):
		return fmt.Errorf("lock %s: %w", key, ErrLocked)
	default:
		return fmt.Errorf("lock %s: %w", key, err)
	}
}
