// Package reader is the read side of the MCP registry for Go services: a
// user's effective view (shared tiers merged over the private registry), the
// private registry alone, one server's value, and a change feed, read from
// the Redis the worker writes (layout 2, docs/redis-layout.md). It works on a
// single Redis and on Redis Cluster, never writes, and never logs a value
// (values hold secrets). Given LibreChat's CREDS_KEY it decrypts the fields
// LibreChat encrypts (oauth.client_secret, apiKey.key).
//
// Key and channel names come from reader/layout, the same package the worker
// writes with. The Node.js reader in clients/node has the same API, and both
// pass one conformance suite (testdata/conformance).
package reader
