package serverdb

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// grantedServerIDs is query 3: the distinct resourceIds of the VIEW entries
// of p's principals.
//
//	aclentries.find({resourceType: "mcpServer", permBits: {$in: [1, 3, ..., 15]},
//	  $or: [{principalType: "user", principalId: <oid>},          // known user
//	        {principalType: "group", principalId: {$in: <groups>}}, // any groups
//	        {principalType: "role", principalId: <role>},         // role set
//	        {principalType: "public"}]},
//	  {resourceId: 1, _id: 0})
func (s *Store) grantedServerIDs(ctx context.Context, p principals) ([]bson.RawValue, error) {
	var or bson.A
	if p.known {
		or = append(or, bson.D{
			{Key: fieldPrincipalType, Value: principalUser},
			{Key: fieldPrincipalID, Value: p.user},
		})
	}
	if len(p.groupIDs) > 0 {
		or = append(or, bson.D{
			{Key: fieldPrincipalType, Value: principalGroup},
			{Key: fieldPrincipalID, Value: bson.D{{Key: "$in", Value: p.groupIDs}}},
		})
	}
	if p.role != "" {
		or = append(or, bson.D{
			{Key: fieldPrincipalType, Value: principalRole},
			{Key: fieldPrincipalID, Value: p.role},
		})
	}
	or = append(or, bson.D{{Key: fieldPrincipalType, Value: principalPublic}})
	filter := bson.D{
		{Key: fieldResourceType, Value: resourceMCPServer},
		{Key: fieldPermBits, Value: bson.D{{Key: "$in", Value: viewPermBits}}},
		{Key: "$or", Value: or},
	}
	opts := options.Find().
		SetProjection(bson.D{{Key: fieldResourceID, Value: 1}, {Key: fieldID, Value: 0}}).
		SetBatchSize(lookupBatchSize)
	ids, err := findIDs(ctx, s.db.Collection(collACLEntries), filter, opts, fieldResourceID)
	if err != nil {
		return nil, fmt.Errorf("find acl entries: %w", err)
	}
	return ids, nil
}
