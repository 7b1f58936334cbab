package registry

import "github.com/mcp-registry/worker/reader/layout"

// LayoutVersion is the registry layout this package reads and writes
// (docs/redis-layout.md). It is stored under Keys.Layout.
const LayoutVersion = layout.Version

// HolderBuckets is how many small hashes a server's login-holder index is
// spread over (see layout.HolderBuckets).
const HolderBuckets = layout.HolderBuckets

// LoadedField is the reserved field of a user's members hash that marks the
// user as loaded (see layout.LoadedField).
const LoadedField = layout.LoadedField

// Keys builds every Redis key name of the registry; the names live in the
// public package reader/layout, shared with the readers.
type Keys = layout.Keys

// NewKeys returns key builders under prefix (--key-prefix). The prefix must
// not contain '{' or '}' (the config validation refuses them).
func NewKeys(prefix string) Keys { return layout.NewKeys(prefix) }

// EscapeID returns the form of an id used inside key names.
func EscapeID(id string) string { return layout.EscapeID(id) }

// HolderBucket returns the bucket of user in a server's holder index.
func HolderBucket(user string) int { return layout.HolderBucket(user) }
