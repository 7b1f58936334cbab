package devstack

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Permission bits of a LibreChat ACL entry (permBits). Only PermView matters
// to the worker: a principal may use a server when its entry has that bit.
const (
	PermView   = 1
	PermEdit   = 2
	PermDelete = 4
	PermShare  = 8
)

// Collections and fixed values of LibreChat's schema, as the worker reads them
// (CONTRACT section 3).
const (
	lcUsers        = "users"
	lcGroups       = "groups"
	lcACLEntries   = "aclentries"
	lcMCPServers   = "mcpservers"
	lcAgents       = "agents"
	lcResourceType = "mcpServer"
	lcAgentType    = "agent"
	lcTenantID     = "tenantId"
)

// LibreChat writes documents in LibreChat's schema (users, groups, aclentries,
// mcpservers, agents) for tests and demo data. Every method is one or two
// plain writes; none reads back what it wrote.
type LibreChat struct {
	DB *mongo.Database
	// Tenant, when not empty, is written as tenantId on every document this
	// LibreChat writes (users, groups, servers, agents, ACL entries). Empty
	// leaves the field out: the default tenant.
	Tenant string
}

// InTenant returns a copy of l that writes its documents in tenant.
func (l LibreChat) InTenant(tenant string) LibreChat {
	l.Tenant = tenant
	return l
}

// withTenant appends tenantId to doc when l has a tenant.
func (l LibreChat) withTenant(doc bson.D) bson.D {
	if l.Tenant == "" {
		return doc
	}
	return append(doc, bson.E{Key: lcTenantID, Value: l.Tenant})
}

// AddUser inserts a user with a new ObjectId. An empty role or idOnTheSource
// leaves that field out of the document.
func (l LibreChat) AddUser(ctx context.Context, role, idOnTheSource string) (bson.ObjectID, error) {
	id := bson.NewObjectID()
	doc := bson.D{{Key: "_id", Value: id}, {Key: "provider", Value: "local"}}
	if role != "" {
		doc = append(doc, bson.E{Key: "role", Value: role})
	}
	if idOnTheSource != "" {
		doc = append(doc, bson.E{Key: "idOnTheSource", Value: idOnTheSource})
	}
	if _, err := l.DB.Collection(lcUsers).InsertOne(ctx, l.withTenant(doc)); err != nil {
		return bson.ObjectID{}, fmt.Errorf("add user: %w", err)
	}
	return id, nil
}

// AddGroup inserts a local group whose memberIds are memberIDs (users'
// idOnTheSource or _id hex), always stored as an array.
func (l LibreChat) AddGroup(ctx context.Context, name string, memberIDs ...string) (bson.ObjectID, error) {
	return l.addGroup(ctx, name, "", memberIDs)
}

// AddSourceGroup inserts a group synced from an identity provider ("entra"),
// whose idOnTheSource is idOnTheSource. Otherwise as AddGroup.
func (l LibreChat) AddSourceGroup(ctx context.Context, name, idOnTheSource string, memberIDs ...string) (bson.ObjectID, error) {
	return l.addGroup(ctx, name, idOnTheSource, memberIDs)
}

func (l LibreChat) addGroup(ctx context.Context, name, idOnTheSource string, memberIDs []string) (bson.ObjectID, error) {
	id := bson.NewObjectID()
	members := append([]string{}, memberIDs...)
	doc := bson.D{{Key: "_id", Value: id}, {Key: "name", Value: name}}
	if idOnTheSource != "" {
		doc = append(doc, bson.E{Key: "source", Value: "entra"}, bson.E{Key: "idOnTheSource", Value: idOnTheSource})
	} else {
		doc = append(doc, bson.E{Key: "source", Value: "local"})
	}
	doc = append(doc, bson.E{Key: "memberIds", Value: members})
	if _, err := l.DB.Collection(lcGroups).InsertOne(ctx, l.withTenant(doc)); err != nil {
		return bson.ObjectID{}, fmt.Errorf("add group %q: %w", name, err)
	}
	return id, nil
}

// AddServer inserts an MCP server document with field serverName. A nil
// config or a zero updatedAt leaves that field out; updatedAt is stored as a
// BSON date (millisecond precision).
func (l LibreChat) AddServer(ctx context.Context, name string, config map[string]any, updatedAt time.Time) (bson.ObjectID, error) {
	return l.addServer(ctx, "serverName", name, config, updatedAt)
}

// AddLegacyServer inserts an older MCP server document: its name is in field
// mcp_id and it has no serverName. Otherwise as AddServer.
func (l LibreChat) AddLegacyServer(ctx context.Context, mcpID string, config map[string]any, updatedAt time.Time) (bson.ObjectID, error) {
	return l.addServer(ctx, "mcp_id", mcpID, config, updatedAt)
}

// AddLegacyOptionsServer inserts the oldest shape of MCP server document:
// name in mcp_id, the config in options (nil leaves it out) and title at the
// top level (empty leaves it out).
func (l LibreChat) AddLegacyOptionsServer(ctx context.Context, mcpID, title string, options map[string]any, updatedAt time.Time) (bson.ObjectID, error) {
	var extra bson.D
	if title != "" {
		extra = append(extra, bson.E{Key: "title", Value: title})
	}
	if options != nil {
		extra = append(extra, bson.E{Key: "options", Value: options})
	}
	return l.addServerDoc(ctx, "mcp_id", mcpID, extra, updatedAt)
}

func (l LibreChat) addServer(ctx context.Context, nameField, name string, config map[string]any, updatedAt time.Time) (bson.ObjectID, error) {
	var extra bson.D
	if config != nil {
		extra = append(extra, bson.E{Key: "config", Value: config})
	}
	return l.addServerDoc(ctx, nameField, name, extra, updatedAt)
}

func (l LibreChat) addServerDoc(ctx context.Context, nameField, name string, extra bson.D, updatedAt time.Time) (bson.ObjectID, error) {
	id := bson.NewObjectID()
	doc := append(bson.D{{Key: "_id", Value: id}, {Key: nameField, Value: name}}, extra...)
	if !updatedAt.IsZero() {
		doc = append(doc,
			bson.E{Key: "createdAt", Value: updatedAt},
			bson.E{Key: "updatedAt", Value: updatedAt})
	}
	if _, err := l.DB.Collection(lcMCPServers).InsertOne(ctx, l.withTenant(doc)); err != nil {
		return bson.ObjectID{}, fmt.Errorf("add server %q: %w", name, err)
	}
	return id, nil
}

// GrantUser sets user's permBits on server. Like LibreChat, it keeps one
// entry per principal and server: a second grant replaces the bits.
func (l LibreChat) GrantUser(ctx context.Context, server, user bson.ObjectID, permBits int) error {
	return l.grant(ctx, lcResourceType, server, UserPrincipal(user), permBits)
}

// GrantGroup sets group's permBits on server (one entry per group and server).
func (l LibreChat) GrantGroup(ctx context.Context, server, group bson.ObjectID, permBits int) error {
	return l.grant(ctx, lcResourceType, server, GroupPrincipal(group), permBits)
}

// GrantRole sets the permBits of every user with role on server; the entry's
// principalId is the role name.
func (l LibreChat) GrantRole(ctx context.Context, server bson.ObjectID, role string, permBits int) error {
	return l.grant(ctx, lcResourceType, server, RolePrincipal(role), permBits)
}

// GrantPublic sets everyone's permBits on server; the entry has no principalId.
func (l LibreChat) GrantPublic(ctx context.Context, server bson.ObjectID, permBits int) error {
	return l.grant(ctx, lcResourceType, server, PublicPrincipal(), permBits)
}

// Principal is whom an ACL entry grants: build one with UserPrincipal,
// GroupPrincipal, RolePrincipal or PublicPrincipal.
type Principal struct {
	typ   string // principalType
	model string // principalModel, "" for public
	id    any    // principalId, nil for public
}

// UserPrincipal is the user with _id user.
func UserPrincipal(user bson.ObjectID) Principal { return Principal{"user", "User", user} }

// GroupPrincipal is the group with _id group.
func GroupPrincipal(group bson.ObjectID) Principal { return Principal{"group", "Group", group} }

// RolePrincipal is every user whose role is role.
func RolePrincipal(role string) Principal { return Principal{"role", "Role", role} }

// PublicPrincipal is everyone.
func PublicPrincipal() Principal { return Principal{typ: "public"} }

// AddAgent inserts an agent whose mcpServerNames are mcpServerNames (nil
// leaves the field out), with LibreChat's string id "agent_<hex>".
func (l LibreChat) AddAgent(ctx context.Context, name string, mcpServerNames []string) (bson.ObjectID, error) {
	id := bson.NewObjectID()
	doc := bson.D{
		{Key: "_id", Value: id},
		{Key: "id", Value: "agent_" + id.Hex()},
		{Key: "name", Value: name},
		{Key: "provider", Value: "openAI"},
		{Key: "model", Value: "gpt-4o"},
	}
	if mcpServerNames != nil {
		doc = append(doc, bson.E{Key: "mcpServerNames", Value: append([]string{}, mcpServerNames...)})
	}
	if _, err := l.DB.Collection(lcAgents).InsertOne(ctx, l.withTenant(doc)); err != nil {
		return bson.ObjectID{}, fmt.Errorf("add agent %q: %w", name, err)
	}
	return id, nil
}

// GrantAgent sets p's permBits on agent (one entry per principal and agent).
// A principal that may VIEW the agent reaches the servers it names.
func (l LibreChat) GrantAgent(ctx context.Context, agent bson.ObjectID, p Principal, permBits int) error {
	return l.grant(ctx, lcAgentType, agent, p, permBits)
}

// grant upserts the entry of principal p on the resource of resourceType.
func (l LibreChat) grant(ctx context.Context, resourceType string, resource bson.ObjectID, p Principal, permBits int) error {
	filter := bson.D{{Key: "principalType", Value: p.typ}}
	if p.id != nil {
		filter = append(filter, bson.E{Key: "principalId", Value: p.id})
	}
	filter = append(filter,
		bson.E{Key: "resourceType", Value: resourceType},
		bson.E{Key: "resourceId", Value: resource})
	set := bson.D{
		{Key: "permBits", Value: int32(permBits)},
		{Key: "grantedAt", Value: time.Now().UTC()},
	}
	if p.model != "" {
		set = append(set, bson.E{Key: "principalModel", Value: p.model})
	}
	update := bson.D{{Key: "$set", Value: l.withTenant(set)}}
	_, err := l.DB.Collection(lcACLEntries).UpdateOne(ctx, filter, update, options.UpdateOne().SetUpsert(true))
	if err != nil {
		return fmt.Errorf("grant %s on %s %s: %w", p.typ, resourceType, resource.Hex(), err)
	}
	return nil
}

// RevokeUser deletes user's own entries for server (grants through groups,
// roles or public stay).
func (l LibreChat) RevokeUser(ctx context.Context, server, user bson.ObjectID) error {
	filter := bson.D{
		{Key: "principalType", Value: "user"},
		{Key: "principalId", Value: user},
		{Key: "resourceType", Value: lcResourceType},
		{Key: "resourceId", Value: server},
	}
	if _, err := l.DB.Collection(lcACLEntries).DeleteMany(ctx, filter); err != nil {
		return fmt.Errorf("revoke user %s on server %s: %w", user.Hex(), server.Hex(), err)
	}
	return nil
}

// RevokeAll deletes every ACL entry of server.
func (l LibreChat) RevokeAll(ctx context.Context, server bson.ObjectID) error {
	filter := bson.D{
		{Key: "resourceType", Value: lcResourceType},
		{Key: "resourceId", Value: server},
	}
	if _, err := l.DB.Collection(lcACLEntries).DeleteMany(ctx, filter); err != nil {
		return fmt.Errorf("revoke all on server %s: %w", server.Hex(), err)
	}
	return nil
}

// SetServerConfig replaces server's config and updatedAt (nil config or zero
// updatedAt removes the field). It fails when the server does not exist.
func (l LibreChat) SetServerConfig(ctx context.Context, server bson.ObjectID, config map[string]any, updatedAt time.Time) error {
	set, unset := bson.D{}, bson.D{}
	if config != nil {
		set = append(set, bson.E{Key: "config", Value: config})
	} else {
		unset = append(unset, bson.E{Key: "config", Value: ""})
	}
	if !updatedAt.IsZero() {
		set = append(set, bson.E{Key: "updatedAt", Value: updatedAt})
	} else {
		unset = append(unset, bson.E{Key: "updatedAt", Value: ""})
	}
	update := bson.D{}
	if len(set) > 0 {
		update = append(update, bson.E{Key: "$set", Value: set})
	}
	if len(unset) > 0 {
		update = append(update, bson.E{Key: "$unset", Value: unset})
	}
	res, err := l.DB.Collection(lcMCPServers).UpdateOne(ctx, bson.D{{Key: "_id", Value: server}}, update)
	if err != nil {
		return fmt.Errorf("set config of server %s: %w", server.Hex(), err)
	}
	if res.MatchedCount == 0 {
		return fmt.Errorf("set config of server %s: no such server", server.Hex())
	}
	return nil
}

// DeleteServer deletes the server document and all its ACL entries. Deleting
// a server that does not exist is not an error.
func (l LibreChat) DeleteServer(ctx context.Context, server bson.ObjectID) error {
	if _, err := l.DB.Collection(lcMCPServers).DeleteOne(ctx, bson.D{{Key: "_id", Value: server}}); err != nil {
		return fmt.Errorf("delete server %s: %w", server.Hex(), err)
	}
	return l.RevokeAll(ctx, server)
}

// AddMembers adds memberIDs (users' idOnTheSource or _id hex) to the
// memberIds of group, each at most once. It fails when the group does not
// exist.
func (l LibreChat) AddMembers(ctx context.Context, group bson.ObjectID, memberIDs ...string) error {
	update := bson.D{{Key: "$addToSet", Value: bson.D{{Key: "memberIds", Value: bson.D{{Key: "$each", Value: append([]string{}, memberIDs...)}}}}}}
	res, err := l.DB.Collection(lcGroups).UpdateOne(ctx, bson.D{{Key: "_id", Value: group}}, update)
	if err != nil {
		return fmt.Errorf("add members to group %s: %w", group.Hex(), err)
	}
	if res.MatchedCount == 0 {
		return fmt.Errorf("add members to group %s: no such group", group.Hex())
	}
	return nil
}
