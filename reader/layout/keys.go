package layout

import (
	"strconv"
	"strings"
)

// Version is the registry layout these keys describe (docs/redis-layout.md).
// The worker stores it under Keys.Layout.
const Version = 2

// HolderBuckets is how many small hashes a server's login-holder index is
// spread over. Small hashes stay in Redis's compact listpack encoding (up to
// 512 fields each), so an index entry costs about a third of a member of one
// big set; 128 buckets keep that up to ~65,000 holders per server.
const HolderBuckets = 128

// Keys builds every Redis key name of the registry. It is the only place key
// strings are made (lock keys included, so that a lock shares the hash slot of
// what it guards).
//
// Room for tenants: the default tenant's keys are the ones below; a tenant's
// own server and tier keys will put the escaped tenant id in the hash tag
// ({t:<tenant>:s:<name>}, {t:<tenant>:shared}), which no default-tenant key
// can collide with because ':' is escaped inside ids.
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

// Layout is the string holding the layout version of everything under the prefix.
func (k Keys) Layout() string { return k.prefix + "layout" }

// UserMembers is the user's private registry: a hash server name -> record
// revision (membership; a value starting with '-' is a tombstone of a removed
// server), plus the field LoadedField while the user is loaded. The key exists
// exactly while the user is loaded and carries the one TTL (--cache-ttl).
func (k Keys) UserMembers(user string) string { return k.user(user, "m") }

// UserPending is the hash that exists while a load is in progress: the load's
// token and the membership changes that arrived during the load.
func (k Keys) UserPending(user string) string { return k.user(user, "pending") }

// UserLock is the per-user load lock (redsync).
func (k Keys) UserLock(user string) string { return k.user(user, "lock") }

// ServerRecord is the hash holding a server's scope, canonical config, versions and revision.
func (k Keys) ServerRecord(name string) string { return k.server(name, "rec") }

// ServerValue is the string holding the server's one cached value (JSON), the
// bytes every reader gets; absent while the server is deleted or unknown.
func (k Keys) ServerValue(name string) string { return k.server(name, "val") }

// ServerAllowed is the set of users allowed to use a private server.
func (k Keys) ServerAllowed(name string) string { return k.server(name, "allowed") }

// ServerRevoke is the set of users an access change took the server from and
// whose membership may still need removing (drained by the fan-out).
func (k Keys) ServerRevoke(name string) string { return k.server(name, "revoke") }

// ServerAllowedNext is the scratch set apply_record builds a new allowed set in.
func (k Keys) ServerAllowedNext(name string) string { return k.server(name, "allowed:next") }

// ServerAllowedStaged is where a flow holding the server lock with token
// builds a new allowed set in chunks (access derived from MongoDB) before
// apply_record swaps it in.
func (k Keys) ServerAllowedStaged(name, token string) string {
	return k.server(name, "allowed:staged:"+EscapeID(token))
}

// ServerHolders is bucket b (0 <= b < HolderBuckets) of the login-holder
// index: users whose login snapshot may hold the server.
func (k Keys) ServerHolders(name string, b int) string {
	return k.server(name, "h:"+strconv.Itoa(b))
}

// ServerLock is the per-server lock (redsync) serialising record changes.
func (k Keys) ServerLock(name string) string { return k.server(name, "lock") }

// Tier is the hash server name -> record revision of one shared tier's members.
func (k Keys) Tier(t Tier) string { return k.prefix + "{shared}:" + string(t) }

// TierRevs is the hash server name -> revision of the last tier change, which
// fences tier writes the way tombstones fence private ones.
func (k Keys) TierRevs() string { return k.prefix + "{shared}:revs" }

// UserFeed is the sharded pub/sub channel of the user's change notices
// (membership added, removed, reloaded); it shares the user's hash slot.
func (k Keys) UserFeed(user string) string { return k.user(user, "feed") }

// ServerFeed is the sharded pub/sub channel of a server's value changes.
func (k Keys) ServerFeed(name string) string { return k.server(name, "feed") }

// SharedFeed is the sharded pub/sub channel of the shared tiers' changes.
func (k Keys) SharedFeed() string { return k.prefix + "{shared}:feed" }

// UserAudit is the user's audit outbox: a list of audit entries (JSON) that
// apply_user.lua and commit_load.lua append in the same step as the change
// they record, drained to the audit stream by the worker. Worker-internal:
// readers never read it.
func (k Keys) UserAudit(user string) string { return k.user(user, "audit") }

// ServerAudit is the server's audit outbox (apply_record.lua: a delete).
func (k Keys) ServerAudit(name string) string { return k.server(name, "audit") }

// Parked is the list of events parked while dependency (a name such as
// "mongodb") is down, waiting to be published back to the stream.
// Worker-internal: readers never read it.
func (k Keys) Parked(dependency string) string { return k.prefix + "{parked}:" + dependency }

// SharedAudit is the shared tiers' audit outbox (put_tier.lua: promotes,
// demotes and moves between tiers).
func (k Keys) SharedAudit() string { return k.prefix + "{shared}:audit" }

// LoadedIndexShards is how many sorted sets the index of loaded users is
// spread over (each in its own hash slot, so Cluster shares the load).
const LoadedIndexShards = 64

// LoadedIndex is shard n of the index of loaded users: user -> expiry of the
// user's registry (Unix ms). Walked by reconcile, never by a flow; members
// whose expiry passed are pruned as it walks.
func (k Keys) LoadedIndex(n int) string { return k.prefix + "{loaded:" + strconv.Itoa(n) + "}" }

// LoadedShard returns the shard of user in the index of loaded users.
func LoadedShard(user string) int { return HolderBucket(user) % LoadedIndexShards }

// LegacyTier is the first layout's tier hash (server name -> value); read
// only to migrate it.
func (k Keys) LegacyTier(t Tier) string { return k.prefix + "{shared}:tier:" + string(t) }

// HolderBucket returns the bucket of user in a server's holder index (FNV-1a).
func HolderBucket(user string) int {
	h := uint32(2166136261)
	for i := 0; i < len(user); i++ {
		h ^= uint32(user[i])
		h *= 16777619
	}
	return int(h % HolderBuckets)
}

// LoadedField is the reserved field of UserMembers that marks the user as
// loaded (value: load time, Unix ms). It starts with a NUL byte, which no
// server name can contain.
const LoadedField = "\x00loaded"

// Tier is a shared registry tier, or the pseudo-tier of a user's private
// registry. On a name clash app beats user beats private.
type Tier string

// The shared tiers and the private pseudo-tier.
const (
	TierApp     Tier = "app"
	TierUser    Tier = "user"
	TierPrivate Tier = "private"
)

// SharedTiers lists the shared tiers in precedence order.
var SharedTiers = []Tier{TierApp, TierUser}

// TenantField is the reserved field of a user's members hash holding the
// user's tenant (absent for the default tenant, the documents without
// tenantId). Readers filter the shared tiers by it.
const TenantField = "\x00tenant"

// IsReserved reports whether a members-hash field is one of the worker's
// reserved fields (they start with a NUL byte, which no server name has).
func IsReserved(field string) bool { return field != "" && field[0] == 0 }

// tenantSep separates a tenant from a server name in a qualified name: a
// control character, which no validated id contains, so the split is exact.
const tenantSep = "\x1f"

// Qualify returns the registry's name of server name in tenant: the name
// itself in the default tenant (""), else "<tenant>\x1f<name>". Server keys,
// memberships, tiers and feeds use qualified names, so two tenants' servers
// of the same name never share a record, a value or a tier entry.
func Qualify(tenant, name string) string {
	if tenant == "" {
		return name
	}
	return tenant + tenantSep + name
}

// Unqualify splits a qualified name into tenant ("" default) and name.
func Unqualify(qualified string) (tenant, name string) {
	if t, n, ok := strings.Cut(qualified, tenantSep); ok {
		return t, n
	}
	return "", qualified
}
