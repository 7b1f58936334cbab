package devstack

import (
	"context"
	"fmt"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// Demo describes the seeded demo data, for the devstack printout and demo events.
type Demo struct {
	// Users maps a demo user's name (alice, bob, carol, dave) to its id hex:
	// the userId of events.
	Users map[string]string
	// Servers maps a server name to its id hex.
	Servers map[string]string
	// Configs maps a server name to its stored config. It may hold (fake)
	// secrets: never print or log it.
	Configs map[string]map[string]any
	// Versions maps a server name to its updatedAt in milliseconds: the
	// version publishers put in server events.
	Versions map[string]int64
	// Access maps a user's name to the sorted names of the servers the ACL
	// lets the user view (including public ones).
	Access map[string][]string
	// Shared names the servers with a public ACL entry, sorted.
	Shared []string
}

// UserNames returns the demo users' names, sorted.
func (d Demo) UserNames() []string { return sortedKeys(d.Users) }

// ServerNames returns the demo servers' names, sorted.
func (d Demo) ServerNames() []string { return sortedKeys(d.Servers) }

// SeedDemo drops every collection of db, then writes the LibreChat demo data:
// four users (dave has no grant at all), the group "platform", and six
// servers each granted VIEW in a different way (see demoServers).
func SeedDemo(ctx context.Context, db *mongo.Database) (Demo, error) {
	if err := dropCollections(ctx, db); err != nil {
		return Demo{}, err
	}
	lc := LibreChat{DB: db}
	d := Demo{
		Users:    map[string]string{},
		Servers:  map[string]string{},
		Configs:  map[string]map[string]any{},
		Versions: map[string]int64{},
		Access:   map[string][]string{},
	}
	users := demoUsers()
	ids := map[string]bson.ObjectID{}
	for _, u := range users {
		id, err := lc.AddUser(ctx, u.role, u.source)
		if err != nil {
			return Demo{}, fmt.Errorf("seed user %s: %w", u.name, err)
		}
		ids[u.name], d.Users[u.name] = id, id.Hex()
	}
	// alice is a member through her idOnTheSource, bob through his id hex.
	group, err := lc.AddGroup(ctx, demoGroup, aliceSource, d.Users["bob"])
	if err != nil {
		return Demo{}, fmt.Errorf("seed group %s: %w", demoGroup, err)
	}
	updatedAt := time.Now().UTC().Truncate(time.Millisecond)
	for _, s := range demoServers() {
		id, err := lc.AddServer(ctx, s.name, s.config, updatedAt)
		if err != nil {
			return Demo{}, fmt.Errorf("seed server %s: %w", s.name, err)
		}
		d.Servers[s.name], d.Configs[s.name], d.Versions[s.name] = id.Hex(), s.config, updatedAt.UnixMilli()
		if err := grant(ctx, lc, id, s.grant, ids, group); err != nil {
			return Demo{}, fmt.Errorf("seed grant on %s: %w", s.name, err)
		}
		if s.grant.kind == principalPublic {
			d.Shared = append(d.Shared, s.name)
		}
		for _, u := range users {
			if s.grant.allows(u) {
				d.Access[u.name] = append(d.Access[u.name], s.name)
			}
		}
	}
	for name := range d.Access {
		slices.Sort(d.Access[name])
	}
	slices.Sort(d.Shared)
	return d, nil
}

func grant(ctx context.Context, lc LibreChat, server bson.ObjectID, g demoGrant, users map[string]bson.ObjectID, group bson.ObjectID) error {
	switch g.kind {
	case principalUser:
		return lc.GrantUser(ctx, server, users[g.to], PermView)
	case principalGroup:
		return lc.GrantGroup(ctx, server, group, PermView)
	case principalRole:
		return lc.GrantRole(ctx, server, g.to, PermView)
	default:
		return lc.GrantPublic(ctx, server, PermView)
	}
}

func dropCollections(ctx context.Context, db *mongo.Database) error {
	names, err := db.ListCollectionNames(ctx, bson.D{})
	if err != nil {
		return fmt.Errorf("list collections of %s: %w", db.Name(), err)
	}
	for _, name := range names {
		if err := db.Collection(name).Drop(ctx); err != nil {
			return fmt.Errorf("drop collection %s: %w", name, err)
		}
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

const (
	// demoGroup is the one demo group; alice and bob are its members.
	demoGroup = "platform"
	// aliceSource is alice's idOnTheSource, which the group lists.
	aliceSource = "alice@example.test"
)

type demoUser struct {
	name, role, source string // source: idOnTheSource, empty when none
}

// demoUsers: bob has no idOnTheSource, so the group reaches him only
// through his id hex; dave has no grant of any kind (a zero-server user).
func demoUsers() []demoUser {
	return []demoUser{
		{name: "alice", role: "USER", source: aliceSource},
		{name: "bob", role: "USER"},
		{name: "carol", role: "ADMIN", source: "carol@example.test"},
		{name: "dave", role: "USER"},
	}
}

type principal int

const (
	principalUser principal = iota
	principalGroup
	principalRole
	principalPublic
)

// demoGrant is one VIEW grant: to a user (by name), the demo group, a role
// (by name) or the public.
type demoGrant struct {
	kind principal
	to   string
}

func (g demoGrant) allows(u demoUser) bool {
	switch g.kind {
	case principalUser:
		return g.to == u.name
	case principalGroup:
		return u.name == "alice" || u.name == "bob"
	case principalRole:
		return g.to == u.role
	default:
		return true
	}
}

type demoServer struct {
	name   string
	config map[string]any
	grant  demoGrant
}

// demoServers returns fresh configs each call. All hosts are under .test.
func demoServers() []demoServer {
	return []demoServer{
		{name: "github", grant: demoGrant{principalUser, "alice"}, config: map[string]any{
			"type":    "streamable-http",
			"title":   "GitHub",
			"url":     "https://github-mcp.example.test/mcp",
			"headers": map[string]any{"Authorization": "Bearer {{GITHUB_PAT}}"},
		}},
		{name: "jira", grant: demoGrant{principalGroup, demoGroup}, config: map[string]any{
			"type":          "sse",
			"title":         "Jira",
			"url":           "https://jira.example.test/mcp/sse",
			"requiresOAuth": true,
			"oauth": map[string]any{
				"authorization_url": "https://jira.example.test/oauth/authorize",
				"token_url":         "https://jira.example.test/oauth/token",
				"client_id":         "demo-jira",
				"scope":             "read:jira-work",
			},
		}},
		{name: "grafana", grant: demoGrant{principalRole, "ADMIN"}, config: map[string]any{
			"type":    "stdio",
			"title":   "Grafana",
			"command": "mcp-grafana",
			"args":    []any{"--transport", "stdio"},
			"env": map[string]any{
				"GRAFANA_URL":     "https://grafana.example.test",
				"GRAFANA_API_KEY": "{{GRAFANA_API_KEY}}",
			},
		}},
		{name: "docs-search", grant: demoGrant{kind: principalPublic}, config: map[string]any{
			"type":    "streamable-http",
			"title":   "Docs search",
			"url":     "https://docs.example.test/mcp",
			"startup": true,
			"timeout": 30000,
		}},
		{name: "billing-api", grant: demoGrant{principalUser, "carol"}, config: map[string]any{
			"type":    "streamable-http",
			"title":   "Billing API",
			"url":     "https://billing.example.test/mcp",
			"apiKey":  "demo-secret-do-not-log",
			"headers": map[string]any{"X-Tenant": "demo"},
		}},
		{name: "team:ops ✓", grant: demoGrant{principalUser, "bob"}, config: map[string]any{
			"type":  "websocket",
			"title": "Team ops ✓",
			"url":   "wss://ops.example.test/mcp",
		}},
	}
}
