package serverdb

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// AllowedUsers streams to fn the users of tenant who may VIEW the server
// named serverName through its own ACL (CONTRACT section 2: the allowed users
// of a server.access or server.unshared event without allowedUserIds): user
// principals (users of tenant only), the members of group principals (mapped
// as in GroupMembers) and the users whose role is a role principal. public is
// true when the public principal has VIEW: the caller then treats the server
// as shared; the users are streamed either way. Users who reach the server
// only through an agent are not included (they are ConsumeOnly).
//
// Every document named serverName counts (serverName, else mcp_id, as at
// login, duplicates included); an unknown name streams nothing and returns
// false. fn gets chunks of at most ChunkSize ids; a chunk has no duplicates,
// but an id may come again in a later chunk (a user granted both directly
// and through a group). Memory stays bounded by ChunkSize plus the server's
// group and role entries. The call is bounded by ctx, not by
// Config.QueryTimeout. On an error (from the database or fn, returned
// wrapped) the chunks fn already received are not the whole set: discard
// them, and public is false.
//
//	mcpservers.find({$or: [{serverName: <name>}, {mcp_id: <name>}], <tenant>}, {serverName: 1, mcp_id: 1})
//	aclentries.find({resourceType: "mcpServer", resourceId: {$in: <ids>}, VIEW, <tenant>},
//	  {principalType: 1, principalId: 1, _id: 0})
//	users.find({_id: {$in: <user principals>}, <tenant>}, {_id: 1})   per ChunkSize user entries
//	groups.find({_id: {$in: <group principals>}, <tenant>}, {memberIds: 1, _id: 0})
//	users.find({idOnTheSource: {$in: <keys>}, <tenant>}, {_id: 1})
//	users.find({_id: {$in: <keys that are ObjectId hex>}, <tenant>}, {_id: 1})
//	  both per ChunkSize member keys (the second only with hex keys)
//	users.find({role: {$in: <role principals>}, <tenant>}, {_id: 1})
func (s *Store) AllowedUsers(ctx context.Context, tenant, serverName string, fn func(userIDs []string) error) (public bool, err error) {
	public, err = s.allowedUsers(ctx, tenant, serverName, newEmitter(fn))
	if err != nil {
		return false, fmt.Errorf("allowed users of server %q: %w", serverName, err)
	}
	return public, nil
}

func (s *Store) allowedUsers(ctx context.Context, tenant, serverName string, out *emitter) (bool, error) {
	ids, err := s.serverIDsNamed(ctx, tenant, serverName)
	if err != nil || len(ids) == 0 {
		return false, err
	}
	filter := bson.D{
		{Key: fieldResourceType, Value: resourceMCPServer},
		{Key: fieldResourceID, Value: bson.D{{Key: "$in", Value: ids}}},
		{Key: fieldPermBits, Value: bson.D{{Key: "$in", Value: viewPermBits}}},
		tenantFilter(tenant),
	}
	opts := options.Find().
		SetProjection(bson.D{{Key: fieldPrincipalType, Value: 1}, {Key: fieldPrincipalID, Value: 1}, {Key: fieldID, Value: 0}}).
		SetBatchSize(ChunkSize)
	cur, err := s.db.Collection(collACLEntries).Find(ctx, filter, opts)
	if err != nil {
		return false, fmt.Errorf("find acl entries: %w", err)
	}
	defer func() { _ = cur.Close(ctx) }()
	var (
		public bool
		users  bson.A
		groups []bson.RawValue
		roles  bson.A
	)
	seenGroups, seenRoles := make(rawSet), make(map[string]struct{})
	flushUsers := func() error {
		if len(users) == 0 {
			return nil
		}
		err := s.emitUsers(ctx, tenant, bson.D{{Key: fieldID, Value: bson.D{{Key: "$in", Value: users}}}}, out)
		users = users[:0]
		return err
	}
	for cur.Next(ctx) {
		id := cur.Current.Lookup(fieldPrincipalID)
		switch typ, _ := cur.Current.Lookup(fieldPrincipalType).StringValueOK(); typ {
		case principalPublic:
			public = true
		case principalUser:
			if oid, ok := id.ObjectIDOK(); ok {
				users = append(users, oid)
			}
			if len(users) == ChunkSize {
				if err := flushUsers(); err != nil {
					return false, err
				}
			}
		case principalGroup:
			if id.Type != 0 && seenGroups.add(id) {
				groups = append(groups, cloneRaw(id))
			}
		case principalRole:
			if role, ok := id.StringValueOK(); ok && role != "" {
				if _, dup := seenRoles[role]; !dup {
					seenRoles[role] = struct{}{}
					roles = append(roles, role)
				}
			}
		}
	}
	if err := cur.Err(); err != nil {
		return false, fmt.Errorf("find acl entries: %w", err)
	}
	if err := flushUsers(); err != nil {
		return false, err
	}
	for start := 0; start < len(groups); start += ChunkSize {
		chunk := groups[start:min(start+ChunkSize, len(groups))]
		if err := s.emitGroupMembers(ctx, tenant, bson.D{{Key: fieldID, Value: bson.D{{Key: "$in", Value: chunk}}}}, out); err != nil {
			return false, err
		}
	}
	if len(roles) > 0 {
		if err := s.emitUsers(ctx, tenant, bson.D{{Key: fieldRole, Value: bson.D{{Key: "$in", Value: roles}}}}, out); err != nil {
			return false, err
		}
	}
	return public, out.flush()
}

// serverIDsNamed returns the _ids of tenant's server documents whose name
// (serverName, else mcp_id) is name.
//
//	mcpservers.find({$or: [{serverName: <name>}, {mcp_id: <name>}], <tenant>}, {serverName: 1, mcp_id: 1})
func (s *Store) serverIDsNamed(ctx context.Context, tenant, name string) ([]bson.RawValue, error) {
	filter := bson.D{
		{Key: "$or", Value: bson.A{
			bson.D{{Key: fieldServerName, Value: name}},
			bson.D{{Key: fieldMCPID, Value: name}},
		}},
		tenantFilter(tenant),
	}
	opts := options.Find().SetProjection(bson.D{{Key: fieldServerName, Value: 1}, {Key: fieldMCPID, Value: 1}})
	cur, err := s.db.Collection(collServers).Find(ctx, filter, opts)
	if err != nil {
		return nil, fmt.Errorf("find servers: %w", err)
	}
	defer func() { _ = cur.Close(ctx) }()
	var ids []bson.RawValue
	for cur.Next(ctx) {
		var d serverDoc
		if err := cur.Decode(&d); err != nil {
			return nil, fmt.Errorf("decode server: %w", err)
		}
		if d.name() == name {
			ids = append(ids, cloneRaw(d.ID))
		}
	}
	if err := cur.Err(); err != nil {
		return nil, fmt.Errorf("find servers: %w", err)
	}
	return ids, nil
}
