// Package serverdb reads, from MongoDB in LibreChat's schema, the MCP servers
// a user may use (CONTRACT section 3). A login load calls
// Store.AccessibleServers once; nothing else in the worker reads MongoDB.
//
// It must never write to MongoDB, log a config value (configs hold secrets),
// return a partial result (any error returns nil and the error, so the caller
// retries), dial or close the client (the composition root owns it), or use
// anything beyond plain find: no $lookup, $expr, aggregation, transactions or
// distinct, so that FerretDB v1 and MongoDB 6/7/8 run the same queries. It
// imports nothing else from this module.
//
// # Queries of one login
//
// Sequential, each needing the previous answer (there is no join without
// $lookup). <tenant> is {tenantId: <the user's tenant>}, or {tenantId:
// {$exists: false}} for the default tenant; VIEW is
// {permBits: {$in: [1, 3, 5, 7, 9, 11, 13, 15]}}.
//
//  1. users.find({_id: <oid>}, {role: 1, idOnTheSource: 1, tenantId: 1, _id: 0}).limit(1)
//     Skipped when userId is not an ObjectId hex. A user whose tenantId is
//     not a string stops here with zero servers.
//  2. groups.find({memberIds: {$in: [<userId>, <oid hex>, <idOnTheSource>]}, <tenant>}, {_id: 1})
//     Always run: a group may list the raw userId even for an unknown user.
//  3. aclentries.find({resourceType: {$in: ["mcpServer", "agent"]}, VIEW, <tenant>,
//     $or: [{principalType: "user", principalId: <oid>},
//     {principalType: "group", principalId: {$in: <group ids>}},
//     {principalType: "role", principalId: <role>},
//     {principalType: "public"}]}, {resourceId: 1, resourceType: 1, _id: 0})
//     The user branch only for a known user, the group branch only when
//     query 2 found groups, the role branch only when the user has a role.
//     Server and agent grants in one find.
//  4. agents.find({_id: {$in: <agent resourceIds>}, <tenant>}, {mcpServerNames: 1, _id: 0})
//     Skipped when query 3 found no agent.
//  5. mcpservers.find({<tenant>, $or: [{_id: {$in: <server resourceIds>}},
//     {serverName: {$in: <agent names>}}, {mcp_id: {$in: <agent names>}}]},
//     {serverName: 1, mcp_id: 1, config: 1, options: 1, title: 1, updatedAt: 1})
//     Skipped when there is neither a server id nor an agent name; each
//     $or branch only when it has values.
//
// Round trips per cold login (asserted with a command monitor in the
// tests): at most 5. A known user: 5 with an agent grant, 4 with server
// grants only, 3 with none (or with agents that name no server: 4). A
// non-hex userId costs one less (no query 1); an ObjectId hex without a
// users document costs as a known user. Queries 2 and 3 ask for a first batch
// of 10,000, 4 for one more document than it can match, and 5 for
// len(ids)+2*len(names)+1, so no getMore follows unless a batch passes
// MongoDB's 16 MiB cap or duplicate names exceed that (the result stays
// complete; it costs extra round trips). Ids and names are deduplicated on
// the client instead of with distinct.
//
// # Agents (LibreChat's ServerConfigsDB.getAll)
//
// A server named in mcpServerNames of an agent the user may VIEW is
// reachable: looked up by name (serverName, else mcp_id, as for the name
// rule below) in the user's tenant. A name the user also reaches through a
// server grant is that server (ConsumeOnly false); otherwise the newest
// document of that name is returned with ConsumeOnly true. A document whose
// mcp_id matches but whose serverName is another name is not that name.
//
// # Other reads
//
// Each method's comment lists its exact finds (same <tenant> and VIEW):
//
//   - ServerID: one mcpservers find by serverName or mcp_id.
//   - UserTenant: one users find by _id.
//   - GroupServers: one groups find by _id or idOnTheSource, then queries 3
//     to 5 with only the group branch (no public), projecting names only.
//   - GroupMembers: one groups find by _id or idOnTheSource, then, per
//     ChunkSize member keys, users by idOnTheSource and users by _id.
//   - AllowedUsers: one mcpservers find by name, one aclentries find on those
//     servers, users by _id per ChunkSize user principals, the groups'
//     members as in GroupMembers, one users find by role.
//
// GroupMembers and AllowedUsers stream: the caller's callback gets chunks of
// at most ChunkSize ids, memory stays bounded, and ctx (not QueryTimeout)
// bounds them. Two users finds rather than one $or because FerretDB v1 runs
// that $or nine times slower.
//
// # Indexes MongoDB needs
//
// deploy/README.md ("MongoDB indexes") maps every find above to the index
// that serves it. In short: users _id, {idOnTheSource: 1}, {role: 1};
// groups {memberIds: 1}, {idOnTheSource: 1}; aclentries {principalId: 1,
// principalType: 1, resourceType: 1, resourceId: 1} (LibreChat's) plus
// {principalType: 1, resourceType: 1} for the public branch and
// {resourceId: 1, resourceType: 1} for AllowedUsers; agents _id; mcpservers
// _id, {serverName: 1}, {mcp_id: 1}. With tenants, prefix the equality
// indexes with tenantId where a tenant is large.
//
// On FerretDB v1 (SQLite) only _id lookups use an index: every other find
// scans its collection, so keep test and demo data small.
//
// # Rules for odd data
//
//   - A userId that is not an ObjectId hex, or has no users document, is not
//     an error: it has no user or role principal, only public and the groups
//     whose memberIds hold the raw userId.
//   - A non-string role or idOnTheSource is ignored; an empty role gives no
//     role principal.
//   - Tenants: a user's tenant is the string tenantId of its users document;
//     no tenantId, no users document or a non-hex userId is the default
//     tenant "" (the documents without tenantId). Every find on groups,
//     aclentries, agents and mcpservers keeps to that tenant, and
//     Server.Tenant says which it was. A document whose tenantId is null or
//     not a string is in no tenant: nobody sees it. A user whose tenantId is
//     null or not a string gets zero servers (UserTenant: ErrNoTenant).
//   - Non-string and empty entries of an agent's mcpServerNames are ignored.
//   - The name is serverName, else mcp_id; a document with neither (or only
//     empty or non-string ones) is skipped and counted in Stats.SkippedUnnamed.
//   - Two accessible documents with one name: the newest updatedAt wins, then
//     the greater _id hex; the others are counted in Stats.DroppedDuplicates.
//   - config is rendered as relaxed extended JSON in stored field order:
//     plain JSON for strings, numbers, bools, null, arrays and objects; BSON-
//     only values keep their $-wrapped form ({"$date": ...}, {"$oid": ...}).
//     A missing, null or non-object config is {}, except that a legacy
//     document without config (missing or null) whose options is an object
//     uses options as its config, with the document's top-level string title
//     added at the end unless options has a title.
//   - updatedAt is read as a BSON date, or a number of milliseconds; else 0.
//   - VIEW is tested with $in over LibreChat's values 1..15 that have bit 1,
//     not $bitsAllSet, which Cosmos DB and DocumentDB lack. An ACL entry with
//     permBits as int32, int64 or double counts; a string, or a value above
//     15, never matches.
//
// # Timeouts
//
// Config.QueryTimeout bounds a whole AccessibleServers call with
// context.WithTimeout. The driver sends the remaining time as maxTimeMS on
// query 1 (FerretDB accepts it on find) but, by design (DRIVERS-2722), not on
// cursor finds, which the deadline bounds on the client side.
package serverdb
