package handlers

import (
	"fmt"
	"time"

	"github.com/mcp-registry/worker/internal/events"

	"github.com/mcp-registry/worker/internal/registry"
	"github.com/mcp-registry/worker/internal/serverdb"
)

// recordClockMargin widens "changed after the load began" to absorb clock
// differences between Redis Cluster nodes (the user's and the server's slots
// may live on different nodes).
const recordClockMargin = 2 * time.Second

// snapshotEntries decides what a login caches of each server it read from
// MongoDB, given the server's record (states[i] belongs to servers[i]):
//   - a server whose record says public (served from its tier) or deleted is
//     left out;
//   - a server whose access changed after the load began (by Redis's clock)
//     and no longer lists the user is left out: that revoke is newer than
//     what MongoDB returned. An older access change does not override
//     MongoDB, which already reflects it or something newer (group and role
//     changes have no events);
//   - the config is the record's canonical one when its version is at least
//     the document's updatedAt, else MongoDB's.
func snapshotEntries(servers []serverdb.Server, states []registry.ServerState, loadStartedAtMs int64) ([]registry.Entry, error) {
	entries := make([]registry.Entry, 0, len(servers))
	for i, s := range servers {
		st := states[i]
		if st.Scope == registry.ScopePublic || st.Scope == registry.ScopeDeleted {
			continue
		}
		revokedSinceStart := st.AccessVersion > 0 && !st.Allowed &&
			st.AccessChangedAtMs >= loadStartedAtMs-recordClockMargin.Milliseconds()
		if revokedSinceStart {
			continue
		}
		config, updatedAt := s.Config, s.UpdatedAtMs
		if len(st.Config) > 0 && st.ConfigVersion >= s.UpdatedAtMs {
			config, updatedAt = st.Config, st.ConfigVersion
		}
		value, err := registry.Value(config, s.DBID, updatedAt)
		if err != nil {
			return nil, fmt.Errorf("server %q: %w", s.Name, err)
		}
		entries = append(entries, registry.Entry{Name: s.Name, Value: value, Rev: st.Rev})
	}
	return entries, nil
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
