package serverdb

// Collections, fields and fixed values of LibreChat's schema that this
// package reads (CONTRACT section 3). No other file spells them.
const (
	collUsers      = "users"
	collGroups     = "groups"
	collACLEntries = "aclentries"
	collServers    = "mcpservers"

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
	fieldUpdatedAt     = "updatedAt"

	principalUser   = "user"
	principalGroup  = "group"
	principalRole   = "role"
	principalPublic = "public"

	resourceMCPServer = "mcpServer"

	// permView is bit 1 of permBits: the principal may use the server.
	permView = 1
)
