// Package bench holds the benchmarks behind `make bench`: login throughput,
// Redis round trips, the cost of server fan-outs, and the registry-v2 targets
// measured against a reference implementation of the original loader in the
// same run. It has no code of its own outside its tests; the performance
// claims of the project come from these benchmarks, never from timed unit
// tests.
//
// # How it measures
//
// Each benchmark starts a private redis-server (testenv.StartRedisServer), so
// that INFO commandstats and the keyspace hold only what it does, and wires
// the flows exactly as production does: handlers.Map with the default
// registry and lock configs and go-redis's default client options, the
// events handed to Handle directly (no NATS: the flows and Redis are what is
// measured). MongoDB is replaced by an in-memory ServerSource, because
// FerretDB's times are not MongoDB's (PITFALLS); add the source's latency to
// a cold login for a real deployment.
//
// Before measuring, a few logins and server events run unmeasured, so that
// the Lua scripts are cached in Redis and the connection pools are open, as
// in a running worker.
//
// # How to read the tables
//
// Each benchmark prints Markdown tables (run with -benchtime 1x; with a
// larger count the measurement repeats and the last one is printed). The
// "ns/op" line Go prints covers the whole benchmark, setup included: read the
// tables, and the metrics reported next to ns/op, instead.
//
//   - round trips: counted by a go-redis hook on the flows' client, one per
//     command call and one per pipeline; exact, not sampled. Commands sent by
//     go-redis when it opens a connection are left out.
//   - commands: the commands the flows sent (each command of a pipeline).
//   - Redis cmds: INFO commandstats calls during the measurement, which also
//     counts the commands Lua scripts run inside Redis.
//   - Redis CPU / worker CPU: CPU time redis-server (INFO cpu) and this
//     process (getrusage) used during the measurement, per login; they give
//     the ceilings each side would reach with a core of its own.
//   - Redis memory: growth of INFO memory used_memory (bytes the allocator
//     gives redis-server), DBSIZE growth for keys.
//   - ms, logins/s, p50, p99: wall time on this machine; the headers show
//     the load average, as other work on the machine skews them.
//
// BenchmarkLogin: 20,000 cold logins (5 servers each) at 32 goroutines, then
// 20,000 warm ones; prints logins/s, latency percentiles and round trips per
// login next to the DESIGN targets (cold >= 6,000/s with <= 6 round trips,
// warm 1), which are shown, not enforced. It fails unless every user is
// loaded (members hash with the loaded mark and its 5 servers).
//
// BenchmarkFanout100k: a server.access event granting a server to 100,000
// loaded users, then one revoking it from all; prints time, round trips,
// Redis commands per user and the peak growth of the heap in use; fails
// unless every user got, then lost, the server (membership plus the server's
// one value).
//
// BenchmarkTargets: the targets of the registry-v2 issue, each printed as met
// or "NO" with the measured figure, the reference's figure measured in the
// same run and their ratio (a summary table, then one table per target).
// Nothing fails because a target is missed; it fails only when a flow's
// result is wrong.
//
//  1. Update and delete reaching U = 1, 10,000 and 1,000,000 holders: Redis
//     commands (INFO commandstats) must not depend on U, and the median
//     update (11 per U) and the delete must take under 2 ms at 1,000,000.
//     Holders are made by cold logins up to 10,000; for 1,000,000 by
//     pipelined bulk writes that leave what a login leaves (members hash with
//     loaded mark and TTL, holder-index entry), after one real login.
//  2. Redis bytes per (user, server) entry: used_memory growth over 5,000
//     cold logins of 20 servers each (300-byte configs) divided by the
//     100,000 entries, layout 2 and the reference each in a private
//     redis-server, everything each keeps included (members hashes, holder
//     index, records and values; value keys, flags and holder sets). Measured
//     for pools of 20, 200 and 2,000 servers (5,000, 500 and 50 holders per
//     server): target at most 15% of the reference for each.
//  3. Cold login of 5 servers (drawn from 2,000, all already known): at most
//     5 round trips and 20 Redis commands (Lua included), and a rate at least
//     the reference loader's; 10,000 logins per side, both on one
//     redis-server, in alternated blocks of 1,000.
//  4. Update of a server with 10,000 holders at least 20x faster (median)
//     than the reference's SET per holder, alternated on one redis-server.
//  5. Grant and revoke to 100,000 loaded users: at most 3 Redis commands per
//     user; peak heap growth reported. Taken from BenchmarkFanout100k when it
//     ran earlier in the same process (as in `make bench`), else measured.
//  6. A user's effective view (registry.Registry.User) with 20 private and
//     10 shared servers: at most 2 round trips.
//
// # The reference
//
// reference_test.go re-implements the ORIGINAL loader's Redis work, the
// yardstick of targets 1 to 4 (it defines no grant, revoke or view, so
// targets 5 and 6 have no reference figure): one key per (user, server)
// holding the JSON value (registry.Value) with the cache TTL, a loaded flag
// per user, and a set of holders per server in place of the original's SCAN.
// A cold load of n servers is EXISTS flag, SET lock NX PX, n GET (an existing
// value at least as new is kept), n SET PX, n SADD to the holder sets, SET
// flag PX, DEL lock: 19 commands for 5 servers (TestIntegrationReferenceLogin
// checks it), pipelined where replies do not feed later commands (5 round
// trips), which favours the reference. An update is SSCAN of the holder set
// in pages of 500 and one SET XX KEEPTTL per holder, pipelined per page. Key
// names are as short as layout 2's. It keeps none of layout 2's guarantees
// (fencing, changes during a load): only its Redis work is compared.
//
// BenchmarkUnrelatedKeys: the same update reaching 100 users, in two
// redis-servers set up alike but for 1,000,000 unrelated keys in one of them,
// the updates alternated between the two in one run (so that the machine's
// load hits both alike); fails if any flow ran SCAN or KEYS or if the round
// trips differ between the two.
//
// The events of the benchmarks carry UpdatedAtMs = Version, so that the
// server's value is known exactly (without it the value's updatedAt would be
// the worker's clock when the event applied). Layout 2 stores that value once
// ({s:<name>}:val) and users hold membership ({u:<user>}:m): a user "has the
// new value" when it is a member and the server's value is the new one.
// BenchmarkConsume: the consume loop, end to end through JetStream: a
// nats-server process (built from the nats-server module the project embeds
// elsewhere, so that its CPU is not mixed into the worker's Go process), the
// stream and durable consumer as Provision makes them, events.Consumer
// replicas running the flows (handlers.Map, in-memory source, private
// redis-server) with the production JSON logger at info (to /dev/null) and
// the consume-loop metrics; every event carries Mcp-Notify and the publisher
// times publish-to-result. Rows: 20,000 warm logins in-process (at
// --concurrency goroutines) and through JetStream (target >= 20,000/s and at
// most 1 Redis round trip each); cold logins in-process and through
// JetStream in alternated halves of 5,000 (target >= 90%); one replica and
// two replicas on one durable consumer, alternated (target >= 1.6x); then a
// fixed rate of 5,000, 10,000 and 20,000 logins/s for 30 s each
// (MCP_BENCH_SUSTAIN shortens it) with p50/p99 and the consumer's lag (pending
// + ack pending) sampled every second (target p99 < 20 ms at 10,000/s).
// A second warm burst and a cold burst run under the CPU profiler with mutex
// and block sampling; the profiles are written to MCP_BENCH_PROFILES (else a
// temporary directory) and their top entries printed. MCP_BENCH_CONCURRENCY
// overrides --concurrency (16).
//
// BenchmarkReader: the public Go reader (reader.Effective) reading one user's
// view (20 private + 10 shared servers) from 32 goroutines for 3 s in a Redis
// holding 50,000 unrelated keys: reads/s, latency, Redis commands and round
// trips per read, with and without go-redis's client-side cache, against the
// 4,825 commands of LibreChat's SCAN-based getAll. The Node reader's figures
// come from `npm run bench` in clients/node (make bench runs both).
package bench
