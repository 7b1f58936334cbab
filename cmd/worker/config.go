package main

import (
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

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
	Stream, DLQStream, SubjectPrefix, Consumer                                    string
	Provision                                                                     bool
	KeyPrefix                                                                     string
	CacheTTL, LockTTL, HandlerTimeout, AckWait, ShutdownTimeout                   time.Duration
	RetryBaseDelay, RetryMaxDelay, StreamMaxAge                                   time.Duration
	Concurrency, MaxDeliver, MaxAckPending, MaxPayload                            int
	OpsAddr, LogFormat, LogLevel                                                  string
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
	{"dlq-stream", events.DefaultDLQStream, "JetStream `stream` of the dead letters", plain, func(c *Config) flag.Value { return (*stringValue)(&c.DLQStream) }},
	{"subject-prefix", events.DefaultPrefix, "`prefix` of every event subject", plain, func(c *Config) flag.Value { return (*stringValue)(&c.SubjectPrefix) }},
	{"consumer", events.DefaultConsumer, "durable `consumer` shared by all replicas", plain, func(c *Config) flag.Value { return (*stringValue)(&c.Consumer) }},
	{"provision", "true", "create or update the streams and the consumer at start", plain, func(c *Config) flag.Value { return (*boolValue)(&c.Provision) }},
	{"key-prefix", "mcp:", "`prefix` of every Redis key (may be empty)", plain, func(c *Config) flag.Value { return (*stringValue)(&c.KeyPrefix) }},
	{"cache-ttl", "1h", "`duration` of a user's cached registry and loaded flag", plain, func(c *Config) flag.Value { return (*durationValue)(&c.CacheTTL) }},
	{"lock-ttl", "10s", "`duration` of a distributed lock before it expires (kept alive while held)", plain, func(c *Config) flag.Value { return (*durationValue)(&c.LockTTL) }},
	{"handler-timeout", "30s", "`duration` allowed for handling one event", plain, func(c *Config) flag.Value { return (*durationValue)(&c.HandlerTimeout) }},
	{"ack-wait", "30s", "`duration` JetStream waits for an ack before redelivering", plain, func(c *Config) flag.Value { return (*durationValue)(&c.AckWait) }},
	{"shutdown-timeout", "25s", "`duration` to finish in-flight events on SIGTERM before handing them back", plain, func(c *Config) flag.Value { return (*durationValue)(&c.ShutdownTimeout) }},
	{"retry-base-delay", "500ms", "first redelivery `delay` after a transient failure", plain, func(c *Config) flag.Value { return (*durationValue)(&c.RetryBaseDelay) }},
	{"retry-max-delay", "1m", "longest redelivery `delay`", plain, func(c *Config) flag.Value { return (*durationValue)(&c.RetryMaxDelay) }},
	{"stream-max-age", "168h", "`duration` the streams keep messages", plain, func(c *Config) flag.Value { return (*durationValue)(&c.StreamMaxAge) }},
	{"concurrency", "16", "`number` of events handled at once by this replica", plain, func(c *Config) flag.Value { return (*intValue)(&c.Concurrency) }},
	{"max-deliver", "10", "`number` of deliveries of a failing event before it is dead-lettered", plain, func(c *Config) flag.Value { return (*intValue)(&c.MaxDeliver) }},
	{"max-ack-pending", "1000", "`number` of unacknowledged events across all replicas (>= replicas x concurrency)", plain, func(c *Config) flag.Value { return (*intValue)(&c.MaxAckPending) }},
	{"max-payload", "1048576", "largest event payload in `bytes`", plain, func(c *Config) flag.Value { return (*intValue)(&c.MaxPayload) }},
	{"ops-addr", ":9090", "`address` of the /metrics, /healthz and /readyz listener; empty or off disables it", plain, func(c *Config) flag.Value { return (*stringValue)(&c.OpsAddr) }},
	{"log-format", "json", "log `format`: json or console", plain, func(c *Config) flag.Value { return (*stringValue)(&c.LogFormat) }},
	{"log-level", "info", "log `level`: debug, info, warn or error", plain, func(c *Config) flag.Value { return (*stringValue)(&c.LogLevel) }},
}

// envName is the environment variable of a flag: the standard names for the
// three URLs, MCP_WORKER_ plus the name in upper snake case for the rest.
func envName(flagName string) string {
	switch flagName {
	case "nats-url":
		return "NATS_URL"
	case "redis-url":
		return "REDIS_URL"
	case "mongodb-uri":
		return "MONGODB_URI"
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

// RedisClusterAddrs returns the seed addresses (host:port) and true when
// REDIS_URL means Redis Cluster: a comma-separated list, or an address
// without a scheme.
func (c Config) RedisClusterAddrs() ([]string, bool) {
	parts, cluster := redisParts(c.RedisURL)
	if !cluster {
		return nil, false
	}
	addrs := make([]string, 0, len(parts))
	for _, p := range parts {
		if u, err := url.Parse(p); err == nil && strings.Contains(p, "://") {
			p = u.Host
			if u.Port() == "" {
				p = net.JoinHostPort(u.Hostname(), "6379")
			}
		}
		addrs = append(addrs, p)
	}
	return addrs, true
}

// RedisTLS reports whether Redis is reached over TLS: a rediss:// URL or any
// --redis-tls-* file.
func (c Config) RedisTLS() bool {
	parts, _ := redisParts(c.RedisURL)
	return slices.ContainsFunc(parts, func(p string) bool { return strings.HasPrefix(p, "rediss://") }) ||
		c.RedisTLSCA != "" || c.RedisTLSCert != "" || c.RedisTLSKey != ""
}

// RedisAuth returns the Redis ACL user and password: the first URL's userinfo,
// each part overridden by --redis-username and --redis-password when set.
func (c Config) RedisAuth() (username, password string) {
	parts, _ := redisParts(c.RedisURL)
	for _, p := range parts {
		if u, err := url.Parse(p); err == nil && u.User != nil {
			username = u.User.Username()
			password, _ = u.User.Password()
			break
		}
	}
	if c.RedisUsername != "" {
		username = c.RedisUsername
	}
	if c.RedisPassword != "" {
		password = c.RedisPassword
	}
	return username, password
}

// redisParts splits REDIS_URL and says whether it names a cluster.
func redisParts(v string) ([]string, bool) {
	parts := splitList(v)
	return parts, len(parts) > 1 || (len(parts) == 1 && !strings.Contains(parts[0], "://"))
}

func splitList(v string) []string {
	var parts []string
	for p := range strings.SplitSeq(v, ",") {
		parts = append(parts, strings.TrimSpace(p))
	}
	return parts
}

// show renders a value for a log or an error message.
func show(m masking, v string) string {
	switch {
	case m == secret && v != "":
		return masked
	case m == uri:
		return maskURL(v)
	case m == urls:
		return maskList(v)
	}
	return v
}

// maskList masks each URL of a comma-separated list. A comma inside a
// password splits one URL into parts, only the last of which holds the '@':
// the parts before it are hidden whole.
func maskList(v string) string {
	parts := splitList(v)
	out := make([]string, len(parts))
	for i, p := range parts {
		out[i] = maskURL(p)
		if strings.Contains(p, "@") {
			continue
		}
		for _, next := range parts[i+1:] {
			if strings.Contains(next, "://") {
				break
			}
			if strings.Contains(next, "@") {
				scheme, _, ok := strings.Cut(p, "://")
				out[i] = masked
				if ok {
					out[i] = scheme + "://" + masked
				}
				break
			}
		}
	}
	return strings.Join(out, ",")
}

// maskURL hides a URL's userinfo (keeping a user name followed by a
// password) and the values of query parameters that may hold secrets. It errs
// towards hiding too much when the URL is malformed.
func maskURL(s string) string {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		scheme, rest = "", s
	}
	if at := strings.LastIndex(rest, "@"); at >= 0 {
		user, _, hasPassword := strings.Cut(rest[:at], ":")
		if hasPassword && user != "" {
			rest = user + ":" + masked + rest[at:]
		} else {
			rest = masked + rest[at:]
		}
	}
	if base, query, ok := strings.Cut(rest, "?"); ok {
		params := strings.Split(query, "&")
		for i, p := range params {
			key, _, _ := strings.Cut(p, "=")
			if secretParam(key) {
				params[i] = key + "=" + masked
			}
		}
		rest = base + "?" + strings.Join(params, "&")
	}
	if ok {
		return scheme + "://" + rest
	}
	return rest
}

func secretParam(key string) bool {
	key = strings.ToLower(key)
	for _, s := range []string{"password", "secret", "token", "authmechanismproperties"} {
		if strings.Contains(key, s) {
			return true
		}
	}
	return false
}

// stringValue, durationValue, intValue and boolValue are flag.Values over a
// Config field; their Set errors keep the parser's message.
type (
	stringValue   string
	durationValue time.Duration
	intValue      int
	boolValue     bool
)

func (v *stringValue) Set(s string) error { *v = stringValue(s); return nil }

func (v *stringValue) String() string {
	if v == nil {
		return ""
	}
	return string(*v)
}

func (v *durationValue) Set(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*v = durationValue(d)
	return nil
}

func (v *durationValue) String() string {
	if v == nil {
		return ""
	}
	return time.Duration(*v).String()
}

func (v *intValue) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil {
		return err
	}
	*v = intValue(n)
	return nil
}

func (v *intValue) String() string {
	if v == nil {
		return ""
	}
	return strconv.Itoa(int(*v))
}

func (v *boolValue) Set(s string) error {
	b, err := strconv.ParseBool(s)
	if err != nil {
		return err
	}
	*v = boolValue(b)
	return nil
}

func (v *boolValue) String() string {
	if v == nil {
		return ""
	}
	return strconv.FormatBool(bool(*v))
}

func (v *boolValue) IsBoolFlag() bool { return true }

// Validate checks every option and returns the first problem, as one line
// naming the flag and its environment variable.
func (c Config) Validate() error {
	return firstError(
		checkURLs("nats-url", c.NATSURL, "nats", "tls", "ws", "wss"),
		checkFile("nats-creds", c.NATSCreds),
		checkFile("nats-tls-ca", c.NATSTLSCA),
		checkFile("nats-tls-cert", c.NATSTLSCert),
		checkFile("nats-tls-key", c.NATSTLSKey),
		checkPair("nats-tls-cert", c.NATSTLSCert, "nats-tls-key", c.NATSTLSKey),
		c.checkRedis(),
		checkFile("redis-tls-ca", c.RedisTLSCA),
		checkFile("redis-tls-cert", c.RedisTLSCert),
		checkFile("redis-tls-key", c.RedisTLSKey),
		checkPair("redis-tls-cert", c.RedisTLSCert, "redis-tls-key", c.RedisTLSKey),
		checkMongoURI(c.MongoURI),
		checkDatabase(c.MongoDatabase),
		checkName("stream", c.Stream),
		checkName("dlq-stream", c.DLQStream),
		check(c.DLQStream != c.Stream, "dlq-stream", c.DLQStream, "must differ from --stream"),
		checkName("consumer", c.Consumer),
		checkSubjectPrefix(c.SubjectPrefix),
		check(!strings.ContainsAny(c.KeyPrefix, "{}"), "key-prefix", c.KeyPrefix,
			"must not contain { or }: keys carry their hash tag in braces"),
		atLeast("cache-ttl", c.CacheTTL, time.Second),
		atLeast("lock-ttl", c.LockTTL, time.Second),
		atLeast("handler-timeout", c.HandlerTimeout, time.Millisecond),
		atLeast("ack-wait", c.AckWait, time.Second),
		atLeast("shutdown-timeout", c.ShutdownTimeout, time.Millisecond),
		atLeast("retry-base-delay", c.RetryBaseDelay, time.Millisecond),
		atLeast("retry-max-delay", c.RetryMaxDelay, max(c.RetryBaseDelay, time.Millisecond)),
		atLeast("stream-max-age", c.StreamMaxAge, time.Second),
		positive("concurrency", c.Concurrency),
		positive("max-deliver", c.MaxDeliver),
		positive("max-ack-pending", c.MaxAckPending),
		check(c.MaxAckPending >= c.Concurrency, "max-ack-pending", strconv.Itoa(c.MaxAckPending),
			"must be at least --concurrency ("+strconv.Itoa(c.Concurrency)+")"),
		positive("max-payload", c.MaxPayload),
		check(c.MaxPayload <= 64<<20, "max-payload", strconv.Itoa(c.MaxPayload), "must be at most 64 MiB (NATS's limit)"),
		checkAddr("ops-addr", c.OpsAddr),
		checkOneOf("log-format", c.LogFormat, "json", "console"),
		checkOneOf("log-level", c.LogLevel, "debug", "info", "warn", "error"),
	)
}

func firstError(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// invalid formats a validation error; value must already be masked.
func invalid(name, value, reason string) error {
	return fmt.Errorf("invalid value %q for --%s (%s): %s", value, name, envName(name), reason)
}

func check(ok bool, name, value, reason string) error {
	if ok {
		return nil
	}
	return invalid(name, value, reason)
}

func atLeast(name string, d, least time.Duration) error {
	return check(d >= least, name, d.String(), "must be at least "+least.String())
}

func positive(name string, n int) error {
	return check(n > 0, name, strconv.Itoa(n), "must be greater than 0")
}

func checkOneOf(name, v string, allowed ...string) error {
	return check(slices.Contains(allowed, v), name, v, "must be one of "+strings.Join(allowed, ", "))
}

func checkFile(name, path string) error {
	if path == "" {
		return nil
	}
	info, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return invalid(name, path, "file does not exist")
	case err != nil:
		return invalid(name, path, err.Error())
	case info.IsDir():
		return invalid(name, path, "is a directory, not a file")
	}
	return nil
}

func checkPair(certName, cert, keyName, key string) error {
	if cert != "" && key == "" {
		return invalid(certName, cert, "needs --"+keyName+" ("+envName(keyName)+") too")
	}
	if key != "" && cert == "" {
		return invalid(keyName, key, "needs --"+certName+" ("+envName(certName)+") too")
	}
	return nil
}

// checkURLs checks a comma-separated list of URLs with one of the schemes.
func checkURLs(name, v string, schemes ...string) error {
	shown := show(urls, v)
	if strings.TrimSpace(v) == "" {
		return invalid(name, shown, "must not be empty")
	}
	for _, p := range splitList(v) {
		if err := checkURL(p, schemes...); err != nil {
			return invalid(name, shown, reason(v, err))
		}
	}
	return nil
}

// checkURL returns a reason that never quotes the whole URL, which may hold
// a password.
func checkURL(p string, schemes ...string) error {
	u, err := url.Parse(p)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("%w: %w", errNotURL, err)
	}
	if !slices.Contains(schemes, u.Scheme) {
		return fmt.Errorf("scheme must be %s", strings.Join(schemes, ", "))
	}
	if u.Hostname() == "" {
		return errors.New("missing host")
	}
	return nil
}

// errNotURL is the reason given when a URL does not parse.
var errNotURL = errors.New("not a URL")

// reason explains a URL error; the parser's detail may quote part of a
// password, so it is left out when the list has userinfo.
func reason(list string, err error) string {
	if errors.Is(err, errNotURL) && strings.Contains(list, "@") {
		return errNotURL.Error()
	}
	return err.Error()
}

// checkRedis accepts one redis:// or rediss:// URL (a single server), or
// Redis Cluster seeds: a comma-separated list of host:port addresses or URLs,
// or a single address without a scheme.
func (c Config) checkRedis() error {
	const name = "redis-url"
	shown := show(urls, c.RedisURL)
	if strings.TrimSpace(c.RedisURL) == "" {
		return invalid(name, shown, "must not be empty")
	}
	parts, cluster := redisParts(c.RedisURL)
	var plainURL, tlsURL bool
	for _, p := range parts {
		if !strings.Contains(p, "://") {
			if host, port, err := net.SplitHostPort(p); err != nil || host == "" || !validPort(port) {
				return invalid(name, shown, fmt.Sprintf("%q is not a host:port address", maskURL(p)))
			}
			continue
		}
		if err := checkURL(p, "redis", "rediss"); err != nil {
			return invalid(name, shown, reason(c.RedisURL, err))
		}
		u, _ := url.Parse(p) // checked above
		if db := strings.Trim(u.Path, "/"); cluster && db != "" && db != "0" {
			return invalid(name, shown, "Redis Cluster has only database 0")
		}
		plainURL = plainURL || u.Scheme == "redis"
		tlsURL = tlsURL || u.Scheme == "rediss"
	}
	if plainURL && tlsURL {
		return invalid(name, shown, "mixes redis:// and rediss://")
	}
	for _, f := range []struct{ name, path string }{
		{"redis-tls-ca", c.RedisTLSCA}, {"redis-tls-cert", c.RedisTLSCert}, {"redis-tls-key", c.RedisTLSKey},
	} {
		if f.path != "" && plainURL {
			return invalid(f.name, f.path, "needs a rediss:// --redis-url (REDIS_URL)")
		}
	}
	return nil
}

// checkMongoURI checks the scheme and host list without url.Parse, which
// rejects MongoDB's comma-separated hosts.
func checkMongoURI(v string) error {
	const name = "mongodb-uri"
	shown := show(uri, v)
	scheme, rest, ok := strings.Cut(v, "://")
	if !ok || (scheme != "mongodb" && scheme != "mongodb+srv") {
		return invalid(name, shown, "scheme must be mongodb or mongodb+srv")
	}
	hosts, _, _ := strings.Cut(rest[strings.LastIndex(rest, "@")+1:], "/")
	hosts, _, _ = strings.Cut(hosts, "?")
	if hosts == "" || slices.Contains(splitList(hosts), "") {
		return invalid(name, shown, "missing host")
	}
	if scheme == "mongodb+srv" && strings.ContainsAny(hosts, ",:") {
		return invalid(name, shown, "mongodb+srv takes one host name without a port")
	}
	return nil
}

func checkDatabase(v string) error {
	const name = "mongodb-database"
	switch {
	case v == "":
		return invalid(name, v, "must not be empty")
	case len(v) > 63:
		return invalid(name, v, "must be at most 63 bytes")
	case strings.ContainsAny(v, "/\\. \"$\x00"):
		return invalid(name, v, `must not contain / \ . space " $ or NUL`)
	}
	return nil
}

// checkName checks a JetStream stream or consumer name.
func checkName(name, v string) error {
	switch {
	case v == "":
		return invalid(name, v, "must not be empty")
	case strings.IndexFunc(v, unicodeSpaceOrControl) >= 0:
		return invalid(name, v, "must not contain spaces or control characters")
	case strings.ContainsAny(v, ".*>/\\"):
		return invalid(name, v, `must not contain . * > / or \`)
	}
	return nil
}

// checkSubjectPrefix checks that v is a sequence of literal NATS tokens.
func checkSubjectPrefix(v string) error {
	const name = "subject-prefix"
	switch {
	case v == "":
		return invalid(name, v, "must not be empty")
	case strings.IndexFunc(v, unicodeSpaceOrControl) >= 0:
		return invalid(name, v, "must not contain spaces or control characters")
	case strings.ContainsAny(v, "*>"):
		return invalid(name, v, "must not contain the wildcards * or >")
	case slices.Contains(strings.Split(v, "."), ""):
		return invalid(name, v, "must not start or end with a dot or contain two dots in a row")
	}
	return nil
}

func unicodeSpaceOrControl(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }

// checkAddr accepts an empty address (disabled) or host:port with a numeric port.
func checkAddr(name, v string) error {
	if v == "" || v == opsOff {
		return nil
	}
	_, port, err := net.SplitHostPort(v)
	if err != nil || !validPort(port) {
		return invalid(name, v, "must be host:port, e.g. :9090, or empty or off to disable")
	}
	return nil
}

func validPort(p string) bool {
	_, err := strconv.ParseUint(p, 10, 16)
	return err == nil
}

// opsOff disables the ops listener; unlike the empty value it also works
// through MCP_WORKER_OPS_ADDR (an empty variable counts as unset).
const opsOff = "off"

// opsAddr is the ops listener's address, "" when disabled.
func (c Config) opsAddr() string {
	if c.OpsAddr == opsOff {
		return ""
	}
	return c.OpsAddr
}
