package main

import (
	"flag"
	"fmt"
	"io"
	"time"
)

// config is every option of devstack. The defaults stay clear of the
// machine's own Redis (6379), NATS (4222) and MongoDB (27017).
type config struct {
	worker    string // worker binary; empty: run the stack only
	natsAddr  string
	redisAddr string
	mongoAddr string
	dataDir   string
	reset     bool
	opsAddr   string
	cacheTTL  string
	database  string
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("devstack", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.worker, "worker", "bin/worker", "worker binary to run as `<worker> run`; empty runs the stack only")
	fs.StringVar(&c.natsAddr, "nats-addr", "127.0.0.1:14222", "NATS listen address")
	fs.StringVar(&c.redisAddr, "redis-addr", "127.0.0.1:16379", "Redis (miniredis) listen address")
	fs.StringVar(&c.mongoAddr, "mongo-addr", "127.0.0.1:27018", "MongoDB (FerretDB) listen address")
	fs.StringVar(&c.dataDir, "data-dir", ".devdata", "data directory (nats/ and mongo/ below it)")
	fs.BoolVar(&c.reset, "reset", true, "delete the data of earlier runs (data-dir/nats, data-dir/mongo) first")
	fs.StringVar(&c.opsAddr, "ops-addr", "127.0.0.1:19090", "the worker's ops listener (/readyz, /metrics)")
	fs.StringVar(&c.cacheTTL, "cache-ttl", "10m", "the worker's --cache-ttl")
	fs.StringVar(&c.database, "database", "LibreChat", "MongoDB database of the demo data")
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if _, err := time.ParseDuration(c.cacheTTL); err != nil {
		return config{}, fmt.Errorf("--cache-ttl: %w", err)
	}
	if c.dataDir == "" || c.database == "" {
		return config{}, fmt.Errorf("--data-dir and --database must not be empty")
	}
	return c, nil
}

// workerEnv is the environment of the worker child, added to devstack's own.
func (c config) workerEnv(natsURL, redisURL, mongoURI string) []string {
	return []string{
		"NATS_URL=" + natsURL,
		"REDIS_URL=" + redisURL,
		"MONGODB_URI=" + mongoURI,
		"MCP_WORKER_MONGODB_DATABASE=" + c.database,
		"MCP_WORKER_LOG_FORMAT=console",
		"MCP_WORKER_OPS_ADDR=" + c.opsAddr,
		"MCP_WORKER_CACHE_TTL=" + c.cacheTTL,
		"MCP_WORKER_METRICS_POLL_EVERY=1s", // the demo's /metrics excerpt shows the polled gauges soon
	}
}
