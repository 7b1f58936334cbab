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
	seen := make(map[string]struct{})
	for cur.Next(ctx) {
		v, err := cur.Current.LookupErr(field)
		if err != nil {
			continue
		}
		key := string(append([]byte{byte(v.Type)}, v.Value...))
		if _, dup := seen[key]; dup {
			continue
		}
		seen[key] = struct{}{}
		ids = append(ids, bson.RawValue{Type: v.Type, Value: append([]byte(nil), v.Value...)})
	}
	if err := cur.Err(); err != nil {
		return nil, err
	}
	return ids, nil
}
