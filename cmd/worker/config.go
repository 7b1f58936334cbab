package main

import (
	"flag"
	"fmt"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/mcp-registry/worker/internal/events"
)

// Config is every option of the worker, set by flag, environment variable or
// default, in that order of precedence (CONTRACT section 5). Each field is
// described, with its flag and default, by its row in options; log it only
// through Fields, which masks secrets.
type Config struct {
	NATSURL, NATSCreds, NATSTLSCA, NATSTLSCert, NATSTLSKey                        string
	RedisURL, RedisTLSCA, RedisTLSCert, RedisTLSKey, RedisUsername, RedisPassword string
	MongoURI, MongoDatabase                                                       string
	Stream, DLQStream, AuditStream, SubjectPrefix, Consumer, NotifyPrefix         string
	Provision                                                                     bool
	KeyPrefix                                                                     string
	CacheTTL, LockTTL, HandlerTimeout, AckWait, ShutdownTimeout                   time.Duration
	RetryBaseDelay, RetryMaxDelay, StreamMaxAge, DLQMaxAge, TombstoneTTL          time.Duration
	AuditMaxAge                                                                   time.Duration
	ReconcileEvery, OutageProbeMax, LogSummaryEvery, MetricsPollEvery             time.Duration
	ReconcileRate, StreamReplicas                                                 int
	Concurrency, MaxDeliver, MaxAckPending, MaxPayload, OutageErrors              int
	MaxAllowedUsers, MaxConfigBytes, DLQMaxBytes                                  int
	OpsAddr, LogFormat, LogLevel, OTLPEndpoint                                    string
}

// masking says how an option's value is shown in logs and errors.
type masking int

const (
	plain  masking = iota
	uri            // one URI: userinfo and secret query values hidden
	urls           // comma-separated URLs, each masked like uri
	secret         // hidden entirely
)

const masked = "xxxxx"

// option is one row of the option table: the flag name (the environment
// name derives from it), the default as typed on the command line, the help
// text (a `quoted` word names the argument) and the Config field it sets.
type option struct {
	name, def, usage string
	mask             masking
	bind             func(c *Config) flag.Value
}

// options is the one place where options and their defaults are listed.
var options = []option{
	{"nats-url", "nats://127.0.0.1:4222", "NATS server `URLs` (nats, tls, ws, wss), comma-separated", urls, func(c *Config) flag.Value { return (*stringValue)(&c.NATSURL) }},
	{"nats-creds", "", "NATS credentials `file`", plain, func(c *Config) flag.Value { return (*stringValue)(&c.NATSCreds) }},
	{"nats-tls-ca", "", "CA certificate `file` for NATS TLS", plain, func(c *Config) flag.Value { return (*stringValue)(&c.NATSTLSCA) }},
	{"nats-tls-cert", "", "client certificate `file` for NATS TLS (with --nats-tls-key)", plain, func(c *Config) flag.Value { return (*stringValue)(&c.NATSTLSCert) }},
	{"nats-tls-key", "", "client key `file` for NATS TLS (with --nats-tls-cert)", plain, func(c *Config) flag.Value { return (*stringValue)(&c.NATSTLSKey) }},
	{"redis-url", "redis://127.0.0.1:6379", "Redis `URL` (redis:// or rediss://); host:port addresses, or a comma-separated list, mean Redis Cluster", urls, func(c *Config) flag.Value { return (*stringValue)(&c.RedisURL) }},
	{"redis-tls-ca", "", "CA certificate `file` for Redis TLS", plain, func(c *Config) flag.Value { return (*stringValue)(&c.RedisTLSCA) }},
	{"redis-tls-cert", "", "client certificate `file` for Redis TLS (with --redis-tls-key)", plain, func(c *Config) flag.Value { return (*stringValue)(&c.RedisTLSCert) }},
	{"redis-tls-key", "", "client key `file` for Redis TLS (with --redis-tls-cert)", plain, func(c *Config) flag.Value { return (*stringValue)(&c.RedisTLSKey) }},
	{"redis-username", "", "Redis ACL `user` (overrides the URL's)", plain, func(c *Config) flag.Value { return (*stringValue)(&c.RedisUsername) }},
	{"redis-password", "", "Redis `password` (overrides the URL's; prefer the environment variable)", secret, func(c *Config) flag.Value { return (*stringValue)(&c.RedisPassword) }},
	{"mongodb-uri", "mongodb://127.0.0.1:27017", "MongoDB connection `URI` (mongodb:// or mongodb+srv://)", uri, func(c *Config) flag.Value { return (*stringValue)(&c.MongoURI) }},
	{"mongodb-database", "LibreChat", "MongoDB `database` of LibreChat", plain, func(c *Config) flag.Value { return (*stringValue)(&c.MongoDatabase) }},
	{"stream", events.DefaultStream, "JetStream `stream` of the events", plain, func(c *Config) flag.Value { return (*stringValue)(&c.Stream) }},
	{"dlq-stream", "", "JetStream `stream` of the dead letters (default: --stream plus _DLQ)", plain, func(c *Config) flag.Value { return (*stringValue)(&c.DLQStream) }},
	{"audit-stream", "", "JetStream `stream` of the audit records (default: --stream plus _AUDIT)", plain, func(c *Config) flag.Value { return (*stringValue)(&c.AuditStream) }},
	{"subject-prefix", events.DefaultPrefix, "`prefix` of every event subject", plain, func(c *Config) flag.Value { return (*stringValue)(&c.SubjectPrefix) }},
	{"notify-prefix", "", "subject `prefix` an Mcp-Notify header may name besides _INBOX (never $ subjects or --subject-prefix)", plain, func(c *Config) flag.Value { return (*stringValue)(&c.NotifyPrefix) }},
	{"consumer", events.DefaultConsumer, "durable `consumer` shared by all replicas", plain, func(c *Config) flag.Value { return (*stringValue)(&c.Consumer) }},
	{"provision", "true", "create or update the streams and the consumer at start", plain, func(c *Config) flag.Value { return (*boolValue)(&c.Provision) }},
	{"key-prefix", "mcp:", "`prefix` of every Redis key (may be empty)", plain, func(c *Config) flag.Value { return (*stringValue)(&c.KeyPrefix) }},
	{"cache-ttl", "1h", "`duration` of a user's cached registry and loaded flag", plain, func(c *Config) flag.Value { return (*durationValue)(&c.CacheTTL) }},
	{"tombstone-ttl", "192h", "`duration` a deleted server's record outlives the delete (at least --stream-max-age: no older event can arrive after it)", plain, func(c *Config) flag.Value { return (*durationValue)(&c.TombstoneTTL) }},
	{"lock-ttl", "10s", "`duration` of a distributed lock before it expires (kept alive while held)", plain, func(c *Config) flag.Value { return (*durationValue)(&c.LockTTL) }},
	{"handler-timeout", "30s", "`duration` allowed for handling one event", plain, func(c *Config) flag.Value { return (*durationValue)(&c.HandlerTimeout) }},
	{"ack-wait", "30s", "`duration` JetStream waits for an ack before redelivering", plain, func(c *Config) flag.Value { return (*durationValue)(&c.AckWait) }},
	{"shutdown-timeout", "25s", "`duration` to finish in-flight events on SIGTERM before handing them back", plain, func(c *Config) flag.Value { return (*durationValue)(&c.ShutdownTimeout) }},
	{"retry-base-delay", "500ms", "first redelivery `delay` after a transient failure", plain, func(c *Config) flag.Value { return (*durationValue)(&c.RetryBaseDelay) }},
	{"retry-max-delay", "1m", "longest redelivery `delay`", plain, func(c *Config) flag.Value { return (*durationValue)(&c.RetryMaxDelay) }},
	{"stream-max-age", "168h", "`duration` the streams keep messages", plain, func(c *Config) flag.Value { return (*durationValue)(&c.StreamMaxAge) }},
	{"stream-replicas", "1", "`number` of copies (1 to 5) a JetStream cluster keeps of the event and dead-letter streams; 3 in production. An existing stream is scaled up to it, never down", plain, func(c *Config) flag.Value { return (*intValue)(&c.StreamReplicas) }},
	{"reconcile-every", "0s", "`duration` between reconcile passes of `worker run` over the loaded users (0: none)", plain, func(c *Config) flag.Value { return (*durationValue)(&c.ReconcileEvery) }},
	{"reconcile-rate", "50", "`number` of users a reconcile pass of `worker run` checks per second", plain, func(c *Config) flag.Value { return (*intValue)(&c.ReconcileRate) }},
	{"concurrency", "16", "`number` of events handled at once by this replica", plain, func(c *Config) flag.Value { return (*intValue)(&c.Concurrency) }},
	{"max-deliver", "10", "`number` of deliveries of a failing event before it is dead-lettered", plain, func(c *Config) flag.Value { return (*intValue)(&c.MaxDeliver) }},
	{"outage-errors", "5", "`number` of Redis or MongoDB connection errors in a row (no event finishing in between) that pause that dependency even while its probe answers (a failed probe pauses it at the first); at least 2", plain, func(c *Config) flag.Value { return (*intValue)(&c.OutageErrors) }},
	{"outage-probe-max", "10s", "longest `delay` between two probes of a dependency that is down; also the longest an event held for it waits", plain, func(c *Config) flag.Value { return (*durationValue)(&c.OutageProbeMax) }},
	{"max-ack-pending", "1000", "`number` of unacknowledged events across all replicas (>= replicas x 2 x concurrency)", plain, func(c *Config) flag.Value { return (*intValue)(&c.MaxAckPending) }},
	{"max-payload", "1048576", "largest event payload in `bytes`", plain, func(c *Config) flag.Value { return (*intValue)(&c.MaxPayload) }},
	{"max-allowed-users", "100000", "largest allowedUserIds list (server.access, server.unshared) in `users`; a longer one is dead-lettered", plain, func(c *Config) flag.Value { return (*intValue)(&c.MaxAllowedUsers) }},
	{"max-config-bytes", "65536", "largest server config in `bytes` (compacted JSON); a larger one is dead-lettered", plain, func(c *Config) flag.Value { return (*intValue)(&c.MaxConfigBytes) }},
	{"dlq-max-age", "336h", "`duration` the dead-letter stream keeps a dead letter", plain, func(c *Config) flag.Value { return (*durationValue)(&c.DLQMaxAge) }},
	{"dlq-max-bytes", "1073741824", "size of the dead-letter stream in `bytes`; the oldest dead letters go first", plain, func(c *Config) flag.Value { return (*intValue)(&c.DLQMaxBytes) }},
	{"audit-max-age", "2160h", "`duration` the audit stream keeps an audit record (2160h = 90 days)", plain, func(c *Config) flag.Value { return (*durationValue)(&c.AuditMaxAge) }},
	{"ops-addr", ":9090", "`address` of the /metrics, /healthz and /readyz listener; empty or off disables it", plain, func(c *Config) flag.Value { return (*stringValue)(&c.OpsAddr) }},
	{"metrics-poll-every", "15s", "`duration` between polls of JetStream (consumer pending, dead letters) and Redis (loaded users) for /metrics", plain, func(c *Config) flag.Value { return (*durationValue)(&c.MetricsPollEvery) }},
	{"otlp-endpoint", "", "OTLP/HTTP `URL` to export traces to (its /v1/traces); empty: no export", uri, func(c *Config) flag.Value { return (*stringValue)(&c.OTLPEndpoint) }},
	{"log-format", "json", "log `format`: json or console", plain, func(c *Config) flag.Value { return (*stringValue)(&c.LogFormat) }},
	{"log-level", "info", "log `level`: debug, info, warn or error", plain, func(c *Config) flag.Value { return (*stringValue)(&c.LogLevel) }},
	{"log-summary-every", "10s", "`duration` between the info lines counting handled events by kind and outcome (each event is logged at debug; errors and dead letters always)", plain, func(c *Config) flag.Value { return (*durationValue)(&c.LogSummaryEvery) }},
}

// envName is the environment variable of a flag: the standard names for the
// three URLs and the OTLP endpoint, MCP_WORKER_ plus the name in upper snake
// case for the rest.
func envName(flagName string) string {
	switch flagName {
	case "nats-url":
		return "NATS_URL"
	case "redis-url":
		return "REDIS_URL"
	case "mongodb-uri":
		return "MONGODB_URI"
	case "otlp-endpoint":
		return "OTEL_EXPORTER_OTLP_ENDPOINT"
	}
	return "MCP_WORKER_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// Flags sets c to the defaults and registers every option on fs.
func (c *Config) Flags(fs *flag.FlagSet) {
	for _, o := range options {
		v := o.bind(c)
		if err := v.Set(o.def); err != nil {
			panic(fmt.Sprintf("config: bad default %q for --%s: %v", o.def, o.name, err))
		}
		fs.Var(v, o.name, o.usage+" ["+envName(o.name)+"]")
	}
}

// Load registers the options on fs, parses args, fills every option not given
// on the command line from getenv (an empty variable counts as unset), and
// validates. Errors are one line and name the flag and the variable; -h
// returns flag.ErrHelp. Arguments after the flags stay in fs.Args().
func Load(fs *flag.FlagSet, args []string, getenv func(string) string) (Config, error) {
	var c Config
	c.Flags(fs)
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	given := make(map[string]bool)
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	for _, o := range options {
		if given[o.name] || getenv == nil {
			continue
		}
		env := envName(o.name)
		v := getenv(env)
		if v == "" {
			continue
		}
		if err := fs.Set(o.name, v); err != nil {
			return Config{}, fmt.Errorf("invalid value %q for %s (--%s): %w", show(o.mask, v), env, o.name, err)
		}
	}
	c.DLQStream = c.dlqStream() // resolved, so that the start-up line shows it
	c.AuditStream = c.auditStream()
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// Fields returns one zap field per option for the start-up log line, with
// URL userinfo, secret URL query values and the Redis password masked.
func (c Config) Fields() []zap.Field {
	fields := make([]zap.Field, 0, len(options))
	for _, o := range options {
		key := strings.ReplaceAll(o.name, "-", "_")
		fields = append(fields, zap.String(key, show(o.mask, o.bind(&c).String())))
	}
	return fields
}
