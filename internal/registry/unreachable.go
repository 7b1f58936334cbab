package registry

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"

	"github.com/redis/go-redis/v9"
)

// notServingPrefixes are the Redis replies that mean "this server does not
// serve writes now": a replica loading its data, a replica promoted or not
// yet (failover), a cluster without a quorum, a server out of memory (OOM:
// maxmemory reached under the noeviction policy the worker asks for; every
// write is refused until memory is freed, whatever the event), a server that
// cannot persist (MISCONF: a failed snapshot under stop-writes-on-bgsave-error
// or an AOF write error; every write is refused until the disk serves).
// Script errors, WRONGTYPE and the other replies are the command's own
// failure.
var notServingPrefixes = []string{"LOADING ", "READONLY ", "MASTERDOWN ", "CLUSTERDOWN ", "NOREPLICAS ", "OOM ", "MISCONF "}

// Unreachable reports whether err (from go-redis or redsync over it) means
// Redis could not be reached: a connection refused, reset or timed out, the
// connection pool timing out, or a not-serving reply (notServingPrefixes,
// out of memory included).
// A context cancellation or deadline is the caller's, never Redis's; a
// closed client is shutdown. handlers wraps such errors as
// events.Unavailable(events.DepRedis, err).
func Unreachable(err error) bool {
	switch {
	case err == nil,
		errors.Is(err, context.Canceled),
		errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, redis.ErrClosed):
		return false
	case errors.Is(err, io.EOF),
		errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, redis.ErrPoolTimeout),
		errors.Is(err, redis.ErrPoolExhausted):
		return true
	}
	if rerr, ok := errors.AsType[redis.Error](err); ok {
		msg := rerr.Error()
		for _, p := range notServingPrefixes {
			if strings.HasPrefix(msg, p) {
				return true
			}
		}
		return false
	}
	if _, ok := errors.AsType[*net.OpError](err); ok {
		return true
	}
	netErr, ok := errors.AsType[net.Error](err)
	return ok && netErr.Timeout()
}
