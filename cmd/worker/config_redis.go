package main

import (
	"net"
	"net/url"
	"slices"
	"strings"
)

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
