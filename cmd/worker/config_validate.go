package main

import (
	"errors"
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

	"github.com/mcp-registry/worker/internal/events"
)

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
		checkName("dlq-stream", c.dlqStream()),
		check(c.dlqStream() != c.Stream, "dlq-stream", c.dlqStream(), "must differ from --stream"),
		checkName("audit-stream", c.auditStream()),
		check(c.auditStream() != c.Stream && c.auditStream() != c.dlqStream(), "audit-stream", c.auditStream(),
			"must differ from --stream and --dlq-stream"),
		checkName("consumer", c.Consumer),
		checkSubjectPrefix(c.SubjectPrefix),
		checkNotifyPrefix(c.NotifyPrefix, c.SubjectPrefix),
		check(!strings.ContainsAny(c.KeyPrefix, "{}"), "key-prefix", c.KeyPrefix,
			"must not contain { or }: keys carry their hash tag in braces"),
		atLeast("cache-ttl", c.CacheTTL, time.Second),
		atLeast("lock-ttl", c.LockTTL, time.Second),
		atLeast("handler-timeout", c.HandlerTimeout, time.Millisecond),
		atLeast("ack-wait", c.AckWait, time.Second),
		atLeast("shutdown-timeout", c.ShutdownTimeout, time.Millisecond),
		atLeast("log-summary-every", c.LogSummaryEvery, time.Second),
		atLeast("retry-base-delay", c.RetryBaseDelay, time.Millisecond),
		atLeast("retry-max-delay", c.RetryMaxDelay, max(c.RetryBaseDelay, time.Millisecond)),
		atLeast("stream-max-age", c.StreamMaxAge, time.Second),
		atLeast("tombstone-ttl", c.TombstoneTTL, c.StreamMaxAge),
		check(c.StreamReplicas >= 1 && c.StreamReplicas <= events.MaxStreamReplicas, "stream-replicas", strconv.Itoa(c.StreamReplicas),
			"must be 1 to "+strconv.Itoa(events.MaxStreamReplicas)),
		check(c.ReconcileEvery == 0 || c.ReconcileEvery >= time.Second, "reconcile-every", c.ReconcileEvery.String(), "must be 0 (off) or at least 1s"),
		positive("reconcile-rate", c.ReconcileRate),
		atLeast("metrics-poll-every", c.MetricsPollEvery, 100*time.Millisecond),
		checkOTLPEndpoint(c.OTLPEndpoint),
		positive("concurrency", c.Concurrency),
		positive("max-deliver", c.MaxDeliver),
		check(c.OutageErrors >= 2, "outage-errors", strconv.Itoa(c.OutageErrors),
			"must be at least 2 (at 1 every dependency error pauses, so an event that always fails that way would be held forever instead of dead-lettered)"),
		atLeast("outage-probe-max", c.OutageProbeMax, events.DefaultOutageConfig().ProbeBase),
		positive("max-ack-pending", c.MaxAckPending),
		check(c.MaxAckPending >= c.Concurrency, "max-ack-pending", strconv.Itoa(c.MaxAckPending),
			"must be at least --concurrency ("+strconv.Itoa(c.Concurrency)+")"),
		positive("max-payload", c.MaxPayload),
		check(c.MaxPayload <= 64<<20, "max-payload", strconv.Itoa(c.MaxPayload), "must be at most 64 MiB (NATS's limit)"),
		positive("max-allowed-users", c.MaxAllowedUsers),
		check(c.MaxConfigBytes >= 2, "max-config-bytes", strconv.Itoa(c.MaxConfigBytes), `must be at least 2 (the config "{}")`),
		atLeast("dlq-max-age", c.DLQMaxAge, 2*time.Minute),      // the duplicate window
		atLeast("audit-max-age", c.AuditMaxAge, 15*time.Minute), // the audit stream's duplicate window
		check(c.DLQMaxBytes >= c.MaxPayload, "dlq-max-bytes", strconv.Itoa(c.DLQMaxBytes),
			"must be at least --max-payload ("+strconv.Itoa(c.MaxPayload)+")"),
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

// checkNotifyPrefix applies the events package's rule to --notify-prefix.
func checkNotifyPrefix(v, subjectPrefix string) error {
	if err := events.CheckNotifyPrefix(v, subjectPrefix); err != nil {
		_, why, _ := strings.Cut(err.Error(), ": ")
		return invalid("notify-prefix", v, why)
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

// dlqStream is --dlq-stream, or "<stream>_DLQ" when it is empty.
func (c Config) dlqStream() string {
	if c.DLQStream == "" {
		return events.DLQStreamFor(c.Stream)
	}
	return c.DLQStream
}

// auditStream is --audit-stream, or "<stream>_AUDIT" when it is empty.
func (c Config) auditStream() string {
	if c.AuditStream == "" {
		return events.AuditStreamFor(c.Stream)
	}
	return c.AuditStream
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

// checkOTLPEndpoint accepts "" (no export) or an http(s) URL.
func checkOTLPEndpoint(v string) error {
	if v == "" {
		return nil
	}
	u, err := url.Parse(v)
	return check(err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "",
		"otlp-endpoint", maskURL(v), "must be an http:// or https:// URL")
}
