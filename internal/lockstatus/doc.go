// Package lockstatus owns the distributed locks of the worker: per-user load
// locks and per-server locks, built on redsync against one Redis (single node,
// Cluster or managed sharded Redis).
//
// A lock is held only while a function runs (WithLock, TryWithLock), kept
// alive by extending it every TTL/3, and released only by its owner (redsync's
// compare-and-delete). If the lock cannot be extended the function's context
// is cancelled with ErrLockLost. The Fence handed to the function (the key and
// the owner token) lets a Redis script in the same hash slot refuse the write
// of a holder whose lock has expired: redsync on one Redis is not Redlock, and
// a failover or a long pause can let two workers believe they hold a lock.
//
// It must never build key names itself (callers pass the key, built by
// registry's key functions so that it shares the hash slot of what it guards)
// and it imports nothing else from this module.
package lockstatus
