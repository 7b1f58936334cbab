package serverdb

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// ChunkSize is the most user ids one call of a streaming callback receives
// (AllowedUsers, GroupMembers), and the most member keys or user ids one
// query sends with $in.
const ChunkSize = 1000

// emitter hands user ids to a callback in chunks of at most ChunkSize, each
// chunk free of duplicates (the same id may come again in a later chunk).
// It holds one chunk at a time; every chunk is a new slice the callback may
// keep.
type emitter struct {
	fn   func(userIDs []string) error
	buf  []string
	seen map[string]struct{}
}

func newEmitter(fn func(userIDs []string) error) *emitter {
	return &emitter{fn: fn, seen: make(map[string]struct{}, ChunkSize)}
}

func (e *emitter) add(id string) error {
	if _, dup := e.seen[id]; dup {
		return nil
	}
	e.seen[id] = struct{}{}
	e.buf = append(e.buf, id)
	if len(e.buf) == ChunkSize {
		return e.flush()
	}
	return nil
}

func (e *emitter) flush() error {
	if len(e.buf) == 0 {
		return nil
	}
	chunk := e.buf
	e.buf, e.seen = make([]string, 0, ChunkSize), make(map[string]struct{}, ChunkSize)
	return e.fn(chunk)
}

// emitUsers streams the _id hex of every users document matching filter
// (inside tenant) to out.
//
//	users.find({<filter>, <tenant>}, {_id: 1}).batchSize(ChunkSize)
func (s *Store) emitUsers(ctx context.Context, tenant string, filter bson.D, out *emitter) error {
	filter = append(filter, tenantFilter(tenant))
	opts := options.Find().SetProjection(bson.D{{Key: fieldID, Value: 1}}).SetBatchSize(ChunkSize)
	cur, err := s.db.Collection(collUsers).Find(ctx, filter, opts)
	if err != nil {
		return fmt.Errorf("find users: %w", err)
	}
	defer func() { _ = cur.Close(ctx) }()
	for cur.Next(ctx) {
		if err := out.add(idString(cur.Current.Lookup(fieldID))); err != nil {
			return err
		}
	}
	if err := cur.Err(); err != nil {
		return fmt.Errorf("find users: %w", err)
	}
	return nil
}

// emitMembers maps member keys (a user's idOnTheSource or _id hex) to the
// users of tenant they name, and streams their ids to out. Keys naming no
// user of tenant are dropped. Two finds rather than one $or: FerretDB v1
// took 9 times longer on the $or (25 s against 2.9 s for 5,000 members).
//
//	users.find({idOnTheSource: {$in: <keys>}, <tenant>}, {_id: 1})
//	users.find({_id: {$in: <keys that are ObjectId hex>}, <tenant>}, {_id: 1})  // if any
func (s *Store) emitMembers(ctx context.Context, tenant string, keys []string, out *emitter) error {
	var oids bson.A
	for _, k := range keys {
		if oid, err := bson.ObjectIDFromHex(k); err == nil {
			oids = append(oids, oid)
		}
	}
	if err := s.emitUsers(ctx, tenant, bson.D{{Key: fieldIDOnTheSource, Value: bson.D{{Key: "$in", Value: keys}}}}, out); err != nil {
		return err
	}
	if len(oids) == 0 {
		return nil
	}
	return s.emitUsers(ctx, tenant, bson.D{{Key: fieldID, Value: bson.D{{Key: "$in", Value: oids}}}}, out)
}

// emitGroupMembers streams the users of tenant named in memberIds of the
// groups matching filter (inside tenant), ChunkSize member keys per users
// query.
//
//	groups.find({<filter>, <tenant>}, {memberIds: 1, _id: 0}).batchSize(100)
func (s *Store) emitGroupMembers(ctx context.Context, tenant string, filter bson.D, out *emitter) error {
	filter = append(filter, tenantFilter(tenant))
	opts := options.Find().
		SetProjection(bson.D{{Key: fieldMemberIDs, Value: 1}, {Key: fieldID, Value: 0}}).
		SetBatchSize(groupBatchSize)
	cur, err := s.db.Collection(collGroups).Find(ctx, filter, opts)
	if err != nil {
		return fmt.Errorf("find groups: %w", err)
	}
	defer func() { _ = cur.Close(ctx) }()
	keys := make([]string, 0, ChunkSize)
	seen := make(map[string]struct{}, ChunkSize)
	flush := func() error {
		if len(keys) == 0 {
			return nil
		}
		err := s.emitMembers(ctx, tenant, keys, out)
		keys, seen = keys[:0], make(map[string]struct{}, ChunkSize)
		return err
	}
	for cur.Next(ctx) {
		if err := eachMemberKey(cur, func(k string) error {
			if _, dup := seen[k]; dup {
				return nil
			}
			seen[k] = struct{}{}
			keys = append(keys, k)
			if len(keys) == ChunkSize {
				return flush()
			}
			return nil
		}); err != nil {
			return err
		}
	}
	if err := cur.Err(); err != nil {
		return fmt.Errorf("find groups: %w", err)
	}
	return flush()
}

// groupBatchSize is the first-batch size of the member streams: a group
// document can hold thousands of member keys.
const groupBatchSize = 100

// eachMemberKey calls fn with every non-empty string of the current group's
// memberIds; other values are ignored.
func eachMemberKey(cur *mongo.Cursor, fn func(string) error) error {
	arr, ok := cur.Current.Lookup(fieldMemberIDs).ArrayOK()
	if !ok {
		return nil
	}
	vals, err := arr.Values()
	if err != nil {
		return fmt.Errorf("decode group: %w", err)
	}
	for _, v := range vals {
		if k, ok := v.StringValueOK(); ok && k != "" {
			if err := fn(k); err != nil {
				return err
			}
		}
	}
	return nil
}

// groupFilter selects the group groupID names: its _id (when groupID is an
// ObjectId hex) or its idOnTheSource.
func groupFilter(groupID string) bson.D {
	or := bson.A{bson.D{{Key: fieldIDOnTheSource, Value: groupID}}}
	if oid, err := bson.ObjectIDFromHex(groupID); err == nil {
		or = append(or, bson.D{{Key: fieldID, Value: oid}})
	}
	return bson.D{{Key: "$or", Value: or}}
}

// GroupMembers streams to fn the users of tenant who are members of the group
// groupID (the group's _id hex or its idOnTheSource), in tenant: each member
// key (a user's idOnTheSource or _id hex) is mapped to the _id hex of the
// users of tenant it names; keys naming nobody there are dropped. fn gets
// chunks of at most ChunkSize ids; a chunk has no duplicates, but an id may
// come again in a later chunk. An unknown group streams nothing.
//
// Memory stays bounded by ChunkSize (plus one group document) however large
// the group. The call is bounded by ctx, not by Config.QueryTimeout. On an
// error (from the database or fn, returned wrapped) the chunks fn already
// received are not the whole set: discard them.
//
//	groups.find({$or: [{idOnTheSource: <groupID>}, {_id: <oid>}], <tenant>}, {memberIds: 1, _id: 0})
//	users.find({idOnTheSource: {$in: <keys>}, <tenant>}, {_id: 1})
//	users.find({_id: {$in: <keys that are ObjectId hex>}, <tenant>}, {_id: 1})
//	  both once per ChunkSize member keys (the second only with hex keys)
func (s *Store) GroupMembers(ctx context.Context, tenant, groupID string, fn func(userIDs []string) error) error {
	out := newEmitter(fn)
	if err := s.emitGroupMembers(ctx, tenant, groupFilter(groupID), out); err != nil {
		return fmt.Errorf("members of group %q: %w", groupID, err)
	}
	if err := out.flush(); err != nil {
		return fmt.Errorf("members of group %q: %w", groupID, err)
	}
	return nil
}
