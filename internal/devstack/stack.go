package devstack

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Options says where the stack listens and keeps its files. An empty address
// means "127.0.0.1:0" (a free port).
type Options struct {
	// Dir holds the data: Dir/nats (JetStream) and Dir/mongo (SQLite). Required.
	Dir       string
	NATSAddr  string
	RedisAddr string
	MongoAddr string
	// Logger receives FerretDB's own logs; nil discards them.
	Logger *slog.Logger
}

// Stack is the running development stack: NATS with JetStream, Redis
// (miniredis) and MongoDB (FerretDB), each on its own TCP address.
type Stack struct {
	NATSURL  string
	RedisURL string
	MongoURI string

	nats  *server.Server
	redis *Redis
	mongo *Mongo
}

// Start starts NATS, Redis and MongoDB in that order. Each address is checked
// first: a busy one fails with an error naming it (FerretDB would otherwise
// hang). On any failure what already started is stopped again.
func Start(o Options) (*Stack, error) {
	if o.Dir == "" {
		return nil, errors.New("devstack: data dir is required")
	}
	s := &Stack{}
	if err := s.start(o); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func (s *Stack) start(o Options) error {
	natsAddr, redisAddr, mongoAddr := orFree(o.NATSAddr), orFree(o.RedisAddr), orFree(o.MongoAddr)

	host, port, err := splitAddr(natsAddr)
	if err != nil {
		return fmt.Errorf("nats address: %w", err)
	}
	if err := checkFree("nats", natsAddr); err != nil {
		return err
	}
	ns, err := StartNATS(NATSOptions{StoreDir: filepath.Join(o.Dir, "nats"), Host: host, Port: port})
	if err != nil {
		return err
	}
	s.nats, s.NATSURL = ns, ns.ClientURL()

	if err := checkFree("redis", redisAddr); err != nil {
		return err
	}
	r, err := StartRedis(redisAddr)
	if err != nil {
		return err
	}
	s.redis, s.RedisURL = r, r.URL()

	if err := checkFree("mongo", mongoAddr); err != nil {
		return err
	}
	m, err := startMongoWithin(MongoOptions{Dir: filepath.Join(o.Dir, "mongo"), Addr: mongoAddr, Logger: o.Logger}, mongoStartTimeout)
	if err != nil {
		return err
	}
	s.mongo, s.MongoURI = m, m.URI
	return nil
}

// mongoStartTimeout bounds StartMongo: FerretDB's MongoDBURI waits forever
// when its listener failed (say the port was taken after checkFree).
const mongoStartTimeout = 20 * time.Second

func startMongoWithin(o MongoOptions, timeout time.Duration) (*Mongo, error) {
	type result struct {
		m   *Mongo
		err error
	}
	done := make(chan result, 1)
	go func() {
		m, err := StartMongo(o)
		done <- result{m, err}
	}()
	select {
	case r := <-done:
		return r.m, r.err
	case <-time.After(timeout):
		// The goroutine stays blocked in FerretDB; the caller exits anyway.
		return nil, fmt.Errorf("mongo address %s: not listening after %s", o.Addr, timeout)
	}
}

// Close stops MongoDB, Redis and NATS (the reverse order of Start) and waits
// for each. It is safe on a partly started stack and safe to call twice.
func (s *Stack) Close() {
	if s.mongo != nil {
		s.mongo.Close()
		s.mongo = nil
	}
	if s.redis != nil {
		s.redis.Close()
		s.redis = nil
	}
	if s.nats != nil {
		s.nats.Shutdown()
		s.nats.WaitForShutdown()
		s.nats = nil
	}
}

// CheckFree returns an error naming addr when nothing can listen on it.
func CheckFree(addr string) error { return checkFree("", addr) }

func checkFree(what, addr string) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		if what != "" {
			return fmt.Errorf("%s address %s is not free: %w", what, addr, err)
		}
		return fmt.Errorf("address %s is not free: %w", addr, err)
	}
	if err := l.Close(); err != nil {
		return fmt.Errorf("release %s: %w", addr, err)
	}
	return nil
}

func orFree(addr string) string {
	if addr == "" {
		return "127.0.0.1:0"
	}
	return addr
}

// splitAddr parses host:port for nats-server, where port 0 means 4222 and -1
// means a free port.
func splitAddr(addr string) (string, int, error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.Atoi(p)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("bad port in %q", addr)
	}
	if port == 0 {
		port = -1
	}
	return host, port, nil
}
