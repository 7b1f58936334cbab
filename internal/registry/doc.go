// Package registry is the Redis registry that chat/API nodes read: per-user
// private registries (atomic snapshots with a loaded flag and one TTL), the
// shared tiers, server records and the reverse index (server -> users who have
// it cached), the Lua scripts that write them, the key builders, and the read
// API used by `worker inspect` and by other Go services.
//
// Layout and guarantees: docs/redis-layout.md. Every key one operation touches
// shares a hash slot ({u:<user>}, {s:<server>} or {shared}); ids are escaped so
// that no byte of an id can end a hash tag or a key segment; no operation
// uses SCAN or KEYS.
//
// It decides nothing about events: handlers say what to write, this package
// writes it atomically. It imports nothing else from this module.
package registry
