package handlers_test

import (
	"encoding/json"
	"errors"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mcp-registry/worker/internal/events"
	"github.com/mcp-registry/worker/internal/handlers"
	"github.com/mcp-registry/worker/internal/lockstatus"
	"github.com/mcp-registry/worker/internal/registry"
)

// world is a registry under a key prefix of its own with the flows wired to
// it, sharing the env's Redis and MongoDB.
type world struct {
	e     *env
	reg   *registry.Registry
	flows map[events.Kind]events.Handler
}

func (e *env) mainWorld() world { return world{e: e, reg: e.reg, flows: e.flows} }

// newWorldWith returns a world whose logins read source.
func (e *env) newWorldWith(name string, source handlers.ServerSource) world {
	cfg := registry.DefaultConfig()
	cfg.KeyPrefix = e.prefix + name + ":" // under the test's prefix, so cleanup finds it
	reg := registry.New(e.rdb, cfg)
	locks := lockstatus.New(e.rdb, lockstatus.Config{TTL: 2 * time.Second, WaitTries: 100, RetryDelay: 20 * time.Millisecond})
	flows := handlers.Map(handlers.Params{
		Registry: reg, Locks: locks, Source: source, IDs: e.store,
		Config: handlers.Config{LoginRetryDelay: 20 * time.Millisecond},
	})
	return world{e: e, reg: reg, flows: flows}
}

// apply runs one event through the world's flow, retrying busy results;
// a skip (duplicate or stale) is not an error.
func (w world) apply(ev events.Event) error {
	w.e.t.Helper()
	for {
		err := w.flows[ev.Kind].Handle(w.e.ctx, ev)
		var busy *events.BusyError
		if errors.As(err, &busy) {
			time.Sleep(busy.After)
			continue
		}
		if errors.Is(err, events.ErrSkip) {
			return nil
		}
		return err
	}
}

func (w world) must(ev events.Event) {
	w.e.t.Helper()
	require.NoError(w.e.t, w.apply(ev))
}

func (w world) login(user string) {
	w.e.t.Helper()
	require.NoError(w.e.t, w.apply(events.Event{Kind: events.KindUserLogin, UserID: user}))
}

func (w world) view(user string) registry.UserView {
	w.e.t.Helper()
	v, err := w.reg.User(w.e.ctx, user)
	require.NoError(w.e.t, err)
	return v
}

// private returns the user's cached value of server (nil when absent).
func (w world) private(user, server string) json.RawMessage {
	return w.view(user).Private[server]
}

func (w world) serverView(name string) registry.ServerView {
	w.e.t.Helper()
	v, err := w.reg.Server(w.e.ctx, name)
	require.NoError(w.e.t, err)
	return v
}

// Event builders.
func cfg(url string, extra ...any) json.RawMessage {
	m := map[string]any{"url": url}
	for i := 0; i+1 < len(extra); i += 2 {
		m[extra[i].(string)] = extra[i+1]
	}
	b, _ := json.Marshal(m)
	return b
}

func created(server, user string, config json.RawMessage, v int64) events.Event {
	return events.Event{Kind: events.KindServerCreated, ServerName: server, UserID: user, Config: config, Version: v, UpdatedAtMs: v}
}

func updated(server string, config json.RawMessage, v int64) events.Event {
	return events.Event{Kind: events.KindServerUpdated, ServerName: server, Config: config, Version: v, UpdatedAtMs: v}
}

func access(server string, config json.RawMessage, v int64, users ...string) events.Event {
	return events.Event{Kind: events.KindServerAccess, ServerName: server, Config: config, Version: v, UpdatedAtMs: v, AllowedUserIDs: users}
}

func shared(server string, config json.RawMessage, v int64) events.Event {
	return events.Event{Kind: events.KindServerShared, ServerName: server, Config: config, Version: v, UpdatedAtMs: v}
}

func unshared(server string, config json.RawMessage, v int64, users ...string) events.Event {
	return events.Event{Kind: events.KindServerUnshared, ServerName: server, Config: config, Version: v, UpdatedAtMs: v, AllowedUserIDs: users}
}

func deleted(server string, v int64) events.Event {
	return events.Event{Kind: events.KindServerDeleted, ServerName: server, Version: v}
}

func loginEvent(user string) events.Event {
	return events.Event{Kind: events.KindUserLogin, UserID: user}
}
