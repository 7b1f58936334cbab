// Command soak runs the worker under mixed load and faults for a while and
// proves nothing was lost (issue 11, `make soak`).
//
// It starts its own servers (a 3-node embedded JetStream cluster, a
// redis-server with an fsync-always append-only file on a free port, and
// FerretDB on a free port with a data directory it can stop and restart),
// seeds LibreChat users in MongoDB, and starts two `worker run` processes of
// the binary given by -worker. A seeded generator then publishes a steady mix
// of logins, config updates, grants, revokes, shares, unshares and deletes,
// writing MongoDB first as LibreChat does, while a model applies the same
// changes in publish order. Every -fault-every one fault is injected, in
// turn: SIGKILL a worker (a replacement starts 5 s later), restart Redis,
// restart the NATS node that leads the stream, stop MongoDB for 20 s. After
// -duration the load stops; once the consumer is idle every user's registry
// (read with the reader package) is compared with the model.
//
// It prints events published, applied and dead-lettered, the mismatches,
// the p99 publish-to-applied latency per phase (normal, during each fault
// kind, recovery) and the recovery time after each fault, and exits 1 on any
// mismatch or dead letter (every generated event is valid). It is a
// development tool: it imports internal/devstack and is never shipped.
package main
