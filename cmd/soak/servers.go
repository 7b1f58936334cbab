package main

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/mcp-registry/worker/internal/devstack"
)

// servers are the soak's own NATS cluster, Redis and MongoDB (FerretDB).
type servers struct {
	nats  *devstack.NATSCluster
	redis *redisServer

	mongoMu   sync.Mutex
	mongo     *devstack.Mongo // nil while stopped
	mongoDir  string
	mongoAddr string
	MongoURI  string
	mongoCli  *mongo.Client
}

func startServers(dir string) (*servers, error) {
	s := &servers{mongoDir: filepath.Join(dir, "mongo")}
	var err error
	if s.nats, err = devstack.StartNATSCluster(filepath.Join(dir, "nats"), 3); err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		s.close()
		return nil, err
	}
	if s.redis, err = startRedis(dir, port); err != nil {
		s.close()
		return nil, err
	}
	if port, err = freePort(); err != nil {
		s.close()
		return nil, err
	}
	s.mongoAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	if err := s.startMongo(); err != nil {
		s.close()
		return nil, err
	}
	s.MongoURI = s.mongo.URI
	s.mongoCli, err = mongo.Connect(options.Client().ApplyURI(s.MongoURI).SetTimeout(10 * time.Second))
	if err != nil {
		s.close()
		return nil, fmt.Errorf("connect mongo: %w", err)
	}
	return s, nil
}

// RedisURL is the URL workers and the reader use.
func (s *servers) RedisURL() string { return "redis://" + s.redis.Addr() }

// DB is LibreChat's database.
func (s *servers) DB() *mongo.Database { return s.mongoCli.Database("LibreChat") }

func (s *servers) startMongo() error {
	s.mongoMu.Lock()
	defer s.mongoMu.Unlock()
	m, err := devstack.StartMongo(devstack.MongoOptions{Dir: s.mongoDir, Addr: s.mongoAddr})
	if err != nil {
		return err
	}
	s.mongo = m
	return waitListening(s.mongoAddr, 10*time.Second)
}

func (s *servers) stopMongo() {
	s.mongoMu.Lock()
	defer s.mongoMu.Unlock()
	if s.mongo != nil {
		s.mongo.Close()
		s.mongo = nil
	}
}

func (s *servers) close() {
	if s.mongoCli != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = s.mongoCli.Disconnect(ctx)
		cancel()
	}
	s.stopMongo()
	if s.redis != nil {
		s.redis.kill()
	}
	if s.nats != nil {
		s.nats.Shutdown()
	}
}
