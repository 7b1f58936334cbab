package serverdb

import (
	"context"
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// principals are everything an ACL entry may name to grant a user access,
// within one tenant.
type principals struct {
	tenant   string        // "" is the default tenant
	noTenant bool          // the user's tenantId is not a string: no access
	user     bson.ObjectID // valid only when known
	known    bool          // a users document exists
	role     string        // "" when none
	groupIDs []bson.RawValue
	public   bool // the public principal counts (a user's login, not a group's)
}

// userDoc is the projection of a users document; raw values so that a
// non-string role or idOnTheSource is ignored instead of failing the load.
type userDoc struct {
	Role          bson.RawValue `bson:"role"`
	IDOnTheSource bson.RawValue `bson:"idOnTheSource"`
	TenantID      bson.RawValue `bson:"tenantId"`
}

// principals resolves userID's principals: query 1 (users, skipped when
// userID is not an ObjectId hex) and query 2 (groups, in the user's tenant;
// skipped for a user in no tenant). An unknown user is in the default tenant.
func (s *Store) principals(ctx context.Context, userID string) (principals, error) {
	p := principals{public: true}
	memberKeys := []string{userID}
	if oid, err := bson.ObjectIDFromHex(userID); err == nil {
		u, found, err := s.findUser(ctx, oid)
		if err != nil {
			return principals{}, err
		}
		if found {
			tenant, ok := readTenant(u.TenantID)
			if !ok {
				return principals{noTenant: true}, nil
			}
			p.tenant = tenant
			p.user, p.known = oid, true
			if role, ok := u.Role.StringValueOK(); ok {
				p.role = role
			}
			memberKeys = appendKey(memberKeys, oid.Hex())
			if src, ok := u.IDOnTheSource.StringValueOK(); ok {
				memberKeys = appendKey(memberKeys, src)
			}
		}
	}
	groups, err := s.findGroups(ctx, p.tenant, memberKeys)
	if err != nil {
		return principals{}, err
	}
	p.groupIDs = groups
	return p, nil
}

func appendKey(keys []string, k string) []string {
	if k == "" {
		return keys
	}
	for _, have := range keys {
		if have == k {
			return keys
		}
	}
	return append(keys, k)
}

// findUser: users.find({_id: oid}, {role: 1, idOnTheSource: 1, tenantId: 1, _id: 0}).limit(1).
func (s *Store) findUser(ctx context.Context, oid bson.ObjectID) (userDoc, bool, error) {
	var u userDoc
	opts := options.FindOne().SetProjection(bson.D{
		{Key: fieldRole, Value: 1},
		{Key: fieldIDOnTheSource, Value: 1},
		{Key: fieldTenantID, Value: 1},
		{Key: fieldID, Value: 0},
	})
	err := s.db.Collection(collUsers).FindOne(ctx, bson.D{{Key: fieldID, Value: oid}}, opts).Decode(&u)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return userDoc{}, false, nil
	}
	if err != nil {
		return userDoc{}, false, fmt.Errorf("find user: %w", err)
	}
	return u, true, nil
}

// findGroups: groups.find({memberIds: {$in: keys}, <tenant>}, {_id: 1}).
func (s *Store) findGroups(ctx context.Context, tenant string, keys []string) ([]bson.RawValue, error) {
	filter := bson.D{{Key: fieldMemberIDs, Value: bson.D{{Key: "$in", Value: keys}}}, tenantFilter(tenant)}
	opts := options.Find().
		SetProjection(bson.D{{Key: fieldID, Value: 1}}).
		SetBatchSize(lookupBatchSize)
	ids, err := findIDs(ctx, s.db.Collection(collGroups), filter, opts, fieldID)
	if err != nil {
		return nil, fmt.Errorf("find groups: %w", err)
	}
	return ids, nil
}
