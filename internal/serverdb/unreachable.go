package serverdb

import (
	"context"
	"errors"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/topology"
)

// Unreachable reports whether err, returned by a Store method called with
// ctx, means MongoDB could not be reached: no server selectable (down, or a
// primary election), a network error, or a timeout of MongoDB's own (the
// Store's QueryTimeout, a network timeout, maxTimeMS) while ctx was still
// live. ctx's own end is the caller's; a decode error or a bad document is
// the data's. handlers wraps such errors as
// events.Unavailable(events.DepMongoDB, err).
func Unreachable(ctx context.Context, err error) bool {
	if err == nil || ctx.Err() != nil || errors.Is(err, context.Canceled) {
		return false
	}
	if _, ok := errors.AsType[topology.ServerSelectionError](err); ok {
		return true
	}
	return mongo.IsNetworkError(err) || mongo.IsTimeout(err)
}
