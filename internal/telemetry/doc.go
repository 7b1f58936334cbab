// Package telemetry instruments the worker's clients and exports what the
// consume loop cannot see: Redis and MongoDB call durations and counts per
// event kind (a go-redis hook, a MongoDB driver CommandMonitor), the
// MongoDB commands' spans, the OpenTelemetry tracer provider (OTLP when
// configured, a no-op otherwise), the state polled from JetStream and Redis
// (consumer pending and ack-pending, dead-letter stream size, loaded users)
// and the build info.
//
// It never builds or closes a client: cmd/worker hands it the clients it
// built. Labels stay bounded: a command name, a script name, a collection,
// an event kind; never a user id, a server name, a key or an argument.
// Spans never carry query documents, keys or arguments either.
package telemetry
