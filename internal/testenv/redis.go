package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisURL is the Redis the tests use: $REDIS_URL or the machine's default.
func RedisURL() string {
	if u := os.Getenv("REDIS_URL"); u != "" {
		return u
	}
	return "redis://127.0.0.1:6379"
}

// Redis connects to the shared test Redis and returns the client and a key
// prefix unique to this test. Keys under the prefix are deleted at cleanup.
func Redis(t testing.TB) (*redis.Client, string) {
	t.Helper()
	opts, err := redis.ParseURL(RedisURL())
	if err != nil {
		t.Fatalf("REDIS_URL: %v", err)
	}
	return connectRedis(t, opts), uniquePrefix(t)
}

func connectRedis(t testing.TB, opts *redis.Options) *redis.Client {
	t.Helper()
	rdb := redis.NewClient(opts)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		_ = rdb.Close()
		unavailable(t, "redis at "+opts.Addr+": "+err.Error())
	}
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

// uniquePrefix returns a key prefix for one test and deletes its keys at
// cleanup (SCAN is fine here: it is test cleanup, not a flow).
func uniquePrefix(t testing.TB) string {
	prefix := newPrefix(t)
	t.Cleanup(func() { deleteByPrefix(prefix) })
	return prefix
}

// newPrefix returns "test:<test name>:<random>:". Braces in the test name are
// replaced so that a Redis Cluster hash tag in a key is the caller's, never a
// piece of the prefix.
func newPrefix(t testing.TB) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	name := strings.NewReplacer("/", "_", " ", "_", "{", "(", "}", ")").Replace(t.Name())
	return "test:" + name + ":" + hex.EncodeToString(b) + ":"
}

func deleteByPrefix(prefix string) {
	opts, err := redis.ParseURL(RedisURL())
	if err != nil {
		return
	}
	rdb := redis.NewClient(opts)
	defer func() { _ = rdb.Close() }()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	iter := rdb.Scan(ctx, 0, escapeGlob(prefix)+"*", 1000).Iterator()
	var batch []string
	for iter.Next(ctx) {
		batch = append(batch, iter.Val())
		if len(batch) == 500 {
			rdb.Unlink(ctx, batch...)
			batch = batch[:0]
		}
	}
	if len(batch) > 0 {
		rdb.Unlink(ctx, batch...)
	}
}

func escapeGlob(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '*', '?', '[', ']', '\\':
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// unavailable fails the test under CI=true and skips it elsewhere.
func unavailable(t testing.TB, what string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("required server unavailable under CI=true: %s", what)
	}
	t.Skipf("server unavailable (set CI=true to fail instead): %s", what)
}
