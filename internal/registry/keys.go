package registry

import "strings"

// Keys builds every Redis key name of the registry. It is the only place key
// strings are made (lock keys included, so that a lock shares the hash slot of
// what it guards).
type Keys struct {
	prefix string
}

// NewKeys returns key builders under prefix (--key-prefix). The prefix must
// not contain '{' or '}' (the config validation refuses them).
func NewKeys(prefix string) Keys { return Keys{prefix: prefix} }

// idEscaper percent-escapes the bytes that could end a hash tag ('}'), open
// one ('{'), end a key segment (':') or collide with an escape ('%'). Every
// other byte of an id is kept, so keys stay readable.
var idEscaper = strings.NewReplacer("%", "%25", "{", "%7B", "}", "%7D", ":", "%3A")

// EscapeID returns the form of an id used inside key names.
func EscapeID(id string) string { return idEscaper.Replace(id) }

func (k Keys) user(id, part string) string {
	return k.prefix + "{u:" + EscapeID(id) + "}:" + part
}

func (k Keys) server(name, part string) string {
	return k.prefix + "{s:" + EscapeID(name) + "}:" + part
}

// UserRegistry is the hash server name -> cached value of a user's private registry.
func (k Keys) UserRegistry(user string) string { return k.user(user, "reg") }

// UserLoaded is the user's loaded flag (value: load time in Unix ms); it
// expires together with UserRegistry.
func (k Keys) UserLoaded(user string) string { return k.user(user, "loaded") }

// UserPending is the hash that exists while a load is in progress: the load's
// token and the server changes that arrived during the load.
func (k Keys) UserPending(user string) string { return k.user(user, "pending") }

// UserRevs is the hash server name -> revision of the last change applied to
// the user's entry (tombstones included); a change older than that is refused,
// which fences a server-flow writer whose lock expired. Same TTL as UserRegistry.
func (k Keys) UserRevs(user string) string { return k.user(user, "revs") }

// UserLock is the per-user load lock (redsync).
func (k Keys) UserLock(user string) string { return k.user(user, "lock") }

// ServerRecord is the hash holding a server's scope, tier, canonical config and versions.
func (k Keys) ServerRecord(name string) string { return k.server(name, "rec") }

// ServerAllowed is the set of users allowed to use a private server.
func (k Keys) ServerAllowed(name string) string { return k.server(name, "allowed") }

// ServerCachedBy is the reverse index: users whose private registry may hold the server.
func (k Keys) ServerCachedBy(name string) string { return k.server(name, "cachedby") }

// ServerLock is the per-server lock (redsync) serialising record changes.
func (k Keys) ServerLock(name string) string { return k.server(name, "lock") }

// Tier is the hash server name -> value of one shared tier.
func (k Keys) Tier(t Tier) string { return k.prefix + "{shared}:tier:" + string(t) }

// TierRevs is the hash server name -> revision of the last tier change, which
// fences tier writes the way UserRevs fences private ones.
func (k Keys) TierRevs() string { return k.prefix + "{shared}:revs" }
