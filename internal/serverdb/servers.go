package serverdb

import (
	"context"
	"fmt"
	"sort"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// servers is query 4: the mcpservers documents with the given _ids, turned
// into Servers, one per name, sorted by name.
//
//	mcpservers.find({_id: {$in: <ids>}},
//	  {serverName: 1, mcp_id: 1, config: 1, options: 1, title: 1, updatedAt: 1}).batchSize(len(ids)+1)
func (s *Store) servers(ctx context.Context, ids []bson.RawValue) ([]Server, error) {
	filter := bson.D{{Key: fieldID, Value: bson.D{{Key: "$in", Value: ids}}}}
	opts := options.Find().
		SetProjection(bson.D{
			{Key: fieldServerName, Value: 1},
			{Key: fieldMCPID, Value: 1},
			{Key: fieldConfig, Value: 1},
			{Key: fieldOptions, Value: 1},
			{Key: fieldTitle, Value: 1},
			{Key: fieldUpdatedAt, Value: 1},
		}).
		// One more than can match, so the first batch is also the last and
		// MongoDB closes the cursor without a getMore.
		SetBatchSize(int32(min(len(ids)+1, maxBatchSize)))
	cur, err := s.db.Collection(collServers).Find(ctx, filter, opts)
	if err != nil {
		return nil, fmt.Errorf("find servers: %w", err)
	}
	defer func() { _ = cur.Close(ctx) }()
	byName := make(map[string]Server, len(ids))
	for cur.Next(ctx) {
		var d serverDoc
		if err := cur.Decode(&d); err != nil {
			return nil, fmt.Errorf("decode server: %w", err)
		}
		srv, ok, err := d.toServer()
		if err != nil {
			return nil, err
		}
		if !ok {
			s.unnamed.Add(1)
			continue
		}
		if prev, dup := byName[srv.Name]; dup {
			s.duplicates.Add(1)
			if !newer(srv, prev) {
				continue
			}
		}
		byName[srv.Name] = srv
	}
	if err := cur.Err(); err != nil {
		return nil, fmt.Errorf("find servers: %w", err)
	}
	out := make([]Server, 0, len(byName))
	for _, srv := range byName {
		out = append(out, srv)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// newer says whether a wins over b for the same name: the newer updatedAt,
// then (on a tie) the greater DBID, so the choice never depends on the order
// the database returns documents in.
func newer(a, b Server) bool {
	if a.UpdatedAtMs != b.UpdatedAtMs {
		return a.UpdatedAtMs > b.UpdatedAtMs
	}
	return a.DBID > b.DBID
}
