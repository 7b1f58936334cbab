package bench

import (
	"fmt"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/mcp-registry/worker/internal/events"
	"github.com/mcp-registry/worker/internal/serverdb"
)

const (
	bigFanoutUsers = 100_000
	heapSampleStep = 5 * time.Millisecond
)

// BenchmarkFanout100k loads 100,000 users with zero servers, then measures a
// server.access event granting one server to all of them and a second one
// revoking it from all (empty list): wall time, round trips and the growth of
// the heap in use while each event runs. It fails unless every user got, then
// lost, the server. Run it with -benchtime 1x.
func BenchmarkFanout100k(b *testing.B) {
	var t *table
	for range b.N {
		var f fanoutFigures
		t, f = measureFanout100k(b)
		lastFanout100k.Lock()
		lastFanout100k.f = &f
		lastFanout100k.Unlock()
	}
	t.print(os.Stdout)
}

// fanoutFigures is what target 5 of BenchmarkTargets reads from a
// BenchmarkFanout100k measurement.
type fanoutFigures struct {
	users int64
	steps [2]fanoutStep // grant, revoke
}

type fanoutStep struct {
	label     string
	redisCmds int64
	growth    int64
	elapsed   time.Duration
	breakdown string
}

// lastFanout100k keeps the figures of the last BenchmarkFanout100k run in
// this process, so that BenchmarkTargets (run after it by `make bench`)
// reports them instead of loading 100,000 users a second time.
var lastFanout100k struct {
	sync.Mutex
	f *fanoutFigures
}

// fanout100kFigures returns the figures of the BenchmarkFanout100k run of
// this process, measuring them now when it did not run.
func fanout100kFigures(b *testing.B) (fanoutFigures, bool) {
	lastFanout100k.Lock()
	defer lastFanout100k.Unlock()
	if lastFanout100k.f != nil {
		return *lastFanout100k.f, true
	}
	_, f := measureFanout100k(b)
	lastFanout100k.f = &f
	return f, false
}

func measureFanout100k(b *testing.B) (*table, fanoutFigures) {
	ctx := b.Context()
	w := newWorld(b)
	warmUpServerFlows(ctx, b, w)
	var users []string
	load := w.measure(ctx, b, func() error {
		users = cacheServer(ctx, b, w, "h", bigFanoutUsers, nil)
		return nil
	})
	checkLoaded(ctx, b, w, users, 0)

	name := "granted-to-100k"
	srv := serverdb.Server{Name: name, Config: configJSON(name, 1)}
	grant := events.Event{Kind: events.KindServerAccess, ServerName: name, AllowedUserIDs: users, Config: srv.Config, Version: 1, UpdatedAtMs: 1}
	revoke := events.Event{Kind: events.KindServerAccess, ServerName: name, AllowedUserIDs: []string{}, Config: srv.Config, Version: 2, UpdatedAtMs: 2}
	idBytes := 0
	for _, u := range users {
		idBytes += len(u)
	}

	t := &table{
		title: fmt.Sprintf("BenchmarkFanout100k: server.access to %s loaded users (zero servers each), then revoked from all; load average %s",
			num(bigFanoutUsers), loadAvg()),
		header: []string{"event", "users", "ms", "round trips", "commands", "Redis cmds", "Redis cmds/user", "heap in use before", "peak heap growth", "allocated", "users verified"},
	}
	figs := fanoutFigures{users: bigFanoutUsers}
	// The same two events again with the audit trail on: 100,000 records
	// each, published to a JetStream stream (its own nats-server process).
	audit := newAuditTrail(b, w)
	grantAudited, revokeAudited := grant, revoke
	grantAudited.Version, grantAudited.UpdatedAtMs = 3, 3
	revokeAudited.Version, revokeAudited.UpdatedAtMs = 4, 4
	var plain [2]time.Duration
	var auditedBreakdown []string
	for i, step := range []struct {
		label, key string
		ev         events.Event
		want       []byte
		audited    bool
	}{
		{"grant (100k allowed)", "grant", grant, value(b, srv, srv.Config, grant.Version), false},
		{"revoke (empty list)", "revoke", revoke, nil, false},
		{"grant, audit trail on", "grant_audited", grantAudited, value(b, srv, srv.Config, grantAudited.Version), true},
		{"revoke, audit trail on", "revoke_audited", revokeAudited, nil, true},
	} {
		flows, recordsBefore := w.flows, int64(0)
		if step.audited {
			flows, recordsBefore = audit.flows, audit.records(b)
		}
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		stop := heapPeak(heapSampleStep)
		m := w.measure(ctx, b, func() error { return w.handleWith(ctx, flows, step.ev) })
		peak := stop()
		runtime.ReadMemStats(&after)
		noScan(b, m.stats, step.label)
		verified := countValues(ctx, b, w, users, name, step.want)
		if verified != bigFanoutUsers {
			b.Fatalf("%s: %d of %d users as expected", step.label, verified, bigFanoutUsers)
		}
		label := step.label
		if step.audited {
			records := audit.records(b) - recordsBefore
			if records != bigFanoutUsers {
				b.Fatalf("%s: %d audit records stored, want one per user (%d)", step.label, records, bigFanoutUsers)
			}
			label = fmt.Sprintf("%s (%s records; %.2fx the time without)", step.label, num(records), m.elapsed.Seconds()/plain[i-2].Seconds())
		} else {
			plain[i] = m.elapsed
		}
		growth := int64(peak) - int64(before.HeapInuse)
		if step.audited {
			auditedBreakdown = append(auditedBreakdown, fmt.Sprintf("%s: %s", step.label, breakdown(m.stats, bigFanoutUsers)))
		} else {
			figs.steps[i] = fanoutStep{label: step.label, redisCmds: m.redisCmds, growth: growth, elapsed: m.elapsed, breakdown: breakdown(m.stats, bigFanoutUsers)}
		}
		t.row(label, num(bigFanoutUsers), ms(m.elapsed), num(m.RoundTrips), num(m.Commands), num(m.redisCmds),
			per(m.redisCmds, bigFanoutUsers), mib(int64(before.HeapInuse)), mib(growth), mib(int64(after.TotalAlloc-before.TotalAlloc)), num(int64(verified)))
		b.ReportMetric(float64(m.elapsed.Microseconds())/1000, "ms_"+step.key)
		b.ReportMetric(float64(growth)/(1<<20), "MiB_peak_growth_"+step.key)
	}
	t.note("Audit trail on: the same flows with an events.AuditPublisher (worker run's), each change's record written to its user's outbox by the script that makes it, then published to the audit stream of a nats-server in its own process (file store) and removed once JetStream acknowledged it; the row checks the stream gained one record per user.")
	t.note("Setup (measured for information): %s cold logins of zero-server users, %d goroutines, in %.1f s (%s logins/s, %s round trips/login).",
		num(bigFanoutUsers), loginConcurrency, load.elapsed.Seconds(), num(int64(float64(bigFanoutUsers)/load.elapsed.Seconds())),
		per(load.RoundTrips, bigFanoutUsers))
	t.note("Peak heap growth: highest HeapInuse sampled every %s while the event ran, minus HeapInuse before it (after a GC). The grant event itself holds %s user ids (%s of id bytes, held before the baseline); the fan-out walks the sets %d users at a time, so what it holds does not grow with the users. Allocated: total bytes allocated during the event (mostly garbage).",
		heapSampleStep, num(bigFanoutUsers), mib(int64(idBytes)), 500)
	t.note("Through NATS an allowedUserIds list this long (about %s of JSON) exceeds the default 1 MB max_payload: the event is handed to the flow directly here.",
		mib(int64(idBytes+4*bigFanoutUsers)))
	for _, st := range figs.steps {
		t.note("Redis commands per user, %s: %s", st.label, st.breakdown)
	}
	for _, line := range auditedBreakdown {
		t.note("Redis commands per user, %s", line)
	}
	return t, figs
}
