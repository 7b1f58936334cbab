package handlers

import (
	"time"

	"github.com/mcp-registry/worker/internal/events"
	"github.com/mcp-registry/worker/internal/registry"
	"github.com/mcp-registry/worker/internal/serverdb"
)

// recordClockMargin widens "changed after the load began" to absorb clock
// differences between Redis Cluster nodes (the user's and the server's slots
// may live on different nodes).
const recordClockMargin = 2 * time.Second

// snapshot decides what a login caches of each server it read from MongoDB,
// given the server's record (states[i] belongs to servers[i]):
//   - a server whose record says public (served from its tier) or deleted is
//     left out;
//   - a server whose access changed after the load began (by Redis's clock)
//     and no longer lists the user is left out: that revoke is newer than
//     what MongoDB returned. An older access change does not override
//     MongoDB, which already reflects it or something newer (group and role
//     changes have no events);
//   - every other server is a member, at the record revision read.
//
// It also returns the values the load must give servers (adoptions): a
// server whose record has no value yet, whose MongoDB id the record lacks, or
// whose MongoDB config is newer than the record's and was not changed by an
// event since the load began. Which config is newer is decided by Redis's
// clock (the record's cfgChangedAt against the load's start), never by
// comparing event versions with MongoDB dates: versions may be counters.
func snapshot(servers []serverdb.Server, states []registry.ServerState, loadStartedAtMs int64) ([]registry.Entry, []registry.Adoption) {
	entries := make([]registry.Entry, 0, len(servers))
	var adoptions []registry.Adoption
	since := accessSince(loadStartedAtMs)
	for i, s := range servers {
		st := states[i]
		if st.Scope == registry.ScopePublic || st.Scope == registry.ScopeDeleted {
			continue
		}
		// A revoke newer than the read wins, except for a server reached
		// through an agent: the allowed set does not govern that path.
		if !s.ConsumeOnly && st.AccessVersion > 0 && !st.Allowed && st.AccessChangedAtMs >= since {
			continue
		}
		entries = append(entries, registry.Entry{Name: s.Name, Rev: st.Rev, ConsumeOnly: s.ConsumeOnly})
		a := registry.Adoption{Server: s.Name, Rev: st.Rev, Config: st.Config, DBID: s.DBID, UpdatedAtMs: st.UpdatedAtMs}
		mongoNewer := len(st.Config) == 0 ||
			(s.UpdatedAtMs > st.UpdatedAtMs && st.ConfigChangedAtMs < since)
		if mongoNewer {
			a.Config, a.UpdatedAtMs = s.Config, s.UpdatedAtMs
		}
		if mongoNewer || !st.HasValue || (s.DBID != "" && st.DBID != s.DBID) {
			adoptions = append(adoptions, a)
		}
	}
	return entries, adoptions
}

// accessSince is the Redis-clock time from which a record change counts as
// newer than a load that began at loadStartedAtMs.
func accessSince(loadStartedAtMs int64) int64 {
	return loadStartedAtMs - recordClockMargin.Milliseconds()
}

// withValidNames drops servers whose name events could never carry (control
// characters, over 256 bytes): such a name could not be kept apart from the
// registry's reserved fields.
func withValidNames(servers []serverdb.Server) []serverdb.Server {
	out := servers[:0:0]
	for _, s := range servers {
		if events.ValidateID(s.Name) == nil {
			out = append(out, s)
		}
	}
	return out
}
