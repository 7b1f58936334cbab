package serverdb

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// grants are the resources p's principals may VIEW: servers directly, and
// agents (whose mcpServerNames p may then use).
type grants struct {
	servers []bson.RawValue // distinct resourceIds of mcpServer entries
	agents  []bson.RawValue // distinct resourceIds of agent entries
}

// grants is query 3: the VIEW entries of p's principals on servers and
// agents, in one find.
//
//	aclentries.find({resourceType: {$in: ["mcpServer", "agent"]},
//	  permBits: {$in: [1, 3, ..., 15]}, <tenant>,
//	  $or: [{principalType: "user", principalId: <oid>},          // known user
//	        {principalType: "group", principalId: {$in: <groups>}}, // any groups
//	        {principalType: "role", principalId: <role>},         // role set
//	        {principalType: "public"}]},                          // p.public
//	  {resourceId: 1, resourceType: 1, _id: 0})
//
// With no branch at all it sends nothing.
func (s *Store) grants(ctx context.Context, p principals) (grants, error) {
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
	if p.public {
		or = append(or, bson.D{{Key: fieldPrincipalType, Value: principalPublic}})
	}
	if len(or) == 0 {
		return grants{}, nil
	}
	filter := bson.D{
		{Key: fieldResourceType, Value: bson.D{{Key: "$in", Value: bson.A{resourceMCPServer, resourceAgent}}}},
		{Key: fieldPermBits, Value: bson.D{{Key: "$in", Value: viewPermBits}}},
		tenantFilter(p.tenant),
		{Key: "$or", Value: or},
	}
	opts := options.Find().
		SetProjection(bson.D{{Key: fieldResourceID, Value: 1}, {Key: fieldResourceType, Value: 1}, {Key: fieldID, Value: 0}}).
		SetBatchSize(lookupBatchSize)
	cur, err := s.db.Collection(collACLEntries).Find(ctx, filter, opts)
	if err != nil {
		return grants{}, fmt.Errorf("find acl entries: %w", err)
	}
	defer func() { _ = cur.Close(ctx) }()
	var g grants
	servers, agents := make(rawSet), make(rawSet)
	for cur.Next(ctx) {
		id, err := cur.Current.LookupErr(fieldResourceID)
		if err != nil {
			continue
		}
		switch typ, _ := cur.Current.Lookup(fieldResourceType).StringValueOK(); typ {
		case resourceMCPServer:
			if servers.add(id) {
				g.servers = append(g.servers, cloneRaw(id))
			}
		case resourceAgent:
			if agents.add(id) {
				g.agents = append(g.agents, cloneRaw(id))
			}
		}
	}
	if err := cur.Err(); err != nil {
		return grants{}, fmt.Errorf("find acl entries: %w", err)
	}
	return g, nil
}
