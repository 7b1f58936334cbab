package testenv_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/mcp-registry/worker/internal/testenv"
)

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// masterAddr is the address of the master the client routes key to.
func masterAddr(ctx context.Context, t *testing.T, rdb *redis.ClusterClient, key string) string {
	t.Helper()
	master, err := rdb.MasterForKey(ctx, key)
	if err != nil {
		t.Fatalf("master for %s: %v", key, err)
	}
	return master.Options().Addr
}

func TestStartRedisClusterEveryMasterOwnsSlots(t *testing.T) {
	start := time.Now()
	c, rdb := testenv.StartRedisCluster(t)
	t.Logf("cluster %v started in %s", c.Addrs, time.Since(start).Round(time.Millisecond))
	ctx := ctxFor(t)

	if len(c.Addrs) != 3 {
		t.Fatalf("Addrs = %v, want 3 masters", c.Addrs)
	}
	shards, err := rdb.ClusterShards(ctx).Result()
	if err != nil {
		t.Fatalf("cluster shards: %v", err)
	}
	owned := map[string]int{}
	for _, s := range shards {
		if len(s.Nodes) != 1 || s.Nodes[0].Role != "master" {
			t.Errorf("shard %v: nodes %+v, want one master and no replica", s.Slots, s.Nodes)
			continue
		}
		addr := net.JoinHostPort(s.Nodes[0].IP, strconv.FormatInt(s.Nodes[0].Port, 10))
		for _, r := range s.Slots {
			owned[addr] += int(r.End - r.Start + 1)
		}
	}
	total := 0
	for i, addr := range c.Addrs {
		if owned[addr] < 5000 {
			t.Errorf("master %d (%s) owns %d slots", i, addr, owned[addr])
		}
		total += owned[addr]
	}
	if total != 16384 || len(owned) != 3 {
		t.Errorf("owned = %v (total %d), want 16384 slots over %v", owned, total, c.Addrs)
	}

	err = rdb.ForEachMaster(ctx, func(ctx context.Context, node *redis.Client) error {
		info, err := node.ClusterInfo(ctx).Result()
		if err != nil {
			return err
		}
		if !strings.Contains(info, "cluster_state:ok") {
			return fmt.Errorf("%s: %s", node.Options().Addr, info)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("cluster info: %v", err)
	}
	for i, addr := range c.Addrs {
		key := "k" + testenv.HashTagOnNode(i)
		if got := masterAddr(ctx, t, rdb, key); got != addr {
			t.Errorf("HashTagOnNode(%d): %s lives on %s, want %s", i, key, got, addr)
		}
	}
}

func TestStartRedisClusterStopFreesPorts(t *testing.T) {
	var addrs []string
	t.Run("cluster", func(t *testing.T) {
		c, _ := testenv.StartRedisCluster(t)
		addrs = c.Addrs
	})
	for _, addr := range addrs {
		testenv.AssertFree(t, addr)
	}
}

func TestSharedRedisClusterKeysOnEveryMaster(t *testing.T) {
	rdb, prefix := testenv.SharedRedisCluster(t)
	ctx := ctxFor(t)

	seen := map[string]string{}
	for i := range 3 {
		key := prefix + testenv.HashTagOnNode(i) + ":k"
		if err := rdb.Set(ctx, key, i, 0).Err(); err != nil {
			t.Fatalf("set %s: %v", key, err)
		}
		got, err := rdb.Get(ctx, key).Int()
		if err != nil || got != i {
			t.Fatalf("get %s = %d, %v; want %d", key, got, err, i)
		}
		addr := masterAddr(ctx, t, rdb, key)
		if other, dup := seen[addr]; dup {
			t.Fatalf("%s and %s both live on %s", other, key, addr)
		}
		seen[addr] = key
		// The key is really on that master, not only routed there.
		node := redis.NewClient(&redis.Options{Addr: addr})
		n, err := node.Exists(ctx, key).Result()
		_ = node.Close()
		if err != nil || n != 1 {
			t.Fatalf("exists %s on %s = %d, %v", key, addr, n, err)
		}
	}
}

func TestSharedRedisClusterStartsOnce(t *testing.T) {
	a, _ := testenv.SharedRedisCluster(t)
	b, _ := testenv.SharedRedisCluster(t)
	if a == b {
		t.Fatal("want a client per call")
	}
	if !slices.Equal(a.Options().Addrs, b.Options().Addrs) {
		t.Fatalf("two clusters: %v and %v", a.Options().Addrs, b.Options().Addrs)
	}
}

func TestSharedRedisClusterCleanupDeletesPrefixOnEveryMaster(t *testing.T) {
	var keys []string
	t.Run("writer", func(t *testing.T) {
		rdb, prefix := testenv.SharedRedisCluster(t)
		ctx := ctxFor(t)
		for i := range 3 {
			for j := range 20 {
				key := fmt.Sprintf("%s%s:%d", prefix, testenv.HashTagOnNode(i), j)
				if err := rdb.Set(ctx, key, "v", 0).Err(); err != nil {
					t.Fatalf("set: %v", err)
				}
				keys = append(keys, key)
			}
			// And keys without a hash tag, spread over the slots.
			key := fmt.Sprintf("%splain:%d", prefix, i)
			if err := rdb.Set(ctx, key, "v", 0).Err(); err != nil {
				t.Fatalf("set: %v", err)
			}
			keys = append(keys, key)
		}
	})
	rdb, _ := testenv.SharedRedisCluster(t)
	ctx := ctxFor(t)
	for _, key := range keys {
		if n, err := rdb.Exists(ctx, key).Result(); err != nil || n != 0 {
			t.Errorf("%s after cleanup: exists = %d, %v", key, n, err)
		}
	}
}

func TestSharedRedisClusterLuaInOneSlot(t *testing.T) {
	rdb, prefix := testenv.SharedRedisCluster(t)
	ctx := ctxFor(t)
	script := redis.NewScript(`
redis.call('SET', KEYS[1], ARGV[1])
redis.call('INCRBY', KEYS[2], ARGV[2])
return redis.call('MGET', KEYS[1], KEYS[2])`)
	for i := range 3 {
		tag := testenv.HashTagOnNode(i)
		keys := []string{prefix + tag + ":name", prefix + tag + ":count"}
		got, err := script.Run(ctx, rdb, keys, "n"+tag, 5).StringSlice()
		if err != nil {
			t.Fatalf("node %d: eval: %v", i, err)
		}
		if want := []string{"n" + tag, "5"}; !slices.Equal(got, want) {
			t.Fatalf("node %d: eval = %v, want %v", i, got, want)
		}
	}

	// Keys in different slots are refused, as on any real cluster.
	keys := []string{prefix + testenv.HashTagOnNode(0) + ":a", prefix + testenv.HashTagOnNode(1) + ":b"}
	err := rdb.Eval(ctx, "return redis.call('MGET', KEYS[1], KEYS[2])", keys).Err()
	if err == nil || !strings.Contains(err.Error(), "CROSSSLOT") {
		t.Fatalf("eval over two slots: %v, want CROSSSLOT", err)
	}
}

func TestSharedRedisClusterShardedPubSub(t *testing.T) {
	rdb, prefix := testenv.SharedRedisCluster(t)
	ctx := ctxFor(t)
	first := rdb.Options().Addrs[0]
	otherNode := false
	for i := range 3 {
		channel := prefix + testenv.HashTagOnNode(i) + ":events"
		if masterAddr(ctx, t, rdb, channel) != first {
			otherNode = true
		}
		sub := rdb.SSubscribe(ctx, channel)
		// The confirmation proves the subscription is in place before publishing.
		msg, err := sub.Receive(ctx)
		if err != nil {
			t.Fatalf("node %d: ssubscribe %s: %v", i, channel, err)
		}
		if s, ok := msg.(*redis.Subscription); !ok || s.Kind != "ssubscribe" || s.Channel != channel {
			t.Fatalf("node %d: first message %#v, want the ssubscribe confirmation", i, msg)
		}

		n, err := rdb.SPublish(ctx, channel, fmt.Sprintf("hello %d", i)).Result()
		if err != nil || n != 1 {
			t.Fatalf("node %d: spublish = %d, %v; want 1 receiver", i, n, err)
		}
		got, err := sub.ReceiveMessage(ctx)
		if err != nil {
			t.Fatalf("node %d: receive: %v", i, err)
		}
		if got.Channel != channel || got.Payload != fmt.Sprintf("hello %d", i) {
			t.Fatalf("node %d: got %q on %q", i, got.Payload, got.Channel)
		}
		if err := sub.Close(); err != nil && !errors.Is(err, redis.ErrClosed) {
			t.Fatalf("close: %v", err)
		}
	}
	if !otherNode {
		t.Fatalf("no channel lived on another master than %s", first)
	}
}

func TestRedisTargets(t *testing.T) {
	var names []string
	for _, rt := range testenv.RedisTargets() {
		names = append(names, rt.Name)
		t.Run(rt.Name, func(t *testing.T) {
			rdb, prefix := rt.Connect(t)
			ctx := ctxFor(t)
			key := prefix + "{user42}:name"
			if err := rdb.Set(ctx, key, rt.Name, time.Minute).Err(); err != nil {
				t.Fatalf("set: %v", err)
			}
			if got, err := rdb.Get(ctx, key).Result(); err != nil || got != rt.Name {
				t.Fatalf("get = %q, %v", got, err)
			}
			_, isCluster := rdb.(*redis.ClusterClient)
			if isCluster != (rt.Name == "cluster") {
				t.Fatalf("%s target has a %T", rt.Name, rdb)
			}
		})
	}
	if !slices.Equal(names, []string{"single", "cluster"}) {
		t.Fatalf("targets %v", names)
	}
}

func TestSharedRedisClusterPrefixHasNoHashTag(t *testing.T) {
	t.Run("name{with}braces", func(t *testing.T) {
		rdb, prefix := testenv.SharedRedisCluster(t)
		if strings.ContainsAny(prefix, "{}") {
			t.Fatalf("prefix %q has braces: it would decide the slot of every key", prefix)
		}
		ctx := ctxFor(t)
		key := prefix + testenv.HashTagOnNode(2) + ":k"
		if got, want := masterAddr(ctx, t, rdb, key), masterAddr(ctx, t, rdb, "x"+testenv.HashTagOnNode(2)); got != want {
			t.Fatalf("%s lives on %s, want %s", key, got, want)
		}
	})
}
