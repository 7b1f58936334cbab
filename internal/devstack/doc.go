// Package devstack runs the embedded development stack behind `make run`: a
// real NATS JetStream server, a Redis-protocol server (miniredis, with a clock
// that really advances so TTLs expire) and a MongoDB-protocol server (FerretDB
// v1 on SQLite), plus demo data. Tests use its servers too (internal/testenv),
// and so does the soak (cmd/soak), which also runs NATSCluster: a JetStream
// cluster whose nodes can be killed and restarted.
//
// It must never be linked into the production worker binary: only
// cmd/devstack, cmd/soak and test code import it. It imports nothing else from
// this module.
package devstack
