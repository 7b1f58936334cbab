package devstack

import (
	"fmt"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// NATSOptions configures an embedded NATS server with JetStream.
type NATSOptions struct {
	// StoreDir holds JetStream's files. Required.
	StoreDir string
	// Host and Port to listen on; Port -1 picks a free port, and
	// InProcessOnly skips the TCP listener altogether.
	Host          string
	Port          int
	InProcessOnly bool
}

// StartNATS starts an embedded nats-server with JetStream and waits until it
// accepts connections. The caller shuts it down with Shutdown and WaitForShutdown.
func StartNATS(o NATSOptions) (*server.Server, error) {
	opts := &server.Options{
		ServerName: "devstack",
		Host:       o.Host,
		Port:       o.Port,
		DontListen: o.InProcessOnly,
		JetStream:  true,
		StoreDir:   o.StoreDir,
		NoSigs:     true,
		NoLog:      true,
	}
	if opts.Host == "" {
		opts.Host = "127.0.0.1"
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("nats server: %w", err)
	}
	ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		ns.Shutdown()
		return nil, fmt.Errorf("nats server on %s:%d: not ready after 10s", opts.Host, opts.Port)
	}
	return ns, nil
}
