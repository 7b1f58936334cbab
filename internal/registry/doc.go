// Package registry is the Redis registry that chat/API nodes read, in layout
// 2: each server's one value and record (scope, versions, allowed set, revoke
// set, login-holder index), users' membership hashes (atomic snapshots whose
// loaded mark and TTL live in the same key), the shared tiers (names of
// public servers), the Lua scripts that write them, the key builders, and the
// read API used by `worker inspect`.
//
// Layout, read algorithm and guarantees: docs/redis-layout.md. Every key one
// operation touches shares a hash slot ({u:<user>}, {s:<server>} or
// {shared}); ids are escaped so that no byte of an id can end a hash tag or a
// key segment; no operation uses SCAN or KEYS. An update or delete of a
// server touches that server's keys only; grants and revokes touch only the
// users whose membership changes.
//
// It decides nothing about events: handlers say what to write, this package
// writes it atomically. It imports nothing else from this module.
package registry
