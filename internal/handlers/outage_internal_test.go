package handlers

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/topology"

	"github.com/mcp-registry/worker/internal/events"
	"github.com/mcp-registry/worker/internal/serverdb"
)

// fakeMongo answers every call with err, counting the calls; its
// streaming calls first hand fn one chunk.
type fakeMongo struct {
	err   error
	calls int
}

func (f *fakeMongo) AccessibleServers(context.Context, string) ([]serverdb.Server, error) {
	f.calls++
	return nil, f.err
}

func (f *fakeMongo) UserTenant(context.Context, string) (string, error) { f.calls++; return "", f.err }

func (f *fakeMongo) ServerID(context.Context, string, string) (string, bool, error) {
	f.calls++
	return "", false, f.err
}

func (f *fakeMongo) AllowedUsers(_ context.Context, _, _ string, fn func([]string) error) (bool, error) {
	f.calls++
	if err := fn([]string{"u1"}); err != nil {
		return false, fmt.Errorf("allowed users: %w", err)
	}
	return false, f.err
}

func (f *fakeMongo) GroupMembers(_ context.Context, _, _ string, fn func([]string) error) error {
	f.calls++
	if err := fn([]string{"u1"}); err != nil {
		return fmt.Errorf("group members: %w", err)
	}
	return f.err
}

func (f *fakeMongo) GroupServers(context.Context, string, string) ([]string, error) {
	f.calls++
	return nil, f.err
}

// gateFunc is a Gate.
type gateFunc func(events.Dependency) error

func (g gateFunc) Check(dep events.Dependency) error { return g(dep) }

func isDep(err error, dep events.Dependency) bool {
	de, ok := errors.AsType[*events.DependencyError](err)
	return ok && de.Dep == dep
}

func TestGatedSourcesClassifyMongoErrors(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	selection := fmt.Errorf("find user: %w", topology.ServerSelectionError{Wrapped: errors.New("server selection timeout")})
	f := &fakeMongo{err: selection}
	p := gateSources(Params{Source: f, IDs: f, Access: f})
	_, err := p.Source.AccessibleServers(ctx, "u1")
	assert.True(t, isDep(err, events.DepMongoDB), "%v", err)
	_, err = p.Source.(TenantSource).UserTenant(ctx, "u1")
	assert.True(t, isDep(err, events.DepMongoDB), "%v", err)
	_, _, err = p.IDs.ServerID(ctx, "", "s")
	assert.True(t, isDep(err, events.DepMongoDB), "%v", err)
	_, err = p.Access.AllowedUsers(ctx, "", "s", func([]string) error { return nil })
	assert.True(t, isDep(err, events.DepMongoDB), "%v", err)
	err = p.Access.GroupMembers(ctx, "", "g", func([]string) error { return nil })
	assert.True(t, isDep(err, events.DepMongoDB), "%v", err)
	_, err = p.Access.GroupServers(ctx, "", "g")
	assert.True(t, isDep(err, events.DepMongoDB), "%v", err)

	// The data's own errors, and a callback's (Redis) error, are not MongoDB's.
	f.err = fmt.Errorf("tenant: %w", serverdb.ErrNoTenant)
	_, err = p.Source.(TenantSource).UserTenant(ctx, "u1")
	assert.ErrorIs(t, err, serverdb.ErrNoTenant)
	assert.False(t, isDep(err, events.DepMongoDB))
	redisTimeout := &net.OpError{Op: "read", Net: "tcp", Err: timeoutErr{}}
	_, err = p.Access.AllowedUsers(ctx, "", "s", func([]string) error { return redisTimeout })
	assert.ErrorIs(t, err, redisTimeout)
	assert.False(t, isDep(err, events.DepMongoDB), "a network timeout of the callback is Redis's: %v", err)
	err = p.Access.GroupMembers(ctx, "", "g", func([]string) error { return redisTimeout })
	assert.False(t, isDep(err, events.DepMongoDB), "%v", err)

	// A source that cannot tell tenants still cannot.
	only := gateSources(Params{Source: sourceOnly{f}}).Source.(TenantSource)
	tenant, err := only.UserTenant(ctx, "u1")
	assert.NoError(t, err)
	assert.Empty(t, tenant)
}

type sourceOnly struct{ s ServerSource }

func (s sourceOnly) AccessibleServers(ctx context.Context, u string) ([]serverdb.Server, error) {
	return s.s.AccessibleServers(ctx, u)
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestGateRefusesMongoCallsAtOnce(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	f := &fakeMongo{}
	down := gateFunc(func(dep events.Dependency) error {
		if dep == events.DepMongoDB {
			return events.Unavailable(dep, events.ErrPaused)
		}
		return nil
	})
	p := gateSources(Params{Source: f, IDs: f, Access: f, Gate: down})
	_, err := p.Source.AccessibleServers(ctx, "u1")
	assert.ErrorIs(t, err, events.ErrPaused)
	_, err = p.Source.(TenantSource).UserTenant(ctx, "u1")
	assert.ErrorIs(t, err, events.ErrPaused)
	_, _, err = p.IDs.ServerID(ctx, "", "s")
	assert.ErrorIs(t, err, events.ErrPaused)
	_, err = p.Access.AllowedUsers(ctx, "", "s", func([]string) error { return nil })
	assert.ErrorIs(t, err, events.ErrPaused)
	assert.ErrorIs(t, p.Access.GroupMembers(ctx, "", "g", func([]string) error { return nil }), events.ErrPaused)
	_, err = p.Access.GroupServers(ctx, "", "g")
	assert.ErrorIs(t, err, events.ErrPaused)
	assert.Zero(t, f.calls, "MongoDB was not called")

	nilIDs := gateSources(Params{Source: f})
	assert.Nil(t, nilIDs.IDs)
	assert.Nil(t, nilIDs.Access)
}

func TestClassifiedFlowNamesRedis(t *testing.T) {
	t.Parallel()
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
	mongoDown := events.Unavailable(events.DepMongoDB, errors.New("server selection timeout"))
	tests := []struct {
		name string
		err  error
		dep  events.Dependency // "" : returned as it is
	}{
		{"nil", nil, ""},
		{"redis refused", fmt.Errorf("login u1: %w", refused), events.DepRedis},
		{"mongodb stays mongodb", fmt.Errorf("login u1: %w", mongoDown), events.DepMongoDB},
		{"permanent", events.Permanentf("bad"), ""},
		{"busy", events.Busy(0, "locked"), ""},
		{"script error", errors.New("ERR user_script:1: boom"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := classified{h: events.HandlerFunc(func(context.Context, events.Event) error { return tt.err })}
			err := h.Handle(t.Context(), events.Event{})
			if tt.dep == "" {
				assert.Equal(t, tt.err, err)
				return
			}
			require.True(t, isDep(err, tt.dep), "%v", err)
			assert.ErrorIs(t, err, errors.Unwrap(tt.err))
		})
	}
	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	h := classified{h: events.HandlerFunc(func(context.Context, events.Event) error { return refused })}
	assert.Equal(t, error(refused), h.Handle(cancelled, events.Event{}), "after the handler's context ended: not classified")
}
