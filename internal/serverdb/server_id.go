package serverdb

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// ServerID returns the _id hex of tenant's server document named name
// (tenant "" is the default tenant), for server events that carry no dbId
// (CONTRACT section 2): the document whose serverName is name wins over one
// whose legacy mcp_id is name. found is false when neither exists. Bounded by
// Config.QueryTimeout.
//
//	mcpservers.find({$or: [{serverName: name}, {mcp_id: name}], <tenant filter>},
//	  {_id: 1, serverName: 1}).limit(2)
func (s *Store) ServerID(ctx context.Context, tenant, name string) (id string, found bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	filter := bson.D{{Key: "$or", Value: bson.A{
		bson.D{{Key: fieldServerName, Value: name}},
		bson.D{{Key: fieldMCPID, Value: name}},
	}}, tenantFilter(tenant)}
	opts := options.Find().
		SetProjection(bson.D{{Key: fieldID, Value: 1}, {Key: fieldServerName, Value: 1}}).
		SetLimit(2)
	cur, err := s.db.Collection(collServers).Find(ctx, filter, opts)
	if err != nil {
		return "", false, fmt.Errorf("find id of server %q: %w", name, err)
	}
	defer func() { _ = cur.Close(ctx) }()
	for cur.Next(ctx) {
		var d serverDoc
		if err := cur.Decode(&d); err != nil {
			return "", false, fmt.Errorf("decode id of server %q: %w", name, err)
		}
		modern, _ := d.ServerName.StringValueOK()
		if !found || modern == name {
			id, found = idString(d.ID), true
		}
	}
	if err := cur.Err(); err != nil {
		return "", false, fmt.Errorf("find id of server %q: %w", name, err)
	}
	return id, found, nil
}
