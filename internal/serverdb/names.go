package serverdb

import "go.mongodb.org/mongo-driver/v2/bson"

// Collections, fields and fixed values of LibreChat's schema that this
// package reads (CONTRACT section 3). No other file spells them.
const (
	collUsers      = "users"
	collGroups     = "groups"
	collACLEntries = "aclentries"
	collServers    = "mcpservers"
	collAgents     = "agents"

	fieldID            = "_id"
	fieldRole          = "role"
	fieldIDOnTheSource = "idOnTheSource"
	fieldMemberIDs     = "memberIds"
	fieldPrincipalType = "principalType"
	fieldPrincipalID   = "principalId"
	fieldResourceType  = "resourceType"
	fieldResourceID    = "resourceId"
	fieldPermBits      = "permBits"
	fieldServerName    = "serverName"
	fieldMCPID         = "mcp_id"
	fieldConfig        = "config"
	fieldOptions       = "options" // legacy documents' config
	fieldTitle         = "title"
	fieldUpdatedAt     = "updatedAt"
	fieldTenantID      = "tenantId"
	fieldMCPServerName = "mcpServerNames"

	principalUser   = "user"
	principalGroup  = "group"
	principalRole   = "role"
	principalPublic = "public"

	resourceMCPServer = "mcpServer"
	resourceAgent     = "agent"

	// permView is bit 1 of permBits: the principal may use the server.
	permView = 1
	// permAll is every bit LibreChat defines: VIEW 1, EDIT 2, DELETE 4,
	// SHARE 8.
	permAll = 15
)

// viewPermBits are the permBits values in LibreChat's range (0..permAll)
// that have VIEW set: 1, 3, 5, ..., 15. Matching them with $in runs the same
// on MongoDB, Cosmos DB and DocumentDB, unlike $bitsAllSet (LibreChat made the
// same change). A value outside the range never matches.
var viewPermBits = func() bson.A {
	var out bson.A
	for v := int32(1); v <= permAll; v++ {
		if v&permView != 0 {
			out = append(out, v)
		}
	}
	return out
}()
