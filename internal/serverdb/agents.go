package serverdb

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// agentServerNames is query 4: the distinct server names in mcpServerNames
// of the given agents, in first-seen order. Non-string and empty names are
// ignored.
//
//	agents.find({_id: {$in: <agent ids>}, <tenant>}, {mcpServerNames: 1, _id: 0})
//	  .batchSize(len(ids)+1)
func (s *Store) agentServerNames(ctx context.Context, tenant string, ids []bson.RawValue) ([]string, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	filter := bson.D{{Key: fieldID, Value: bson.D{{Key: "$in", Value: ids}}}, tenantFilter(tenant)}
	opts := options.Find().
		SetProjection(bson.D{{Key: fieldMCPServerName, Value: 1}, {Key: fieldID, Value: 0}}).
		SetBatchSize(int32(min(len(ids)+1, maxBatchSize)))
	cur, err := s.db.Collection(collAgents).Find(ctx, filter, opts)
	if err != nil {
		return nil, fmt.Errorf("find agents: %w", err)
	}
	defer func() { _ = cur.Close(ctx) }()
	var out []string
	seen := make(map[string]struct{})
	for cur.Next(ctx) {
		arr, ok := cur.Current.Lookup(fieldMCPServerName).ArrayOK()
		if !ok {
			continue
		}
		vals, err := arr.Values()
		if err != nil {
			return nil, fmt.Errorf("decode agent: %w", err)
		}
		for _, v := range vals {
			name, ok := v.StringValueOK()
			if !ok || name == "" {
				continue
			}
			if _, dup := seen[name]; !dup {
				seen[name] = struct{}{}
				out = append(out, name)
			}
		}
	}
	if err := cur.Err(); err != nil {
		return nil, fmt.Errorf("find agents: %w", err)
	}
	return out, nil
}
