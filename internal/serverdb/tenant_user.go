package serverdb

import (
	"context"
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// UserTenant returns the tenantId of user userID (an ObjectId hex): "" for
// the default tenant, which is also the answer for an unknown user or a
// userID that is not an ObjectId hex (such a user gets the default tenant's
// servers at login). A tenantId that is not a string returns ErrNoTenant.
// Bounded by Config.QueryTimeout.
//
//	users.find({_id: <oid>}, {tenantId: 1, _id: 0}).limit(1)
func (s *Store) UserTenant(ctx context.Context, userID string) (string, error) {
	oid, err := bson.ObjectIDFromHex(userID)
	if err != nil {
		return "", nil
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	var u userDoc
	opts := options.FindOne().SetProjection(bson.D{{Key: fieldTenantID, Value: 1}, {Key: fieldID, Value: 0}})
	err = s.db.Collection(collUsers).FindOne(ctx, bson.D{{Key: fieldID, Value: oid}}, opts).Decode(&u)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("tenant of user %q: %w", userID, err)
	}
	tenant, ok := readTenant(u.TenantID)
	if !ok {
		return "", fmt.Errorf("tenant of user %q: %w", userID, ErrNoTenant)
	}
	return tenant, nil
}
