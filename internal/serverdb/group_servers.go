package serverdb

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// GroupServers returns the names, sorted and distinct, of tenant's servers
// that the group groupID (its _id hex or idOnTheSource) may VIEW through its
// own ACL entries: servers granted to the group, and servers named by agents
// granted to the group (mcpServerNames, resolved by name as at login). It
// does not follow the public principal. An unknown group has none: an empty,
// non-nil slice. Bounded by Config.QueryTimeout; any error returns nil.
//
//	groups.find({$or: [{idOnTheSource: <groupID>}, {_id: <oid>}], <tenant>}, {_id: 1})
//	then queries 3 to 5 of a login with only the group branch, query 5
//	projecting {serverName: 1, mcp_id: 1}
func (s *Store) GroupServers(ctx context.Context, tenant, groupID string) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	names, err := s.groupServers(ctx, tenant, groupID)
	if err != nil {
		return nil, fmt.Errorf("servers of group %q: %w", groupID, err)
	}
	return names, nil
}

func (s *Store) groupServers(ctx context.Context, tenant, groupID string) ([]string, error) {
	filter := append(groupFilter(groupID), tenantFilter(tenant))
	opts := options.Find().SetProjection(bson.D{{Key: fieldID, Value: 1}})
	gids, err := findIDs(ctx, s.db.Collection(collGroups), filter, opts, fieldID)
	if err != nil {
		return nil, fmt.Errorf("find groups: %w", err)
	}
	if len(gids) == 0 {
		return []string{}, nil
	}
	servers, err := s.reachable(ctx, principals{tenant: tenant, groupIDs: gids}, true)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(servers))
	for _, srv := range servers {
		out = append(out, srv.Name)
	}
	return out, nil
}
