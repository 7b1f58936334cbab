package lockstatus

import "errors"

// ErrLocked says another owner holds the lock.
var ErrLocked = errors.New("lock held by another owner")

// ErrLockLost is the cause of the context cancellation when the lock could
// not be extended: the holder must not write anything any more.
var ErrLockLost = errors.New("lock lost")
