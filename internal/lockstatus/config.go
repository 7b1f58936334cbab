package lockstatus

import (
	"errors"
	"time"
)

// Config sets the lock timings. Set them deliberately: redsync's defaults
// (8 s expiry, 32 tries) are not ours.
type Config struct {
	// TTL is the lock's expiry; the keep-alive extends it every TTL/3.
	TTL time.Duration
	// WaitTries and RetryDelay bound how long WithLock waits for a held lock.
	WaitTries  int
	RetryDelay time.Duration
}

// DefaultConfig returns a 10 s TTL and waits up to about 2 s for a lock.
func DefaultConfig() Config {
	return Config{TTL: 10 * time.Second, WaitTries: 40, RetryDelay: 50 * time.Millisecond}
}

// Validate reports a setting that cannot work.
func (c Config) Validate() error {
	switch {
	case c.TTL < 30*time.Millisecond:
		return errors.New("lock ttl must be at least 30ms")
	case c.WaitTries < 1:
		return errors.New("lock wait tries must be at least 1")
	case c.RetryDelay <= 0:
		return errors.New("lock retry delay must be positive")
	}
	return nil
}
