package main

import (
	"bufio"
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"
)

// minRedis is the oldest Redis the registry's scripts run on (PEXPIRETIME,
// SPUBLISH, ZRANGE options: 7.0).
var minRedis = [2]int{7, 0}

// checkRedisServer refuses a Redis older than 7.0 (every flow would fail at
// run time) and warns when maxmemory-policy may evict registry keys. A server
// that does not answer INFO (an ACL user without it, an embedded dev server)
// is let through with a debug line: the flows themselves then tell.
func checkRedisServer(ctx context.Context, rdb redis.UniversalClient, addr string, log *zap.Logger) error {
	info, err := rdb.Info(ctx, "server", "memory").Result()
	if err != nil {
		log.Debug("Redis INFO unavailable: version not checked", zap.Error(err))
		return nil
	}
	fields := infoFields(info)
	if v, ok := fields["redis_version"]; ok {
		if err := requireVersion(v); err != nil {
			return fmt.Errorf("redis at %s: %w", addr, err)
		}
	}
	if p, ok := fields["maxmemory_policy"]; ok && p != "noeviction" {
		log.Warn("Redis may evict registry keys: set maxmemory-policy noeviction",
			zap.String("maxmemory_policy", p))
	}
	return nil
}

// requireVersion reports a Redis version older than minRedis.
func requireVersion(v string) error {
	parts := strings.SplitN(v, ".", 3)
	major, err1 := strconv.Atoi(parts[0])
	minor := 0
	var err2 error
	if len(parts) > 1 {
		minor, err2 = strconv.Atoi(parts[1])
	}
	if err1 != nil || err2 != nil {
		return nil // not a version we can read: let the flows tell
	}
	if major < minRedis[0] || (major == minRedis[0] && minor < minRedis[1]) {
		return fmt.Errorf("version %s is older than %d.%d, which the registry's scripts need", v, minRedis[0], minRedis[1])
	}
	return nil
}

// infoFields parses an INFO reply into field -> value.
func infoFields(info string) map[string]string {
	out := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(info))
	for sc.Scan() {
		if k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), ":"); ok {
			out[k] = v
		}
	}
	return out
}
