package bench

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcp-registry/worker/internal/serverdb"
	"github.com/mcp-registry/worker/internal/testenv"
)

func TestParseCommandStats(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		info      string
		want      cmdStats
		flowTotal int64
	}{
		{
			name: "calls per command, admin and dial commands left out of the flow total",
			info: "# Commandstats\r\n" +
				"cmdstat_evalsha:calls=3,usec=90,usec_per_call=30.00,rejected_calls=0,failed_calls=0\r\n" +
				"cmdstat_sadd:calls=5,usec=10,usec_per_call=2.00,rejected_calls=0,failed_calls=0\r\n" +
				"cmdstat_config|resetstat:calls=1,usec=72,usec_per_call=72.00,rejected_calls=0,failed_calls=0\r\n" +
				"cmdstat_client|setinfo:calls=2,usec=1,usec_per_call=0.50,rejected_calls=0,failed_calls=0\r\n" +
				"cmdstat_hello:calls=2,usec=30,usec_per_call=15.00,rejected_calls=0,failed_calls=0\r\n",
			want:      cmdStats{"evalsha": 3, "sadd": 5, "config|resetstat": 1, "client|setinfo": 2, "hello": 2},
			flowTotal: 8,
		},
		{name: "empty section", info: "# Commandstats\r\n", want: cmdStats{}, flowTotal: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseCommandStats(tt.info)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.flowTotal, got.flowTotal())
		})
	}
}

func TestPercentiles(t *testing.T) {
	t.Parallel()
	d := func(ns ...int) []time.Duration {
		out := make([]time.Duration, len(ns))
		for i, n := range ns {
			out[i] = time.Duration(n)
		}
		return out
	}
	tests := []struct {
		name string
		in   []time.Duration
		qs   []float64
		want []time.Duration
	}{
		{"nearest rank", d(5, 1, 4, 2, 3), []float64{0.5, 0.99, 1}, d(3, 5, 5)},
		{"hundred values", d(seq(100)...), []float64{0.5, 0.99}, d(50, 99)},
		{"empty", nil, []float64{0.5}, d(0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, percentiles(tt.in, tt.qs...))
		})
	}
}

func seq(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i + 1
	}
	return out
}

func TestNum(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   int64
		want string
	}{{0, "0"}, {999, "999"}, {1000, "1,000"}, {1_000_000, "1,000,000"}, {-12345, "-12,345"}}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, num(tt.in))
		})
	}
}

// TestIntegrationCounterCountsRoundTrips checks the instrument the benchmarks
// rely on: one round trip per command call and per pipeline, every command
// counted, in agreement with Redis's own INFO commandstats.
func TestIntegrationCounterCountsRoundTrips(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := t.Context()
	m := w.measure(ctx, t, func() error {
		if err := w.rdb.Set(ctx, "a", "1", 0).Err(); err != nil {
			return err
		}
		_, err := w.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for range 10 {
				p.Incr(ctx, "n")
			}
			return nil
		})
		return err
	})
	assert.Equal(t, int64(2), m.RoundTrips, "one SET, one pipeline")
	assert.Equal(t, int64(11), m.Commands)
	assert.Positive(t, m.Dials, "the first commands opened connections")
	assert.Positive(t, m.Setup, "its setup commands are counted apart")
	assert.Equal(t, int64(11), m.redisCmds)
	assert.Equal(t, cmdStats{"set": 1, "incr": 10}, withoutAdmin(m.stats))
}

func withoutAdmin(s cmdStats) cmdStats {
	out := cmdStats{}
	for k, v := range s {
		if !notFlowCommand(k) {
			out[k] = v
		}
	}
	return out
}

// TestIntegrationFillUnrelated checks the key filler of BenchmarkUnrelatedKeys.
func TestIntegrationFillUnrelated(t *testing.T) {
	t.Parallel()
	_, admin := testenv.StartRedisServer(t)
	ctx := t.Context()
	fillUnrelated(ctx, t, admin, 250_001)
	assert.Equal(t, int64(250_001), admin.DBSize(ctx).Val())
	assert.Equal(t, int64(1), admin.Exists(ctx, unrelatedPrefix+":250000").Val())
}

// TestIntegrationReferenceLogin checks the reference loader against the
// figures the issue states: a cold load of 5 servers is 19 Redis commands
// (INFO commandstats) in 5 round trips; a warm one is 1 EXISTS; an update
// writes one SET per holder.
func TestIntegrationReferenceLogin(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ref := newReference(t, w)
	ctx := t.Context()
	servers := make([]serverdb.Server, 5)
	for i := range servers {
		servers[i] = serverOf(fmt.Sprintf("ref-%d", i), i, baseUpdatedAt)
	}
	w.source.set("u1", servers)
	w.source.set("u2", servers[:1])
	require.NoError(t, ref.login(ctx, "u2"))
	cold := w.measureOn(ctx, t, ref.hook, func() error { return ref.login(ctx, "u1") })
	assert.Equal(t, int64(referenceLoginCommands(5)), cold.redisCmds)
	assert.Equal(t, int64(19), cold.redisCmds)
	assert.Equal(t, int64(5), cold.RoundTrips)
	assert.Equal(t, cmdStats{"exists": 1, "set": 7, "get": 5, "sadd": 5, "del": 1}, withoutAdmin(cold.stats))
	warm := w.measureOn(ctx, t, ref.hook, func() error { return ref.login(ctx, "u1") })
	assert.Equal(t, int64(1), warm.redisCmds)

	v := value(t, servers[0], config300("ref-0", 1), baseUpdatedAt+1)
	var n int
	upd := w.measureOn(ctx, t, ref.hook, func() (err error) {
		n, err = ref.update(ctx, "ref-0", v)
		return err
	})
	assert.Equal(t, 2, n)
	assert.Equal(t, cmdStats{"sscan": 1, "set": 2}, withoutAdmin(upd.stats))
	assert.Equal(t, 2, countRefValues(ctx, t, ref, []string{"u1", "u2"}, "ref-0", v))
}

func TestConfig300(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"a", "mem-0001", "holders-1000000"} {
		c := config300(name, 12)
		assert.Len(t, c, 300, name)
		assert.True(t, json.Valid(c), name)
	}
}
