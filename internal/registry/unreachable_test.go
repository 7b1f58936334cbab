package registry_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"github.com/go-redsync/redsync/v4"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcp-registry/worker/internal/registry"
	"github.com/mcp-registry/worker/internal/testenv"
)

// redisReply is a reply error as go-redis returns it (a redis.Error).
type redisReply string

func (e redisReply) Error() string { return string(e) }
func (redisReply) RedisError()     {}

func TestUnreachable(t *testing.T) {
	t.Parallel()
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")}
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"connection refused", fmt.Errorf("login u1: %w", refused), true},
		{"reset mid-reply", io.ErrUnexpectedEOF, true},
		{"closed by the server", io.EOF, true},
		{"pool timeout", redis.ErrPoolTimeout, true},
		{"through redsync", fmt.Errorf("lock k: %w", errors.Join(&redsync.RedisError{Node: 0, Err: refused})), true},
		{"loading", redisReply("LOADING Redis is loading the dataset in memory"), true},
		{"replica after a failover", redisReply("READONLY You can't write against a read only replica."), true},
		{"cluster down", redisReply("CLUSTERDOWN The cluster is down"), true},
		{"script error", redisReply("ERR user_script:1: Script attempted to access nonexistent global variable"), false},
		{"wrong type", redisReply("WRONGTYPE Operation against a key holding the wrong kind of value"), false},
		{"out of memory", redisReply("OOM command not allowed when used memory > 'maxmemory'."), true},
		{"out of memory in a script", fmt.Errorf("lock k: %w", errors.Join(&redsync.RedisError{Node: 0, Err: redisReply("OOM command not allowed when used memory > 'maxmemory'. script: 6dee, on @user_script:1.")})), true},
		{"fenced write", registry.ErrFenced, false},
		{"handler deadline", fmt.Errorf("load: %w", context.DeadlineExceeded), false},
		{"cancelled", context.Canceled, false},
		{"client closed at shutdown", redis.ErrClosed, false},
		{"plain", errors.New("no such user"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, registry.Unreachable(tt.err))
		})
	}
}

// TestIntegrationUnreachable checks real go-redis errors: a server that is
// not there, and a script error of a live one.
func TestIntegrationUnreachable(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	gone := redis.NewClient(&redis.Options{Addr: testenv.FreeAddr(t), MaxRetries: -1, DialTimeout: time.Second})
	t.Cleanup(func() { _ = gone.Close() })
	err := gone.Get(ctx, "k").Err()
	require.Error(t, err)
	assert.True(t, registry.Unreachable(err), "no server: %v", err)

	live, _ := testenv.Redis(t)
	err = live.Eval(ctx, "return redis.error_reply('boom')", nil).Err()
	require.Error(t, err)
	assert.False(t, registry.Unreachable(err), "a script error: %v", err)
	err = live.Eval(ctx, "return nosuchglobal.x", nil).Err()
	require.Error(t, err)
	assert.False(t, registry.Unreachable(err), "a script runtime error: %v", err)
}
