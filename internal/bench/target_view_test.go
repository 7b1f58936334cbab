package bench

import (
	"fmt"
	"testing"
	"time"

	"github.com/mcp-registry/worker/internal/events"
	"github.com/mcp-registry/worker/internal/registry"
	"github.com/mcp-registry/worker/internal/serverdb"
)

const (
	viewPrivate  = 20
	viewShared   = 10
	viewReads    = 200
	viewTargetRT = 2
)

// viewFigures is target 6: one user's effective view read by registry.User.
type viewFigures struct {
	m         measured // over viewReads reads
	median    time.Duration
	private   int
	shared    int
	effective int
}

// measureView runs target 6: a user logged in with 20 private servers, 10
// servers shared (server.shared events: 5 in the app tier, 5 in the user
// tier), then registry.Registry.User read viewReads times.
func measureView(b *testing.B) (viewFigures, *table) {
	ctx := b.Context()
	w := newWorld(b)
	warmUpServerFlows(ctx, b, w)
	user := userID("view", 0)
	private := make([]serverdb.Server, viewPrivate)
	for i := range private {
		private[i] = serverOf(fmt.Sprintf("view-private-%02d", i), i, baseUpdatedAt)
	}
	w.source.set(user, private)
	if err := w.login(ctx, user); err != nil {
		b.Fatal(err)
	}
	for i := range viewShared {
		name := fmt.Sprintf("view-shared-%02d", i)
		config := configJSON(name, 1)
		if i%2 == 1 {
			config = append(config[:len(config)-1:len(config)-1], `,"requiresOAuth":true}`...)
		}
		ev := events.Event{Kind: events.KindServerShared, ServerName: name, Config: config, Version: baseUpdatedAt + 1, UpdatedAtMs: baseUpdatedAt + 1}
		if err := w.handle(ctx, ev); err != nil {
			b.Fatal(err)
		}
	}
	var f viewFigures
	var v registry.UserView
	lat := make([]time.Duration, 0, viewReads)
	f.m = w.measure(ctx, b, func() error {
		for range viewReads {
			t0 := time.Now()
			var err error
			if v, err = w.reg.User(ctx, user); err != nil {
				return err
			}
			lat = append(lat, time.Since(t0))
		}
		return nil
	})
	f.median = percentiles(lat, 0.5)[0]
	f.private, f.effective = len(v.Private), len(v.Effective)
	for _, e := range v.Effective {
		if e.Tier != registry.TierPrivate {
			f.shared++
		}
	}
	if f.private != viewPrivate || f.shared != viewShared || f.effective != viewPrivate+viewShared {
		b.Fatalf("view of %s: %d private, %d shared, %d effective; want %d, %d, %d", user, f.private, f.shared, f.effective, viewPrivate, viewShared, viewPrivate+viewShared)
	}
	t := &table{
		title:  fmt.Sprintf("Target 6: a user's effective view (registry.Registry.User), %d private + %d shared servers, %d reads; load average %s", viewPrivate, viewShared, viewReads, loadAvg()),
		header: []string{"servers in view", "round trips/read", "commands/read", "Redis cmds/read", "median µs", "target", "met"},
	}
	t.row(num(int64(f.effective)), per(f.m.RoundTrips, viewReads), per(f.m.Commands, viewReads), per(f.m.redisCmds, viewReads),
		fmt.Sprintf("%.0f", float64(f.median)/float64(time.Microsecond)), fmt.Sprintf("<= %d round trips", viewTargetRT),
		yesNo(f.m.RoundTrips <= viewTargetRT*viewReads))
	t.note("Redis commands per read: %s. Verified: the view holds the %d private servers and the %d shared ones (tier app or user).",
		breakdown(f.m.stats, viewReads), viewPrivate, viewShared)
	return f, t
}
