package serverdb

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// lookupBatchSize is the first-batch size of the groups and aclentries finds:
// large enough that a login needs no getMore in practice (MongoDB still caps
// a batch at 16 MiB, and a larger result just costs getMore round trips).
const lookupBatchSize = 10_000

// maxBatchSize bounds the batchSize sent with the servers find.
const maxBatchSize = 1 << 20

// findIDs runs a find and returns the distinct values of field (documents
// without it are ignored), in first-seen order. Client-side dedup instead of
// the distinct command, which FerretDB v1 breaks when maxTimeMS is sent.
func findIDs(ctx context.Context, coll *mongo.Collection, filter any, opts *options.FindOptionsBuilder, field string) ([]bson.RawValue, error) {
	cur, err := coll.Find(ctx, filter, opts)
	if err != nil {
		return nil, err
	}
	defer func() { _ = cur.Close(ctx) }()
	var ids []bson.RawValue
	seen := make(rawSet)
	for cur.Next(ctx) {
		v, err := cur.Current.LookupErr(field)
		if err != nil {
			continue
		}
		if seen.add(v) {
			ids = append(ids, cloneRaw(v))
		}
	}
	if err := cur.Err(); err != nil {
		return nil, err
	}
	return ids, nil
}

// rawSet is a set of BSON values, compared by type and bytes.
type rawSet map[string]struct{}

// add adds v and reports whether it was new.
func (s rawSet) add(v bson.RawValue) bool {
	key := rawKey(v)
	if _, dup := s[key]; dup {
		return false
	}
	s[key] = struct{}{}
	return true
}

// has reports whether v is in the set.
func (s rawSet) has(v bson.RawValue) bool {
	_, ok := s[rawKey(v)]
	return ok
}

func rawKey(v bson.RawValue) string {
	return string(append([]byte{byte(v.Type)}, v.Value...))
}

// cloneRaw copies v out of a cursor's buffer, which the next batch reuses.
func cloneRaw(v bson.RawValue) bson.RawValue {
	return bson.RawValue{Type: v.Type, Value: append([]byte(nil), v.Value...)}
}
