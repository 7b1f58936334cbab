package devstack_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/mcp-registry/worker/internal/devstack"
	"github.com/mcp-registry/worker/internal/testenv"
)

func TestIntegrationStackStartsAndStopsCleanly(t *testing.T) {
	t.Parallel()
	o := devstack.Options{Dir: t.TempDir(), NATSAddr: testenv.FreeAddr(t), RedisAddr: testenv.FreeAddr(t), MongoAddr: testenv.FreeAddr(t)}
	s, err := devstack.Start(o)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	assert.Equal(t, "nats://"+o.NATSAddr, s.NATSURL)
	assert.Equal(t, "redis://"+o.RedisAddr, s.RedisURL)
	assert.Contains(t, s.MongoURI, o.MongoAddr)

	nc, err := nats.Connect(s.NATSURL)
	require.NoError(t, err)
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	_, err = js.AccountInfo(ctx)
	require.NoError(t, err, "JetStream is enabled")
	nc.Close()

	ropts, err := redis.ParseURL(s.RedisURL)
	require.NoError(t, err)
	rdb := redis.NewClient(ropts)
	require.NoError(t, rdb.Set(ctx, "k", "v", time.Minute).Err())
	require.NoError(t, rdb.Close())

	mc, err := mongo.Connect(options.Client().ApplyURI(s.MongoURI))
	require.NoError(t, err)
	require.NoError(t, mc.Ping(ctx, nil))
	require.NoError(t, mc.Disconnect(ctx))

	s.Close()
	s.Close() // idempotent
	for _, addr := range []string{o.NATSAddr, o.RedisAddr, o.MongoAddr} {
		testenv.AssertFree(t, addr)
	}
}

func TestIntegrationStackBusyAddressFailsAndCleansUp(t *testing.T) {
	t.Parallel()
	for _, busy := range []string{"nats", "redis", "mongo"} {
		t.Run(busy, func(t *testing.T) {
			t.Parallel()
			l, err := net.Listen("tcp", "127.0.0.1:0")
			require.NoError(t, err)
			defer l.Close()
			addrs := map[string]string{"nats": testenv.FreeAddr(t), "redis": testenv.FreeAddr(t), "mongo": testenv.FreeAddr(t)}
			addrs[busy] = l.Addr().String()

			done := make(chan error, 1)
			go func() {
				s, err := devstack.Start(devstack.Options{
					Dir: t.TempDir(), NATSAddr: addrs["nats"], RedisAddr: addrs["redis"], MongoAddr: addrs["mongo"],
				})
				if err == nil {
					s.Close()
				}
				done <- err
			}()
			select {
			case err = <-done:
			case <-time.After(20 * time.Second):
				t.Fatalf("Start hangs when the %s address is busy", busy)
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), busy+" address "+l.Addr().String())
			assert.NotContains(t, err.Error(), "\n", "one line")
			for name, addr := range addrs {
				if name != busy {
					testenv.AssertFree(t, addr)
				}
			}
		})
	}
}

func TestStartNeedsDir(t *testing.T) {
	t.Parallel()
	_, err := devstack.Start(devstack.Options{})
	require.Error(t, err)
}
