package bench

import (
	"context"
	"net"
	"sync/atomic"

	"github.com/redis/go-redis/v9"
)

// counter is a go-redis hook that counts what the flows send: one round trip
// per command call, one per pipeline, and each command of a pipeline. The
// commands go-redis sends itself when it opens a connection (HELLO, CLIENT
// SETINFO, ...; since v9.23 they pass through the client's hooks) are
// counted apart, as setup.
type counter struct {
	roundTrips atomic.Int64
	commands   atomic.Int64
	setup      atomic.Int64 // round trips of connection setup
	dials      atomic.Int64
}

var _ redis.Hook = (*counter)(nil)

// setupCommand reports a command go-redis sends when it opens a connection;
// no flow sends any of them.
func setupCommand(cmd redis.Cmder) bool {
	switch cmd.Name() {
	case "hello", "client", "auth", "select", "readonly":
		return true
	}
	return false
}

func (c *counter) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c.dials.Add(1)
		return next(ctx, network, addr)
	}
}

func (c *counter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if setupCommand(cmd) {
			c.setup.Add(1)
		} else {
			c.roundTrips.Add(1)
			c.commands.Add(1)
		}
		return next(ctx, cmd)
	}
}

func (c *counter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		var n int64
		for _, cmd := range cmds {
			if !setupCommand(cmd) {
				n++
			}
		}
		if n == 0 && len(cmds) > 0 {
			c.setup.Add(1)
		} else {
			c.roundTrips.Add(1)
			c.commands.Add(n)
		}
		return next(ctx, cmds)
	}
}

// counts is a reading of the counter: flow round trips and commands, and
// the connections opened (with their setup round trips) meanwhile.
type counts struct {
	RoundTrips, Commands int64
	Dials, Setup         int64
}

func (c *counter) read() counts {
	return counts{RoundTrips: c.roundTrips.Load(), Commands: c.commands.Load(), Dials: c.dials.Load(), Setup: c.setup.Load()}
}

func (a counts) sub(b counts) counts {
	return counts{
		RoundTrips: a.RoundTrips - b.RoundTrips, Commands: a.Commands - b.Commands,
		Dials: a.Dials - b.Dials, Setup: a.Setup - b.Setup,
	}
}
