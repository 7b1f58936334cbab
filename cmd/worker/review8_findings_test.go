package main

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcp-registry/worker/internal/registry"
)

// Review 8, finding 1: parking reorders unversioned server events. Without
// `version` an event's version is its stream sequence (docs/events.md); a
// parked event is published back as a new message, with a new, higher
// sequence, so it comes back *newer* than every event published while it
// was parked. Here a server.created without dbId needs MongoDB (writeValue
// looks the server's id up) and is parked during a MongoDB outage; the
// server.deleted published after it needs no MongoDB and is applied. When
// MongoDB serves, the created comes back with a sequence above the delete's
// and resurrects the deleted server: its owner (a loaded user) is given it
// again. In stream order the server is deleted.
func TestReview8ParkedUnversionedEventOutlivesALaterDelete(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the worker binary through a MongoDB outage")
	}
	t.Parallel()
	r := newOutageRig(t, "review8-park:")
	users := r.users(1)
	alice := users[0]
	publishLogins(r.ctx, t, r.nats.JS, "before", users)
	waitUntil(t, 60*time.Second, "alice loaded", func() bool { return r.holdTool("https://outage-1", alice) }, r.proc)

	const ghost = "ghost-tool"
	r.mongo.Stop()
	// Unversioned (version = stream sequence), no dbId: the flow looks the
	// server up in MongoDB, which is down: held, then parked.
	publish(t, r.nats.JS, "mcp.server.created",
		fmt.Sprintf(`{"serverName":%q,"userId":%q,"config":{"url":"https://ghost"}}`, ghost, alice))
	waitUntil(t, 60*time.Second, "the created event is parked",
		func() bool { return r.metric(`mcp_worker_parked_total{dependency="mongodb"}`) == "1" }, r.proc)

	// Published after it, also unversioned: a delete needs no MongoDB.
	publish(t, r.nats.JS, "mcp.server.deleted", fmt.Sprintf(`{"serverName":%q}`, ghost))
	waitUntil(t, 30*time.Second, "the delete is applied during the outage", func() bool {
		rec, err := r.reg.Record(r.ctx, ghost)
		return err == nil && rec.Scope == registry.ScopeDeleted
	}, r.proc)

	r.mongo.Start(t)
	waitUntil(t, 60*time.Second, "the parked event is published back and handled", func() bool {
		return r.metric(`mcp_worker_unparked_total{dependency="mongodb"}`) == "1" && settled(r.nats.JS, r.cfg)
	}, r.proc)

	rec, err := r.reg.Record(r.ctx, ghost)
	require.NoError(t, err)
	assert.Equal(t, registry.ScopeDeleted, rec.Scope,
		"the server deleted after it was created stays deleted (stream order), whatever the parking did")
	_, held, err := r.reg.Lookup(r.ctx, alice, ghost)
	require.NoError(t, err)
	assert.False(t, held, "alice must not be given back a server deleted after it was created")
}
