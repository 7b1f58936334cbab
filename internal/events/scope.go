package events

import (
	"context"
	"sync/atomic"
)

// KindNone labels dependency calls made outside any event (start-up checks,
// reconcile passes, metric polls).
const KindNone = "none"

// scopeKey is the context key of the *eventScope of the message being handled.
type scopeKey struct{}

// eventScope is what the consume loop puts in a message's context: the event
// kind (so Redis and MongoDB instrumentation can count calls per kind
// without knowing events) and the fan-out the flow reported.
type eventScope struct {
	kind    string
	granted atomic.Int64
	revoked atomic.Int64
	fanned  atomic.Bool
}

// withScope returns ctx carrying a new scope for an event of kind (a metrics
// label: a known kind or "unknown").
func withScope(ctx context.Context, kind string) (context.Context, *eventScope) {
	s := &eventScope{kind: kind}
	return context.WithValue(ctx, scopeKey{}, s), s
}

// KindLabel returns the metrics label of the event whose handling ctx
// belongs to: its kind, "unknown" for a subject of no known kind, or
// KindNone outside the consume loop. Its values are bounded by the kinds.
func KindLabel(ctx context.Context) string {
	if s, ok := ctx.Value(scopeKey{}).(*eventScope); ok {
		return s.kind
	}
	return KindNone
}

// CountFanout records that the flow handling ctx's event granted a server to
// granted users and revoked it from revoked users (one call per batch; they
// add up). The consume loop observes the totals once per event. Outside the
// consume loop it does nothing.
func CountFanout(ctx context.Context, granted, revoked int) {
	s, ok := ctx.Value(scopeKey{}).(*eventScope)
	if !ok {
		return
	}
	s.fanned.Store(true)
	s.granted.Add(int64(granted))
	s.revoked.Add(int64(revoked))
}
