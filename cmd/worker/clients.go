package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/v2/mongo"
	mongooptions "go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.uber.org/zap"
)

// dialTimeout bounds each dependency check at start.
const dialTimeout = 5 * time.Second

// newRedis builds the Redis client: Redis Cluster when REDIS_URL is a list
// of addresses, else one server from the redis:// or rediss:// URL. It does
// not dial; pingRedis does.
func newRedis(c Config) (redis.UniversalClient, error) {
	tlsCfg, err := redisTLS(c)
	if err != nil {
		return nil, err
	}
	user, pass := c.RedisAuth()
	if addrs, cluster := c.RedisClusterAddrs(); cluster {
		return redis.NewClusterClient(&redis.ClusterOptions{
			Addrs: addrs, Username: user, Password: pass, TLSConfig: tlsCfg,
		}), nil
	}
	opts, err := redis.ParseURL(c.RedisURL)
	if err != nil {
		return nil, fmt.Errorf("redis url: %w", err)
	}
	opts.Username, opts.Password = user, pass
	if tlsCfg != nil {
		opts.TLSConfig = tlsCfg
	}
	return redis.NewClient(opts), nil
}

func redisTLS(c Config) (*tls.Config, error) {
	if !c.RedisTLS() {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if c.RedisTLSCA != "" {
		pem, err := os.ReadFile(c.RedisTLSCA)
		if err != nil {
			return nil, fmt.Errorf("redis tls ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("redis tls ca %s: no certificate found", c.RedisTLSCA)
		}
		cfg.RootCAs = pool
	}
	if c.RedisTLSCert != "" {
		cert, err := tls.LoadX509KeyPair(c.RedisTLSCert, c.RedisTLSKey)
		if err != nil {
			return nil, fmt.Errorf("redis tls cert: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

// redisAddrs names the Redis address(es) for error messages.
func redisAddrs(client redis.UniversalClient) string {
	switch c := client.(type) {
	case *redis.Client:
		return c.Options().Addr
	case *redis.ClusterClient:
		return strings.Join(c.Options().Addrs, ",")
	}
	return "redis"
}

func pingRedis(ctx context.Context, client redis.UniversalClient) error {
	ctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	if err := client.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redis at %s unreachable: %w", redisAddrs(client), err)
	}
	return nil
}

// newMongo builds the MongoDB client (TLS and credentials come through the
// URI); each extra function may set more options (a monitor).
func newMongo(c Config, extra ...func(*mongooptions.ClientOptions)) (*mongo.Client, error) {
	opts := mongooptions.Client().ApplyURI(c.MongoURI).
		SetServerSelectionTimeout(dialTimeout).SetAppName("mcp-registry-worker")
	for _, f := range extra {
		f(opts)
	}
	client, err := mongo.Connect(opts)
	if err != nil {
		// The driver's parse errors quote raw option values and parts of the
		// password: give a reason that names the hosts, nothing else.
		return nil, fmt.Errorf("mongodb uri for %s: the driver refused it (a malformed option value or "+
			"credential; its message is withheld because it may quote secrets)", mongoHosts(c.MongoURI))
	}
	return client, nil
}

// mongoHosts returns the host list of a MongoDB URI, without userinfo.
func mongoHosts(uri string) string {
	_, rest, ok := strings.Cut(uri, "://")
	if !ok {
		return "mongodb"
	}
	hosts, _, _ := strings.Cut(rest[strings.LastIndex(rest, "@")+1:], "/")
	hosts, _, _ = strings.Cut(hosts, "?")
	return hosts
}

// scrubSecrets replaces every secret of uri found in err's text: driver
// errors (authentication, server selection) must never carry them to a log
// or the terminal. The result no longer wraps err.
func scrubSecrets(err error, uri string) error {
	msg := err.Error()
	for _, s := range secretValues(uri) {
		msg = strings.ReplaceAll(msg, s, masked)
	}
	return errors.New(msg)
}

func pingMongo(ctx context.Context, client *mongo.Client, uri string) error {
	ctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	if err := client.Ping(ctx, nil); err != nil {
		return fmt.Errorf("mongodb at %s unreachable: %w", maskURL(uri), scrubSecrets(err, uri))
	}
	return nil
}

// connectNATS dials NATS (failing at once when unreachable) and keeps
// reconnecting forever once connected.
func connectNATS(c Config, log *zap.Logger) (*nats.Conn, error) {
	opts := []nats.Option{
		nats.Name("mcp-registry-worker"),
		nats.Timeout(dialTimeout),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(time.Second),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			log.Warn("NATS disconnected", zap.Error(err))
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			log.Info("NATS reconnected", zap.String("url", nc.ConnectedUrlRedacted()))
		}),
	}
	if c.NATSCreds != "" {
		opts = append(opts, nats.UserCredentials(c.NATSCreds))
	}
	if c.NATSTLSCA != "" {
		opts = append(opts, nats.RootCAs(c.NATSTLSCA))
	}
	if c.NATSTLSCert != "" {
		opts = append(opts, nats.ClientCert(c.NATSTLSCert, c.NATSTLSKey))
	}
	nc, err := nats.Connect(c.NATSURL, opts...)
	if err != nil {
		return nil, fmt.Errorf("nats at %s unreachable: %w", maskURL(c.NATSURL), err)
	}
	return nc, nil
}
