package serverdb

import (
	"context"
	"fmt"
	"sort"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// serverQuery says which mcpservers documents query 5 fetches.
type serverQuery struct {
	tenant     string
	ids        []bson.RawValue // granted directly
	agentNames []string        // named by agents the principal may VIEW
	namesOnly  bool            // project only the name fields
}

// servers is query 5: the documents granted directly and those named by
// agents, in one find, turned into Servers, one per name, sorted by name. A
// name reached directly is never ConsumeOnly; a name reached only through an
// agent is. The name branches drop out when no agent names a server.
//
//	mcpservers.find({<tenant>, $or: [{_id: {$in: <ids>}},
//	    {serverName: {$in: <agent names>}}, {mcp_id: {$in: <agent names>}}]},
//	  {serverName: 1, mcp_id: 1, config: 1, options: 1, title: 1, updatedAt: 1})
//	  .batchSize(len(ids)+2*len(names)+1)
func (s *Store) servers(ctx context.Context, q serverQuery) ([]Server, error) {
	if len(q.ids) == 0 && len(q.agentNames) == 0 {
		return []Server{}, nil
	}
	var or bson.A
	if len(q.ids) > 0 {
		or = append(or, bson.D{{Key: fieldID, Value: bson.D{{Key: "$in", Value: q.ids}}}})
	}
	if len(q.agentNames) > 0 {
		or = append(or,
			bson.D{{Key: fieldServerName, Value: bson.D{{Key: "$in", Value: q.agentNames}}}},
			bson.D{{Key: fieldMCPID, Value: bson.D{{Key: "$in", Value: q.agentNames}}}})
	}
	filter := bson.D{tenantFilter(q.tenant), {Key: "$or", Value: or}}
	proj := bson.D{{Key: fieldServerName, Value: 1}, {Key: fieldMCPID, Value: 1}}
	if !q.namesOnly {
		proj = append(proj,
			bson.E{Key: fieldConfig, Value: 1},
			bson.E{Key: fieldOptions, Value: 1},
			bson.E{Key: fieldTitle, Value: 1},
			bson.E{Key: fieldUpdatedAt, Value: 1})
	}
	opts := options.Find().
		SetProjection(proj).
		// More than can match in practice (a name matches serverName or
		// mcp_id), so the first batch is also the last and MongoDB closes the
		// cursor without a getMore; duplicate names only cost a getMore.
		SetBatchSize(int32(min(len(q.ids)+2*len(q.agentNames)+1, maxBatchSize)))
	cur, err := s.db.Collection(collServers).Find(ctx, filter, opts)
	if err != nil {
		return nil, fmt.Errorf("find servers: %w", err)
	}
	defer func() { _ = cur.Close(ctx) }()

	direct := make(rawSet, len(q.ids))
	for _, id := range q.ids {
		direct.add(id)
	}
	named := make(map[string]bool, len(q.agentNames))
	for _, n := range q.agentNames {
		named[n] = true
	}
	byName := make(map[string]Server, len(q.ids))      // reached directly
	consumeOnly := make(map[string]Server, len(named)) // reached through an agent
	for cur.Next(ctx) {
		var d serverDoc
		if err := cur.Decode(&d); err != nil {
			return nil, fmt.Errorf("decode server: %w", err)
		}
		srv, ok, err := d.toServer()
		if err != nil {
			return nil, err
		}
		isDirect := direct.has(d.ID)
		if !ok {
			if isDirect {
				s.unnamed.Add(1)
			}
			continue
		}
		srv.Tenant = q.tenant
		switch {
		case isDirect:
			s.keepNewest(byName, srv)
		case named[srv.Name]:
			srv.ConsumeOnly = true
			s.keepNewest(consumeOnly, srv)
		}
		// else: matched mcp_id but named by its serverName, no agent's
	}
	if err := cur.Err(); err != nil {
		return nil, fmt.Errorf("find servers: %w", err)
	}
	for name, srv := range consumeOnly {
		if _, reached := byName[name]; !reached {
			byName[name] = srv
		}
	}
	out := make([]Server, 0, len(byName))
	for _, srv := range byName {
		out = append(out, srv)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// keepNewest puts srv into m unless m holds a newer server of that name,
// counting the duplicate.
func (s *Store) keepNewest(m map[string]Server, srv Server) {
	if prev, dup := m[srv.Name]; dup {
		s.duplicates.Add(1)
		if !newer(srv, prev) {
			return
		}
	}
	m[srv.Name] = srv
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
