package serverdb

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// Store reads the servers a user may use from LibreChat's collections. It is
// safe for concurrent use; it holds the client but never closes it.
type Store struct {
	db      *mongo.Database
	timeout time.Duration

	unnamed    atomic.Uint64
	duplicates atomic.Uint64
}

// Stats are counters of odd documents met since the Store was built. They
// never fail a load; they are for metrics and operators.
type Stats struct {
	// SkippedUnnamed counts server documents skipped because they have
	// neither serverName nor mcp_id.
	SkippedUnnamed uint64
	// DroppedDuplicates counts server documents dropped because another
	// accessible document had the same name and a newer updatedAt.
	DroppedDuplicates uint64
}

// New returns a Store on cfg.Database of client; zero Config fields take
// their defaults. Call cfg.Validate first to reject a bad Config.
func New(client *mongo.Client, cfg Config) *Store {
	cfg = cfg.withDefaults()
	return &Store{db: client.Database(cfg.Database), timeout: cfg.QueryTimeout}
}

// Stats returns the counters of odd documents seen so far.
func (s *Store) Stats() Stats {
	return Stats{SkippedUnnamed: s.unnamed.Load(), DroppedDuplicates: s.duplicates.Load()}
}

// AccessibleServers returns the servers user userID (an ObjectId hex) may
// VIEW, sorted by Name (byte order), per CONTRACT section 3: the servers
// granted with the VIEW bit to the user itself, to a group whose memberIds
// holds the user's idOnTheSource or id, to the user's role, or to the public.
//
// A userID that is not an ObjectId hex, or has no users document, is no
// error: it gets public servers and those of groups listing the raw userID.
// Zero servers is an empty, non-nil slice. Any database error returns nil
// and the error, never a partial result. The whole call is bounded by
// Config.QueryTimeout.
func (s *Store) AccessibleServers(ctx context.Context, userID string) ([]Server, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	servers, err := s.accessibleServers(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("accessible servers for user %q: %w", userID, err)
	}
	return servers, nil
}

func (s *Store) accessibleServers(ctx context.Context, userID string) ([]Server, error) {
	p, err := s.principals(ctx, userID)
	if err != nil {
		return nil, err
	}
	if p.noTenant {
		return []Server{}, nil
	}
	return s.reachable(ctx, p, false)
}

// reachable runs queries 3 to 5 for p: the servers p's principals may VIEW
// directly or through an agent.
func (s *Store) reachable(ctx context.Context, p principals, namesOnly bool) ([]Server, error) {
	g, err := s.grants(ctx, p)
	if err != nil {
		return nil, err
	}
	names, err := s.agentServerNames(ctx, p.tenant, g.agents)
	if err != nil {
		return nil, err
	}
	return s.servers(ctx, serverQuery{tenant: p.tenant, ids: g.servers, agentNames: names, namesOnly: namesOnly})
}

// Ping checks that the database answers, within Config.QueryTimeout.
func (s *Store) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	if err := s.db.RunCommand(ctx, bson.D{{Key: "ping", Value: 1}}).Err(); err != nil {
		return fmt.Errorf("ping mongodb: %w", err)
	}
	return nil
}
