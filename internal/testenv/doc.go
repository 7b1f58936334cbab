// Package testenv gives integration tests real servers: the machine's Redis
// (REDIS_URL, default 127.0.0.1:6379) with a key prefix of their own, a private
// redis-server process when a test needs clean counters or a restart, a
// three-master Redis Cluster of redis-server processes (one per test, or one
// shared by the tests of a package), an embedded nats-server with JetStream,
// a three-node embedded JetStream cluster (StartJSCluster: replicated
// streams, a stream leader to kill and restart), and an embedded FerretDB. RedisTargets runs a test against both a single
// Redis and the cluster.
//
// Under CI=true a server that cannot be reached fails the test; elsewhere it
// skips it. Only test code imports this package.
package testenv
