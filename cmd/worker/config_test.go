package main

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zapcore"
)

const secretWord = "hunter2"

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func load(t *testing.T, args []string, env map[string]string) (Config, error) {
	t.Helper()
	fs := flag.NewFlagSet("worker", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return Load(fs, args, envOf(env))
}

// tempFile creates an empty file and returns its path.
func tempFile(t *testing.T, name string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, nil, 0o600))
	return p
}

func TestLoadDefaults(t *testing.T) {
	t.Parallel()
	c, err := load(t, nil, nil)
	require.NoError(t, err)
	assert.Equal(t, Config{
		NATSURL:          "nats://127.0.0.1:4222",
		RedisURL:         "redis://127.0.0.1:6379",
		MongoURI:         "mongodb://127.0.0.1:27017",
		MongoDatabase:    "LibreChat",
		Stream:           "MCP_REGISTRY",
		DLQStream:        "MCP_REGISTRY_DLQ",
		AuditStream:      "MCP_REGISTRY_AUDIT",
		SubjectPrefix:    "mcp",
		Consumer:         "mcp-registry-worker",
		Provision:        true,
		KeyPrefix:        "mcp:",
		CacheTTL:         time.Hour,
		LockTTL:          10 * time.Second,
		HandlerTimeout:   30 * time.Second,
		AckWait:          30 * time.Second,
		ShutdownTimeout:  25 * time.Second,
		RetryBaseDelay:   500 * time.Millisecond,
		RetryMaxDelay:    time.Minute,
		StreamMaxAge:     168 * time.Hour,
		Concurrency:      16,
		MaxDeliver:       10,
		OutageErrors:     5,
		OutageProbeMax:   10 * time.Second,
		MaxAckPending:    1000,
		MaxPayload:       1 << 20,
		MaxAllowedUsers:  100000,
		MaxConfigBytes:   64 << 10,
		DLQMaxAge:        14 * 24 * time.Hour,
		AuditMaxAge:      90 * 24 * time.Hour,
		TombstoneTTL:     8 * 24 * time.Hour,
		ReconcileRate:    50,
		StreamReplicas:   1,
		MetricsPollEvery: 15 * time.Second,
		DLQMaxBytes:      1 << 30,
		OpsAddr:          ":9090",
		LogFormat:        "json",
		LogLevel:         "info",
		LogSummaryEvery:  10 * time.Second,
	}, c)
	_, cluster := c.RedisClusterAddrs()
	assert.False(t, cluster)
}

// nonDefault holds a valid value, different from the default, for every
// option, as it reads back from the flag.
func nonDefault(t *testing.T) map[string]string {
	t.Helper()
	return map[string]string{
		"nats-url":           "tls://a:4222,tls://b:4222",
		"nats-creds":         tempFile(t, "user.creds"),
		"nats-tls-ca":        tempFile(t, "nats-ca.pem"),
		"nats-tls-cert":      tempFile(t, "nats-cert.pem"),
		"nats-tls-key":       tempFile(t, "nats-key.pem"),
		"redis-url":          "rediss://redis.internal:6380/2",
		"redis-tls-ca":       tempFile(t, "redis-ca.pem"),
		"redis-tls-cert":     tempFile(t, "redis-cert.pem"),
		"redis-tls-key":      tempFile(t, "redis-key.pem"),
		"redis-username":     "worker",
		"redis-password":     secretWord,
		"mongodb-uri":        "mongodb://m1:27017,m2:27017/?replicaSet=rs0",
		"mongodb-database":   "chat",
		"stream":             "EVENTS",
		"dlq-stream":         "EVENTS_DLQ",
		"audit-stream":       "EVENTS_TRAIL",
		"subject-prefix":     "acme.mcp",
		"consumer":           "worker-2",
		"notify-prefix":      "replies",
		"provision":          "false",
		"key-prefix":         "acme:",
		"cache-ttl":          "2h0m0s",
		"lock-ttl":           "15s",
		"handler-timeout":    "1m0s",
		"ack-wait":           "45s",
		"shutdown-timeout":   "20s",
		"retry-base-delay":   "1s",
		"retry-max-delay":    "2m0s",
		"stream-max-age":     "24h0m0s",
		"concurrency":        "4",
		"max-deliver":        "5",
		"outage-errors":      "3",
		"outage-probe-max":   "1m0s",
		"max-ack-pending":    "64",
		"max-payload":        "65536",
		"max-allowed-users":  "5000",
		"max-config-bytes":   "4096",
		"dlq-max-age":        "48h0m0s",
		"audit-max-age":      "720h0m0s",
		"tombstone-ttl":      "240h0m0s",
		"reconcile-every":    "10m0s",
		"reconcile-rate":     "7",
		"stream-replicas":    "3",
		"dlq-max-bytes":      "10485760",
		"ops-addr":           "127.0.0.1:9191",
		"metrics-poll-every": "30s",
		"otlp-endpoint":      "http://collector:4318",
		"log-format":         "console",
		"log-level":          "debug",
		"log-summary-every":  "30s",
	}
}

// Every option is read from its environment variable.
func TestLoadEveryOptionFromEnv(t *testing.T) {
	t.Parallel()
	values := nonDefault(t)
	require.Len(t, values, len(options), "nonDefault must cover every option")
	for _, o := range options {
		t.Run(o.name, func(t *testing.T) {
			t.Parallel()
			v, ok := values[o.name]
			require.True(t, ok)
			require.NotEqual(t, o.def, v)
			env := map[string]string{envName(o.name): v}
			// TLS files come in pairs.
			for _, pair := range [][2]string{{"nats-tls-cert", "nats-tls-key"}, {"redis-tls-cert", "redis-tls-key"}} {
				if o.name == pair[0] || o.name == pair[1] {
					env[envName(pair[0])], env[envName(pair[1])] = values[pair[0]], values[pair[1]]
				}
			}
			if strings.HasPrefix(o.name, "redis-tls-") {
				env["REDIS_URL"] = "rediss://127.0.0.1:6379"
			}
			fs := flag.NewFlagSet("worker", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			_, err := Load(fs, nil, envOf(env))
			require.NoError(t, err)
			assert.Equal(t, v, fs.Lookup(o.name).Value.String())
		})
	}
}

// The dead-letter stream is named after --stream unless --dlq-stream is
// given, so that two deployments with different streams never share one.
func TestLoadDLQStreamFollowsStream(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"default", nil, nil, "MCP_REGISTRY_DLQ"},
		{"stream flag", []string{"--stream=EVENTS"}, nil, "EVENTS_DLQ"},
		{"stream env", nil, map[string]string{"MCP_WORKER_STREAM": "B"}, "B_DLQ"},
		{"explicit flag", []string{"--stream=EVENTS", "--dlq-stream=DEAD"}, nil, "DEAD"},
		{"explicit env", []string{"--stream=EVENTS"}, map[string]string{"MCP_WORKER_DLQ_STREAM": "DEAD"}, "DEAD"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := load(t, tt.args, tt.env)
			require.NoError(t, err)
			assert.Equal(t, tt.want, c.DLQStream)
			assert.Equal(t, tt.want, c.eventsConfig().DLQStream)
		})
	}
}

// The audit stream follows --stream the same way (MCP_REGISTRY_AUDIT by default).
func TestLoadAuditStreamFollowsStream(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		args []string
		want string
	}{
		{nil, "MCP_REGISTRY_AUDIT"},
		{[]string{"--stream=EVENTS"}, "EVENTS_AUDIT"},
		{[]string{"--stream=EVENTS", "--audit-stream=TRAIL"}, "TRAIL"},
	} {
		c, err := load(t, tt.args, nil)
		require.NoError(t, err)
		assert.Equal(t, tt.want, c.AuditStream, "%v", tt.args)
		assert.Equal(t, tt.want, c.eventsConfig().AuditStream, "%v", tt.args)
	}
}

func TestLoadEnvAndFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		args  []string
		env   map[string]string
		check func(t *testing.T, c Config)
	}{
		{
			name: "standard URL variables",
			env: map[string]string{
				"NATS_URL":    "nats://n1:4222,nats://n2:4222",
				"REDIS_URL":   "redis://r:6379/1",
				"MONGODB_URI": "mongodb+srv://cluster0.example.test/?retryWrites=true",
			},
			check: func(t *testing.T, c Config) {
				assert.Equal(t, "nats://n1:4222,nats://n2:4222", c.NATSURL)
				assert.Equal(t, "redis://r:6379/1", c.RedisURL)
				assert.Equal(t, "mongodb+srv://cluster0.example.test/?retryWrites=true", c.MongoURI)
			},
		},
		{
			name: "flag beats env",
			args: []string{"--cache-ttl=5m", "-concurrency", "2", "--provision=false"},
			env:  map[string]string{"MCP_WORKER_CACHE_TTL": "2h", "MCP_WORKER_CONCURRENCY": "8", "MCP_WORKER_PROVISION": "true"},
			check: func(t *testing.T, c Config) {
				assert.Equal(t, 5*time.Minute, c.CacheTTL)
				assert.Equal(t, 2, c.Concurrency)
				assert.False(t, c.Provision)
			},
		},
		{
			name:  "empty flag beats env",
			args:  []string{"--ops-addr=", "--key-prefix="},
			env:   map[string]string{"MCP_WORKER_OPS_ADDR": ":8080", "MCP_WORKER_KEY_PREFIX": "x:"},
			check: func(t *testing.T, c Config) { assert.Empty(t, c.OpsAddr); assert.Empty(t, c.KeyPrefix) },
		},
		{
			name: "empty env is unset",
			env:  map[string]string{"MCP_WORKER_OPS_ADDR": "", "NATS_URL": ""},
			check: func(t *testing.T, c Config) {
				assert.Equal(t, ":9090", c.OpsAddr)
				assert.Equal(t, "nats://127.0.0.1:4222", c.NATSURL)
			},
		},
		{
			name:  "bool env 0",
			env:   map[string]string{"MCP_WORKER_PROVISION": "0"},
			check: func(t *testing.T, c Config) { assert.False(t, c.Provision) },
		},
		{
			name:  "bool env 1",
			args:  []string{"--provision=false"},
			env:   map[string]string{"MCP_WORKER_PROVISION": "1"},
			check: func(t *testing.T, c Config) { assert.False(t, c.Provision, "the flag still wins") },
		},
		{
			name:  "bool env FALSE",
			env:   map[string]string{"MCP_WORKER_PROVISION": "FALSE"},
			check: func(t *testing.T, c Config) { assert.False(t, c.Provision) },
		},
		{
			name: "redis cluster of addresses",
			env:  map[string]string{"REDIS_URL": "r1:7000, r2:7001 ,[::1]:7002"},
			check: func(t *testing.T, c Config) {
				addrs, ok := c.RedisClusterAddrs()
				assert.True(t, ok)
				assert.Equal(t, []string{"r1:7000", "r2:7001", "[::1]:7002"}, addrs)
			},
		},
		{
			name: "redis cluster of URLs with TLS",
			env: map[string]string{
				"REDIS_URL":               "rediss://u:" + secretWord + "@r1:7000,rediss://r2",
				"MCP_WORKER_REDIS_TLS_CA": "", // unset
			},
			check: func(t *testing.T, c Config) {
				addrs, ok := c.RedisClusterAddrs()
				assert.True(t, ok)
				assert.Equal(t, []string{"r1:7000", "r2:6379"}, addrs)
				assert.True(t, c.RedisTLS())
				user, pass := c.RedisAuth()
				assert.Equal(t, "u", user)
				assert.Equal(t, secretWord, pass)
			},
		},
		{
			name: "one redis address is a cluster seed",
			args: []string{"--redis-url", "config.cache.internal:6379"},
			check: func(t *testing.T, c Config) {
				addrs, ok := c.RedisClusterAddrs()
				assert.True(t, ok)
				assert.Equal(t, []string{"config.cache.internal:6379"}, addrs)
				assert.False(t, c.RedisTLS())
			},
		},
		{
			name: "redis ACL flags override the URL",
			args: []string{"--redis-url", "redis://old:pw@r:6379"},
			env:  map[string]string{"MCP_WORKER_REDIS_USERNAME": "acl", "MCP_WORKER_REDIS_PASSWORD": secretWord},
			check: func(t *testing.T, c Config) {
				user, pass := c.RedisAuth()
				assert.Equal(t, "acl", user)
				assert.Equal(t, secretWord, pass)
				_, ok := c.RedisClusterAddrs()
				assert.False(t, ok)
				assert.False(t, c.RedisTLS())
			},
		},
		{
			name:  "max-ack-pending equal to concurrency",
			args:  []string{"--concurrency=32", "--max-ack-pending=32"},
			check: func(t *testing.T, c Config) { assert.Equal(t, 32, c.MaxAckPending) },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := load(t, tt.args, tt.env)
			require.NoError(t, err)
			tt.check(t, c)
		})
	}
}

func TestLoadInvalid(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.pem")
	file := tempFile(t, "cert.pem")
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string // the whole line, or a part after the names
	}{
		{
			name: "bad duration env", env: map[string]string{"MCP_WORKER_CACHE_TTL": "abc"},
			want: `invalid value "abc" for MCP_WORKER_CACHE_TTL (--cache-ttl): time: invalid duration "abc"`,
		},
		{
			name: "bad int env", env: map[string]string{"MCP_WORKER_CONCURRENCY": "many"},
			want: `invalid value "many" for MCP_WORKER_CONCURRENCY (--concurrency): strconv.Atoi: parsing "many": invalid syntax`,
		},
		{
			name: "bad bool env", env: map[string]string{"MCP_WORKER_PROVISION": "yes"},
			want: `invalid value "yes" for MCP_WORKER_PROVISION (--provision): strconv.ParseBool: parsing "yes": invalid syntax`,
		},
		{
			name: "bad duration flag", args: []string{"--lock-ttl=soon"},
			want: `invalid value "soon" for flag -lock-ttl: time: invalid duration "soon"`,
		},
		{name: "unknown flag", args: []string{"--cache-tll=1h"}, want: "flag provided but not defined: -cache-tll"},

		{
			name: "nats scheme", env: map[string]string{"NATS_URL": "http://u:" + secretWord + "@n:4222"},
			want: `invalid value "http://u:xxxxx@n:4222" for --nats-url (NATS_URL): scheme must be nats, tls, ws, wss`,
		},
		{name: "nats empty", args: []string{"--nats-url="}, want: "--nats-url (NATS_URL): must not be empty"},
		{name: "nats no host", env: map[string]string{"NATS_URL": "nats://a:4222,nats://"}, want: "--nats-url (NATS_URL): missing host"},
		{name: "nats bad url", env: map[string]string{"NATS_URL": "nats://a:port"}, want: `--nats-url (NATS_URL): not a URL: invalid port ":port" after host`},
		{name: "nats bad url with password", env: map[string]string{"NATS_URL": "nats://" + secretWord + "@a:port"}, want: "--nats-url (NATS_URL): not a URL"},
		{
			name: "nats comma in password", env: map[string]string{"NATS_URL": "nats://u:" + secretWord + "," + secretWord + "@a:4222"},
			want: `invalid value "nats://xxxxx,xxxxx@a:4222" for --nats-url (NATS_URL): not a URL`,
		},
		{
			name: "redis comma in password", env: map[string]string{"REDIS_URL": "redis://u:" + secretWord + "," + secretWord + "@a:6379"},
			want: `invalid value "redis://xxxxx,xxxxx@a:6379" for --redis-url (REDIS_URL): not a URL`,
		},
		{
			name: "nats creds missing", env: map[string]string{"MCP_WORKER_NATS_CREDS": missing},
			want: "--nats-creds (MCP_WORKER_NATS_CREDS): file does not exist",
		},
		{name: "nats creds directory", args: []string{"--nats-creds", dir}, want: "--nats-creds (MCP_WORKER_NATS_CREDS): is a directory"},
		{name: "nats ca missing", args: []string{"--nats-tls-ca", missing}, want: "--nats-tls-ca (MCP_WORKER_NATS_TLS_CA): file does not exist"},
		{
			name: "nats cert without key", args: []string{"--nats-tls-cert", file},
			want: "--nats-tls-cert (MCP_WORKER_NATS_TLS_CERT): needs --nats-tls-key (MCP_WORKER_NATS_TLS_KEY) too",
		},
		{
			name: "nats key without cert", args: []string{"--nats-tls-key", file},
			want: "--nats-tls-key (MCP_WORKER_NATS_TLS_KEY): needs --nats-tls-cert (MCP_WORKER_NATS_TLS_CERT) too",
		},

		{
			name: "redis scheme", env: map[string]string{"REDIS_URL": "http://:" + secretWord + "@r:6379"},
			want: `invalid value "http://xxxxx@r:6379" for --redis-url (REDIS_URL): scheme must be redis, rediss`,
		},
		{name: "redis empty", args: []string{"--redis-url="}, want: "--redis-url (REDIS_URL): must not be empty"},
		{
			name: "redis address without port", env: map[string]string{"REDIS_URL": "r1:7000,r2"},
			want: `--redis-url (REDIS_URL): "r2" is not a host:port address`,
		},
		{
			name: "redis address with password", env: map[string]string{"REDIS_URL": "r1:7000,:" + secretWord + "@r2"},
			want: "--redis-url (REDIS_URL): \"xxxxx@r2\" is not a host:port address",
		},
		{
			name: "redis empty list element", env: map[string]string{"REDIS_URL": "r1:7000,,r2:7000"},
			want: `--redis-url (REDIS_URL): "" is not a host:port address`,
		},
		{
			name: "redis mixed TLS", env: map[string]string{"REDIS_URL": "redis://r1:7000,rediss://r2:7000"},
			want: "--redis-url (REDIS_URL): mixes redis:// and rediss://",
		},
		{
			name: "redis cluster database", env: map[string]string{"REDIS_URL": "redis://r1:7000/3,r2:7000"},
			want: "--redis-url (REDIS_URL): Redis Cluster has only database 0",
		},
		{
			name: "redis TLS file with redis://", args: []string{"--redis-tls-ca", file},
			want: "--redis-tls-ca (MCP_WORKER_REDIS_TLS_CA): needs a rediss:// --redis-url (REDIS_URL)",
		},
		{
			name: "redis cert without key", args: []string{"--redis-url=rediss://r:6379", "--redis-tls-cert", file},
			want: "--redis-tls-cert (MCP_WORKER_REDIS_TLS_CERT): needs --redis-tls-key (MCP_WORKER_REDIS_TLS_KEY) too",
		},
		{
			name: "redis key missing", args: []string{"--redis-url=rediss://r:6379", "--redis-tls-key", missing},
			want: "--redis-tls-key (MCP_WORKER_REDIS_TLS_KEY): file does not exist",
		},

		{
			name: "mongo scheme", env: map[string]string{"MONGODB_URI": "postgres://u:" + secretWord + "@db/x"},
			want: `invalid value "postgres://u:xxxxx@db/x" for --mongodb-uri (MONGODB_URI): scheme must be mongodb or mongodb+srv`,
		},
		{
			name: "mongo no host", env: map[string]string{"MONGODB_URI": "mongodb://u:" + secretWord + "@/db"},
			want: "--mongodb-uri (MONGODB_URI): missing host",
		},
		{
			name: "mongo empty host in list", env: map[string]string{"MONGODB_URI": "mongodb://a,,b/db"},
			want: "--mongodb-uri (MONGODB_URI): missing host",
		},
		{
			name: "mongo srv with port", env: map[string]string{"MONGODB_URI": "mongodb+srv://a:27017/db"},
			want: "--mongodb-uri (MONGODB_URI): mongodb+srv takes one host name without a port",
		},
		{name: "mongo database dot", args: []string{"--mongodb-database=a.b"}, want: "--mongodb-database (MCP_WORKER_MONGODB_DATABASE): must not contain"},
		{name: "mongo database empty", args: []string{"--mongodb-database="}, want: "--mongodb-database (MCP_WORKER_MONGODB_DATABASE): must not be empty"},

		{name: "stream space", args: []string{"--stream=MCP REGISTRY"}, want: "--stream (MCP_WORKER_STREAM): must not contain spaces"},
		{name: "stream dot", env: map[string]string{"MCP_WORKER_STREAM": "MCP.REGISTRY"}, want: "--stream (MCP_WORKER_STREAM): must not contain ."},
		{name: "stream empty", args: []string{"--stream="}, want: "--stream (MCP_WORKER_STREAM): must not be empty"},
		{name: "dlq wildcard", args: []string{"--dlq-stream=DLQ*"}, want: "--dlq-stream (MCP_WORKER_DLQ_STREAM): must not contain ."},
		{name: "dlq same as stream", args: []string{"--dlq-stream=MCP_REGISTRY"}, want: "--dlq-stream (MCP_WORKER_DLQ_STREAM): must differ from --stream"},
		{name: "consumer wildcard", args: []string{"--consumer=c>"}, want: "--consumer (MCP_WORKER_CONSUMER): must not contain ."},

		{name: "prefix leading dot", args: []string{"--subject-prefix=.mcp"}, want: "--subject-prefix (MCP_WORKER_SUBJECT_PREFIX): must not start or end with a dot"},
		{name: "prefix trailing dot", args: []string{"--subject-prefix=mcp."}, want: "--subject-prefix (MCP_WORKER_SUBJECT_PREFIX): must not start or end with a dot"},
		{name: "prefix empty token", args: []string{"--subject-prefix=a..b"}, want: "--subject-prefix (MCP_WORKER_SUBJECT_PREFIX): must not start or end with a dot"},
		{name: "prefix wildcard", args: []string{"--subject-prefix=mcp.*"}, want: "--subject-prefix (MCP_WORKER_SUBJECT_PREFIX): must not contain the wildcards"},
		{name: "prefix full wildcard", args: []string{"--subject-prefix=>"}, want: "--subject-prefix (MCP_WORKER_SUBJECT_PREFIX): must not contain the wildcards"},
		{name: "prefix space", args: []string{"--subject-prefix=m cp"}, want: "--subject-prefix (MCP_WORKER_SUBJECT_PREFIX): must not contain spaces"},
		{name: "max allowed users zero", args: []string{"--max-allowed-users=0"}, want: `invalid value "0" for --max-allowed-users (MCP_WORKER_MAX_ALLOWED_USERS): must be greater than 0`},
		{name: "max config bytes one", env: map[string]string{"MCP_WORKER_MAX_CONFIG_BYTES": "1"}, want: "--max-config-bytes (MCP_WORKER_MAX_CONFIG_BYTES): must be at least 2"},
		{name: "dlq max age tiny", args: []string{"--dlq-max-age=1m"}, want: "--dlq-max-age (MCP_WORKER_DLQ_MAX_AGE): must be at least 2m0s"},
		{name: "audit max age tiny", args: []string{"--audit-max-age=1m"}, want: "--audit-max-age (MCP_WORKER_AUDIT_MAX_AGE): must be at least 15m0s"},
		{name: "audit same as stream", args: []string{"--audit-stream=MCP_REGISTRY"}, want: "--audit-stream (MCP_WORKER_AUDIT_STREAM): must differ from --stream and --dlq-stream"},
		{name: "audit same as dlq", args: []string{"--audit-stream=MCP_REGISTRY_DLQ"}, want: "--audit-stream (MCP_WORKER_AUDIT_STREAM): must differ from --stream and --dlq-stream"},
		{name: "dlq max bytes below payload", args: []string{"--dlq-max-bytes=1000"}, want: "--dlq-max-bytes (MCP_WORKER_DLQ_MAX_BYTES): must be at least --max-payload (1048576)"},
		{name: "dlq max bytes not a number", env: map[string]string{"MCP_WORKER_DLQ_MAX_BYTES": "1GiB"}, want: `invalid value "1GiB" for MCP_WORKER_DLQ_MAX_BYTES (--dlq-max-bytes)`},
		{name: "notify prefix dollar", args: []string{"--notify-prefix=$JS.API"}, want: `invalid value "$JS.API" for --notify-prefix (MCP_WORKER_NOTIFY_PREFIX): must not be a $ subject`},
		{name: "notify prefix own", env: map[string]string{"MCP_WORKER_NOTIFY_PREFIX": "mcp.dlq"}, want: `--notify-prefix (MCP_WORKER_NOTIFY_PREFIX): overlaps the subject prefix "mcp"`},
		{name: "notify prefix wildcard", args: []string{"--notify-prefix=r.>"}, want: "--notify-prefix (MCP_WORKER_NOTIFY_PREFIX): must be dot-separated tokens"},
		{name: "prefix empty", args: []string{"--subject-prefix="}, want: "--subject-prefix (MCP_WORKER_SUBJECT_PREFIX): must not be empty"},
		{name: "key prefix brace", args: []string{"--key-prefix={x}:"}, want: "--key-prefix (MCP_WORKER_KEY_PREFIX): must not contain { or }"},

		{
			name: "cache ttl short", env: map[string]string{"MCP_WORKER_CACHE_TTL": "500ms"},
			want: `invalid value "500ms" for --cache-ttl (MCP_WORKER_CACHE_TTL): must be at least 1s`,
		},
		{name: "lock ttl zero", args: []string{"--lock-ttl=0s"}, want: "--lock-ttl (MCP_WORKER_LOCK_TTL): must be at least 1s"},
		{name: "ack wait short", args: []string{"--ack-wait=100ms"}, want: "--ack-wait (MCP_WORKER_ACK_WAIT): must be at least 1s"},
		{name: "handler timeout zero", args: []string{"--handler-timeout=0s"}, want: "--handler-timeout (MCP_WORKER_HANDLER_TIMEOUT): must be at least 1ms"},
		{name: "shutdown timeout negative", args: []string{"--shutdown-timeout=-1s"}, want: "--shutdown-timeout (MCP_WORKER_SHUTDOWN_TIMEOUT): must be at least 1ms"},
		{name: "retry base zero", args: []string{"--retry-base-delay=0s"}, want: "--retry-base-delay (MCP_WORKER_RETRY_BASE_DELAY): must be at least 1ms"},
		{
			name: "retry max below base", args: []string{"--retry-base-delay=2s", "--retry-max-delay=1s"},
			want: `invalid value "1s" for --retry-max-delay (MCP_WORKER_RETRY_MAX_DELAY): must be at least 2s`,
		},
		{name: "stream max age zero", args: []string{"--stream-max-age=0s"}, want: "--stream-max-age (MCP_WORKER_STREAM_MAX_AGE): must be at least 1s"},
		{
			name: "outage errors one", args: []string{"--outage-errors=1"},
			want: `invalid value "1" for --outage-errors (MCP_WORKER_OUTAGE_ERRORS): must be at least 2 (at 1 every dependency error pauses, so an event that always fails that way would be held forever instead of dead-lettered)`,
		},
		{name: "stream replicas zero", args: []string{"--stream-replicas=0"}, want: `invalid value "0" for --stream-replicas (MCP_WORKER_STREAM_REPLICAS): must be 1 to 5`},
		{name: "stream replicas six", env: map[string]string{"MCP_WORKER_STREAM_REPLICAS": "6"}, want: `invalid value "6" for --stream-replicas (MCP_WORKER_STREAM_REPLICAS): must be 1 to 5`},

		{name: "concurrency zero", env: map[string]string{"MCP_WORKER_CONCURRENCY": "0"}, want: "--concurrency (MCP_WORKER_CONCURRENCY): must be greater than 0"},
		{name: "max deliver negative", args: []string{"--max-deliver=-1"}, want: "--max-deliver (MCP_WORKER_MAX_DELIVER): must be greater than 0"},
		{name: "max ack pending zero", args: []string{"--max-ack-pending=0"}, want: "--max-ack-pending (MCP_WORKER_MAX_ACK_PENDING): must be greater than 0"},
		{
			name: "max ack pending below concurrency", args: []string{"--max-ack-pending=8"},
			want: `invalid value "8" for --max-ack-pending (MCP_WORKER_MAX_ACK_PENDING): must be at least --concurrency (16)`,
		},
		{name: "max payload zero", args: []string{"--max-payload=0"}, want: "--max-payload (MCP_WORKER_MAX_PAYLOAD): must be greater than 0"},
		{name: "max payload huge", args: []string{"--max-payload=134217728"}, want: "--max-payload (MCP_WORKER_MAX_PAYLOAD): must be at most 64 MiB"},

		{name: "ops addr no colon", args: []string{"--ops-addr=9090"}, want: "--ops-addr (MCP_WORKER_OPS_ADDR): must be host:port"},
		{name: "ops addr named port", env: map[string]string{"MCP_WORKER_OPS_ADDR": ":http"}, want: "--ops-addr (MCP_WORKER_OPS_ADDR): must be host:port"},
		{name: "ops addr port range", args: []string{"--ops-addr=:70000"}, want: "--ops-addr (MCP_WORKER_OPS_ADDR): must be host:port"},
		{name: "log format", args: []string{"--log-format=text"}, want: `invalid value "text" for --log-format (MCP_WORKER_LOG_FORMAT): must be one of json, console`},
		{name: "log level", env: map[string]string{"MCP_WORKER_LOG_LEVEL": "trace"}, want: "--log-level (MCP_WORKER_LOG_LEVEL): must be one of debug, info, warn, error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := load(t, tt.args, tt.env)
			require.Error(t, err)
			msg := err.Error()
			assert.Contains(t, msg, tt.want)
			assert.NotContains(t, msg, "\n", "one line")
			assert.NotContains(t, msg, secretWord)
		})
	}
}

func TestLoadHelp(t *testing.T) {
	t.Parallel()
	for _, arg := range []string{"-h", "--help"} {
		t.Run(arg, func(t *testing.T) {
			t.Parallel()
			var out bytes.Buffer
			fs := flag.NewFlagSet("worker", flag.ContinueOnError)
			fs.SetOutput(&out)
			_, err := Load(fs, []string{arg}, envOf(nil))
			require.ErrorIs(t, err, flag.ErrHelp)
			help := out.String()
			for _, o := range options {
				assert.Regexp(t, `\n  -`+o.name+`[ \n]`, help)
				assert.Contains(t, help, "["+envName(o.name)+"]")
			}
			assert.Contains(t, help, "(default 1h0m0s)")
			assert.Contains(t, help, "-nats-url URLs")
			assert.Contains(t, help, "-cache-ttl duration")
			assert.NotContains(t, help, " value\n", "every argument is named")
		})
	}
}

// Load leaves positional arguments to the caller and applies the environment
// only to its own flags.
func TestLoadLeavesCallerFlagsAndArgs(t *testing.T) {
	t.Parallel()
	fs := flag.NewFlagSet("publish", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	payload := fs.String("json", "", "payload")
	c, err := Load(fs, []string{"--json", `{"userId":"u1"}`, "--concurrency=2", "user.login"},
		envOf(map[string]string{"MCP_WORKER_JSON": "from env", "MCP_WORKER_LOG_LEVEL": "warn"}))
	require.NoError(t, err)
	assert.Equal(t, []string{"user.login"}, fs.Args())
	assert.JSONEq(t, `{"userId":"u1"}`, *payload)
	assert.Equal(t, 2, c.Concurrency)
	assert.Equal(t, "warn", c.LogLevel)
}

func TestLoadNilGetenv(t *testing.T) {
	t.Parallel()
	fs := flag.NewFlagSet("worker", flag.ContinueOnError)
	c, err := Load(fs, []string{"--log-level=error"}, nil)
	require.NoError(t, err)
	assert.Equal(t, "error", c.LogLevel)
}

func TestFieldsMaskSecrets(t *testing.T) {
	t.Parallel()
	creds := tempFile(t, "worker.creds")
	c, err := load(t, []string{"--nats-creds", creds}, map[string]string{
		"NATS_URL":                  "nats://alice:" + secretWord + "@n1:4222,nats://" + secretWord + "@n2:4222",
		"REDIS_URL":                 "redis://bob:" + secretWord + "@r:6379/0",
		"MONGODB_URI":               "mongodb://carol:" + secretWord + "@m1,m2/?tls=true&tlsCertificateKeyFilePassword=" + secretWord + "&appName=w",
		"MCP_WORKER_REDIS_PASSWORD": secretWord,
	})
	require.NoError(t, err)

	fields := c.Fields()
	require.Len(t, fields, len(options))
	enc := zapcore.NewJSONEncoder(zapcore.EncoderConfig{MessageKey: "msg"})
	buf, err := enc.EncodeEntry(zapcore.Entry{Message: "Starting worker"}, fields)
	require.NoError(t, err)
	line := buf.String()

	assert.NotContains(t, line, secretWord)
	for _, want := range []string{
		`"nats_url":"nats://alice:xxxxx@n1:4222,nats://xxxxx@n2:4222"`,
		`"redis_url":"redis://bob:xxxxx@r:6379/0"`,
		`"mongodb_uri":"mongodb://carol:xxxxx@m1,m2/?tls=true&tlsCertificateKeyFilePassword=xxxxx&appName=w"`,
		`"redis_password":"xxxxx"`,
		`"nats_creds":"` + creds + `"`,
		`"cache_ttl":"1h0m0s"`,
		`"provision":"true"`,
		`"max_ack_pending":"1000"`,
	} {
		assert.Contains(t, line, want)
	}
}

func TestMaskURL(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"redis://127.0.0.1:6379", "redis://127.0.0.1:6379"},
		{"redis://:pw@r:6379", "redis://xxxxx@r:6379"},
		{"redis://u:pw@r:6379/1", "redis://u:xxxxx@r:6379/1"},
		{"nats://token@n:4222", "nats://xxxxx@n:4222"},
		{"redis://u:p/w@d@r:6379", "redis://u:xxxxx@r:6379"},
		{"mongodb://m/?authMechanismProperties=AWS_SESSION_TOKEN:t", "mongodb://m/?authMechanismProperties=xxxxx"},
		{"mongodb://m/?password=p&ssl=true", "mongodb://m/?password=xxxxx&ssl=true"},
		// The driver also splits options on ';'.
		{"mongodb://m/?authSource=admin;authMechanismProperties=AWS_SESSION_TOKEN:t", "mongodb://m/?authSource=admin;authMechanismProperties=xxxxx"},
		{"mongodb://m/?w=1;tlsCertificateKeyFilePassword=p&appName=x", "mongodb://m/?w=1;tlsCertificateKeyFilePassword=xxxxx&appName=x"},
		{"u:pw@r:6379", "u:xxxxx@r:6379"},
		{"r:6379", "r:6379"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, maskURL(tt.in))
		})
	}
}

func TestShowMasksLists(t *testing.T) {
	t.Parallel()
	tests := []struct {
		m        masking
		in, want string
	}{
		{urls, "nats://a:4222,nats://u:pw@b:4222", "nats://a:4222,nats://u:xxxxx@b:4222"},
		{urls, "nats://u:p,a,s,s@b:4222,nats://c:4222", "nats://xxxxx,xxxxx,xxxxx,xxxxx@b:4222,nats://c:4222"},
		{urls, "r1:7000,r2:7000", "r1:7000,r2:7000"},
		{uri, "mongodb://u:p,w@m1,m2/db", "mongodb://u:xxxxx@m1,m2/db"},
		{secret, "pw", "xxxxx"},
		{secret, "", ""},
		{plain, "pw", "pw"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, show(tt.m, tt.in))
		})
	}
}

func TestValidateAcceptsDefaults(t *testing.T) {
	t.Parallel()
	var c Config
	c.Flags(flag.NewFlagSet("worker", flag.ContinueOnError))
	require.NoError(t, c.Validate())
	c.Concurrency = 0
	err := c.Validate()
	require.Error(t, err)
	assert.False(t, errors.Is(err, flag.ErrHelp))
}

func TestOpsAddrOffThroughEnvironment(t *testing.T) {
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	c, err := Load(fs, nil, func(k string) string {
		if k == "MCP_WORKER_OPS_ADDR" {
			return "off"
		}
		return ""
	})
	require.NoError(t, err)
	assert.Equal(t, "", c.opsAddr(), "off disables the listener")
	assert.Equal(t, ":9090", loadTestConfig(t).opsAddr())
}
