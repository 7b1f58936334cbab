package devstack

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// Demo describes the seeded demo data, for the devstack printout and demo events.
type Demo struct {
	// Users maps a demo user's name (alice, bob, carol, dave, and hank of
	// the tenant globex) to its id hex: the userId of events.
	Users map[string]string
	// Servers maps a default-tenant server name to its id hex.
	Servers map[string]string
	// Configs maps a default-tenant server name to its stored config. It may
	// hold (fake) secrets: never print or log it.
	Configs map[string]map[string]any
	// Versions maps a default-tenant server name to its updatedAt in
	// milliseconds: the version publishers put in server events.
	Versions map[string]int64
	// Access maps a user's name to the sorted names of the servers the ACL
	// lets the user view directly (including public ones of the user's
	// tenant), before the group join of the demo events (Join).
	Access map[string][]string
	// ConsumeOnly maps a user's name to the sorted names of the servers the
	// user reaches only through an agent it may view: "consumeOnly": true in
	// the user's view.
	ConsumeOnly map[string][]string
	// Agents maps a user's name to the sorted names of the agents shared with
	// the user.
	Agents map[string][]string
	// Shared names the default tenant's servers with a public ACL entry, sorted.
	Shared []string
	// Tenants maps the name of a user outside the default tenant to its tenant.
	Tenants map[string]string
	// TenantServers maps a tenant other than the default one to its servers'
	// names and id hexes. A name may also be in Servers: another server.
	TenantServers map[string]map[string]string
	// TenantURLs maps a tenant ("" the default) and a server name to the
	// server's url, for servers whose name several tenants use.
	TenantURLs map[string]map[string]string
	// Groups maps a demo group's name to its id hex: the groupId of events.
	Groups map[string]string
	// Join is the group change the demo events make after the logins.
	Join GroupJoin
}

// GroupJoin is a user who joins a group after the user's first login (see
// JoinGroup), gaining the servers granted to the group.
type GroupJoin struct {
	User    string   // the user's name in Demo.Users
	Group   string   // the group's name in Demo.Groups
	Servers []string // the servers the user gains, sorted
}

// UserNames returns the demo users' names, sorted.
func (d Demo) UserNames() []string { return sortedKeys(d.Users) }

// ServerNames returns the default tenant's demo servers' names, sorted.
func (d Demo) ServerNames() []string { return sortedKeys(d.Servers) }

// JoinGroup adds d.Join's user to d.Join's group in MongoDB (by the user's
// id hex), as LibreChat does when someone joins a group; the worker learns
// of it from a group.changed event.
func (d Demo) JoinGroup(ctx context.Context, db *mongo.Database) error {
	group, err := bson.ObjectIDFromHex(d.Groups[d.Join.Group])
	if err != nil {
		return fmt.Errorf("join group %q: %w", d.Join.Group, err)
	}
	return LibreChat{DB: db}.AddMembers(ctx, group, d.Users[d.Join.User])
}

// SeedDemo drops every collection of db, then writes the LibreChat demo data:
// five users (dave has no grant at all; hank is in the tenant globex), the
// groups "platform" and "oncall", seven default-tenant servers each granted
// VIEW in one way (see demoServers), the agent "release-notes" shared with
// alice, which names github (hers anyway) and grafana (only through the
// agent: consumeOnly), and globex's own "github" with another url, granted
// to hank.
func SeedDemo(ctx context.Context, db *mongo.Database) (Demo, error) {
	if err := dropCollections(ctx, db); err != nil {
		return Demo{}, err
	}
	lc := LibreChat{DB: db}
	d := Demo{
		Users:         map[string]string{},
		Servers:       map[string]string{},
		Configs:       map[string]map[string]any{},
		Versions:      map[string]int64{},
		Access:        map[string][]string{},
		ConsumeOnly:   map[string][]string{},
		Agents:        map[string][]string{},
		Tenants:       map[string]string{},
		TenantServers: map[string]map[string]string{},
		TenantURLs:    map[string]map[string]string{},
		Groups:        map[string]string{},
		Join:          GroupJoin{User: "dave", Group: groupOncall, Servers: []string{"pagerduty"}},
	}
	users := demoUsers()
	ids := map[string]bson.ObjectID{}
	for _, u := range users {
		id, err := lc.InTenant(u.tenant).AddUser(ctx, u.role, u.source)
		if err != nil {
			return Demo{}, fmt.Errorf("seed user %s: %w", u.name, err)
		}
		ids[u.name], d.Users[u.name] = id, id.Hex()
		if u.tenant != "" {
			d.Tenants[u.name] = u.tenant
		}
	}
	groups := map[string]bson.ObjectID{}
	for _, g := range demoGroups() {
		// A member with an idOnTheSource is listed by it, else by id hex.
		var members []string
		for _, u := range users {
			if slices.Contains(g.members, u.name) {
				members = append(members, cmp.Or(u.source, d.Users[u.name]))
			}
		}
		id, err := lc.AddGroup(ctx, g.name, members...)
		if err != nil {
			return Demo{}, fmt.Errorf("seed group %s: %w", g.name, err)
		}
		groups[g.name], d.Groups[g.name] = id, id.Hex()
	}
	updatedAt := time.Now().UTC().Truncate(time.Millisecond)
	for _, s := range demoServers() {
		id, err := lc.AddServer(ctx, s.name, s.config, updatedAt)
		if err != nil {
			return Demo{}, fmt.Errorf("seed server %s: %w", s.name, err)
		}
		d.Servers[s.name], d.Configs[s.name], d.Versions[s.name] = id.Hex(), s.config, updatedAt.UnixMilli()
		if err := grant(ctx, lc, id, s.grant, ids, groups); err != nil {
			return Demo{}, fmt.Errorf("seed grant on %s: %w", s.name, err)
		}
		if s.grant.kind == principalPublic {
			d.Shared = append(d.Shared, s.name)
		}
		for _, u := range users {
			if u.tenant == "" && s.grant.allows(u) {
				d.Access[u.name] = append(d.Access[u.name], s.name)
			}
		}
	}
	if err := seedAgent(ctx, lc, ids, &d); err != nil {
		return Demo{}, err
	}
	if err := seedTenant(ctx, lc, ids, updatedAt, &d); err != nil {
		return Demo{}, err
	}
	for _, m := range []map[string][]string{d.Access, d.ConsumeOnly, d.Agents} {
		for name := range m {
			slices.Sort(m[name])
		}
	}
	slices.Sort(d.Shared)
	return d, nil
}

// seedAgent writes the agent release-notes, shared (VIEW) with alice. It
// names github, which alice may view anyway, and grafana, which she may not
// (ADMIN only): grafana is consumeOnly for her.
func seedAgent(ctx context.Context, lc LibreChat, users map[string]bson.ObjectID, d *Demo) error {
	const name, user = "release-notes", "alice"
	names := []string{"github", "grafana"}
	agent, err := lc.AddAgent(ctx, name, names)
	if err != nil {
		return fmt.Errorf("seed agent: %w", err)
	}
	if err := lc.GrantAgent(ctx, agent, UserPrincipal(users[user]), PermView); err != nil {
		return fmt.Errorf("seed agent grant: %w", err)
	}
	d.Agents[user] = append(d.Agents[user], name)
	for _, s := range names {
		if !slices.Contains(d.Access[user], s) {
			d.ConsumeOnly[user] = append(d.ConsumeOnly[user], s)
		}
	}
	return nil
}

// seedTenant writes the tenant globex: its user hank (already in users) may
// view its own server "github", which has another url than the default
// tenant's github. Nothing of the default tenant (not even its public
// servers) reaches hank, and nothing of globex reaches the others.
func seedTenant(ctx context.Context, lc LibreChat, users map[string]bson.ObjectID, updatedAt time.Time, d *Demo) error {
	const server, user = "github", "hank"
	tlc := lc.InTenant(tenantGlobex)
	config := map[string]any{
		"type":  "streamable-http",
		"title": "GitHub (Globex)",
		"url":   "https://github.globex.example.test/mcp",
	}
	id, err := tlc.AddServer(ctx, server, config, updatedAt)
	if err != nil {
		return fmt.Errorf("seed %s server %s: %w", tenantGlobex, server, err)
	}
	if err := tlc.GrantUser(ctx, id, users[user], PermView); err != nil {
		return fmt.Errorf("seed %s grant on %s: %w", tenantGlobex, server, err)
	}
	d.TenantServers[tenantGlobex] = map[string]string{server: id.Hex()}
	d.Access[user] = []string{server}
	d.TenantURLs[""] = map[string]string{server: d.Configs[server]["url"].(string)}
	d.TenantURLs[tenantGlobex] = map[string]string{server: config["url"].(string)}
	return nil
}

func grant(ctx context.Context, lc LibreChat, server bson.ObjectID, g demoGrant, users, groups map[string]bson.ObjectID) error {
	switch g.kind {
	case principalUser:
		return lc.GrantUser(ctx, server, users[g.to], PermView)
	case principalGroup:
		return lc.GrantGroup(ctx, server, groups[g.to], PermView)
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
	// groupPlatform lists alice (by her idOnTheSource) and bob (by his id hex).
	groupPlatform = "platform"
	// groupOncall lists carol; dave joins it during the demo events.
	groupOncall = "oncall"
	// aliceSource is alice's idOnTheSource, which the group lists.
	aliceSource = "alice@example.test"
	// tenantGlobex is the second tenant.
	tenantGlobex = "globex"
)

type demoUser struct {
	name, role, source string // source: idOnTheSource, empty when none
	tenant             string // empty: the default tenant
}

// demoUsers: bob has no idOnTheSource, so the group reaches him only
// through his id hex; dave has no grant of any kind (a zero-server user)
// until he joins oncall; hank is globex's.
func demoUsers() []demoUser {
	return []demoUser{
		{name: "alice", role: "USER", source: aliceSource},
		{name: "bob", role: "USER"},
		{name: "carol", role: "ADMIN", source: "carol@example.test"},
		{name: "dave", role: "USER"},
		{name: "hank", role: "USER", tenant: tenantGlobex},
	}
}

type demoGroup struct {
	name    string
	members []string // users' names
}

func demoGroups() []demoGroup {
	return []demoGroup{
		{name: groupPlatform, members: []string{"alice", "bob"}},
		{name: groupOncall, members: []string{"carol"}},
	}
}

type principal int

const (
	principalUser principal = iota
	principalGroup
	principalRole
	principalPublic
)

// demoGrant is one VIEW grant: to a user, a demo group or a role (each by
// name) or the public.
type demoGrant struct {
	kind principal
	to   string
}

func (g demoGrant) allows(u demoUser) bool {
	switch g.kind {
	case principalUser:
		return g.to == u.name
	case principalGroup:
		for _, grp := range demoGroups() {
			if grp.name == g.to {
				return slices.Contains(grp.members, u.name)
			}
		}
		return false
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
		{name: "jira", grant: demoGrant{principalGroup, groupPlatform}, config: map[string]any{
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
		{name: "pagerduty", grant: demoGrant{principalGroup, groupOncall}, config: map[string]any{
			"type":  "streamable-http",
			"title": "PagerDuty",
			"url":   "https://pagerduty.example.test/mcp",
		}},
		{name: "team:ops ✓", grant: demoGrant{principalUser, "bob"}, config: map[string]any{
			"type":  "websocket",
			"title": "Team ops ✓",
			"url":   "wss://ops.example.test/mcp",
		}},
	}
}
