// Package bench holds the benchmarks behind `make bench`: login throughput,
// Redis round trips, and the cost of server fan-outs. It has no code of its
// own outside its tests; the performance claims of the project come from
// these benchmarks, never from timed unit tests.
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
// Each benchmark prints one Markdown table (run with -benchtime 1x; with a
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
//   - ms, logins/s, p50, p99: wall time on this machine; the headers show
//     the load average, as other work on the machine skews them.
//
// BenchmarkLogin: 20,000 cold logins (5 servers each) at 32 goroutines, then
// 20,000 warm ones; prints logins/s, latency percentiles and round trips per
// login next to the DESIGN targets (cold >= 6,000/s with <= 6 round trips,
// warm 1), which are shown, not enforced.
//
// BenchmarkUpdateFanout: one server.updated event for a server cached by 1,
// 100 and 10,000 users; fails unless every user got the new value.
//
// BenchmarkUnrelatedKeys: the same update reaching 100 users, in two
// redis-servers set up alike but for 1,000,000 unrelated keys in one of them,
// the updates alternated between the two in one run (so that the machine's
// load hits both alike); fails if any flow ran SCAN or KEYS or if the round
// trips differ between the two.
//
// BenchmarkFanout100k: a server.access event granting a server to 100,000
// loaded users, then one revoking it from all; prints time, round trips and
// the peak growth of the heap in use; fails unless every user got, then
// lost, the server.
package bench
