// Package layout names every Redis key and pub/sub channel of the MCP
// registry (layout 2, docs/redis-layout.md): the one source of key names for
// the worker (internal/registry) and the readers. It only builds strings.
package layout
