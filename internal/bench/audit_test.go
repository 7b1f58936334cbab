package bench

import (
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/mcp-registry/worker/internal/events"
	"github.com/mcp-registry/worker/internal/handlers"
	"github.com/mcp-registry/worker/internal/lockstatus"
)

// auditTrail is the world's flows with the audit trail on, as `worker run`
// wires it: an events.AuditPublisher on the provisioned audit stream of a
// nats-server in its own process.
type auditTrail struct {
	flows  map[events.Kind]events.Handler
	js     jetstream.JetStream
	stream string
}

func newAuditTrail(tb testing.TB, w *world) *auditTrail {
	tb.Helper()
	server := startNATSProcess(tb)
	nc, err := nats.Connect(server.URL, nats.MaxReconnects(-1))
	if err != nil {
		tb.Fatalf("connect nats: %v", err)
	}
	tb.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		tb.Fatal(err)
	}
	cfg := events.DefaultConfig()
	if err := events.Provision(tb.Context(), js, cfg); err != nil {
		tb.Fatalf("provision: %v", err)
	}
	flows := handlers.Map(handlers.Params{
		Registry: w.reg, Locks: lockstatus.New(w.rdb, lockstatus.DefaultConfig()), Source: w.source,
		Audit: events.NewAuditPublisher(js, cfg, "bench"),
	})
	return &auditTrail{flows: flows, js: js, stream: cfg.AuditStream}
}

// records is how many records the audit stream holds.
func (a *auditTrail) records(tb testing.TB) int64 {
	tb.Helper()
	st, err := a.js.Stream(tb.Context(), a.stream)
	if err != nil {
		tb.Fatalf("audit stream: %v", err)
	}
	return int64(st.CachedInfo().State.Msgs)
}
