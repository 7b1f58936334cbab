package bench

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/mcp-registry/worker/internal/events"
	"github.com/mcp-registry/worker/internal/registry"
	"github.com/mcp-registry/worker/internal/serverdb"
)

// holderCounts are the numbers of users holding the updated server (target 1).
var holderCounts = []int{1, 10_000, 1_000_000}

const (
	// bulkFrom: from this many holders on, their membership (layout 2) and
	// their keys (reference) are written by pipelined bulk writes, not logins.
	bulkFrom          = 100_000
	updateSamples     = 11 // layout-2 updates per holder count (median reported)
	refUpdateSamplesS = 11 // reference updates for small counts
	refUpdateSamplesL = 5  // ... for 10,000 holders
	refUpdateSamples1 = 1  // ... for 1,000,000 holders (about 2 s each)
	refVerifySample   = 10_000
	updateTargetMs    = 2.0
	update10kSpeedup  = 20.0
)

// updateCase is what target 1 and 4 measured for one holder count.
type updateCase struct {
	holders int
	bulk    bool
	// layout 2: server.updated (updateSamples of them) and one server.deleted.
	upd       []measured
	del       measured
	verified  int
	refUpd    []measured
	refWrites int
}

func (c updateCase) medianUpdate() time.Duration    { return medianElapsed(c.upd) }
func (c updateCase) medianRefUpdate() time.Duration { return medianElapsed(c.refUpd) }

func medianElapsed(ms []measured) time.Duration {
	d := make([]time.Duration, len(ms))
	for i, m := range ms {
		d[i] = m.elapsed
	}
	return percentiles(d, 0.5)[0]
}

// spread returns the lowest and highest of f over ms.
func spread(ms []measured, f func(measured) int64) (lo, hi int64) {
	for i, m := range ms {
		v := f(m)
		if i == 0 || v < lo {
			lo = v
		}
		if i == 0 || v > hi {
			hi = v
		}
	}
	return lo, hi
}

func rangeText(lo, hi int64) string {
	if lo == hi {
		return num(lo)
	}
	return num(lo) + "–" + num(hi)
}

// measureUpdates runs target 1 (and gives target 4 its 10,000-holder case):
// for each holder count, layout-2 server.updated events alternated with the
// reference's SET-per-holder update of the same server on the same
// redis-server, then one server.deleted.
func measureUpdates(b *testing.B) ([]updateCase, *table) {
	ctx := b.Context()
	w := newWorld(b)
	warmUpServerFlows(ctx, b, w)
	ref := newReference(b, w)
	warmUpReference(ctx, b, w, ref)

	var cases []updateCase
	for _, u := range holderCounts {
		cases = append(cases, measureUpdateCase(ctx, b, w, ref, u))
	}

	t := &table{
		title: fmt.Sprintf("Targets 1 and 4: one server's update and delete reaching U holders, layout 2 against the reference's SET per holder, same redis-server; load average %s", loadAvg()),
		header: []string{
			"U holders", "holders made by", "update round trips", "update commands", "update Redis cmds", "update median ms",
			"delete round trips", "delete Redis cmds", "delete ms", "reference Redis cmds/update", "reference median ms", "reference / layout 2 time",
		},
	}
	for _, c := range cases {
		rtLo, rtHi := spread(c.upd, func(m measured) int64 { return m.RoundTrips })
		cmLo, cmHi := spread(c.upd, func(m measured) int64 { return m.Commands })
		rcLo, rcHi := spread(c.upd, func(m measured) int64 { return m.redisCmds })
		refLo, refHi := spread(c.refUpd, func(m measured) int64 { return m.redisCmds })
		how := "cold logins"
		if c.bulk {
			how = "bulk write"
		}
		t.row(num(int64(c.holders)), how, rangeText(rtLo, rtHi), rangeText(cmLo, cmHi), rangeText(rcLo, rcHi), ms(c.medianUpdate()),
			num(c.del.RoundTrips), num(c.del.redisCmds), ms(c.del.elapsed),
			rangeText(refLo, refHi), ms(c.medianRefUpdate()),
			fmt.Sprintf("%.1fx", float64(c.medianRefUpdate())/float64(c.medianUpdate())))
	}
	t.note("Layout 2: %d server.updated events per U (median time; the ranges are over all of them) and one server.deleted (one measurement). Reference: %d updates for U = 1, %d for 10,000, %d for 1,000,000, alternated with layout 2's. Round trips and commands: hook on each side's client; Redis cmds: INFO commandstats, Lua included.",
		updateSamples, refUpdateSamplesS, refUpdateSamplesL, refUpdateSamples1)
	t.note("U = 1 and 10,000: the holders are made by cold logins (layout-2 flow and reference loader). U = 1,000,000: one cold login each, then the other holders by pipelined bulk writes that leave what a login leaves (layout 2: members hash with the loaded mark and TTL, holder-index entry; reference: value key with TTL, flag, holder-set member), to keep the run short.")
	t.note("Verified: after the updates every layout-2 holder is a member and the server's one value is the last update's (all U users read); every reference SET found its key (reply count) and the keys of up to %s holders hold the last value; after the delete the server has no value and Lookup shows it to no one.", num(refVerifySample))
	for _, c := range cases {
		t.note("Layout-2 Redis commands per update, U = %s: %s; per delete: %s", num(int64(c.holders)), breakdown(c.upd[len(c.upd)-1].stats, 1), breakdown(c.del.stats, 1))
	}
	return cases, t
}

// warmUpReference runs one reference login and update, so that its
// connections are open.
func warmUpReference(ctx context.Context, tb testing.TB, w *world, ref *reference) {
	tb.Helper()
	user, name := userID("refwarm", 0), "ref-warm-up"
	srv := serverOf(name, 0, baseUpdatedAt)
	w.source.set(user, append(w.source.get(user), srv))
	if err := ref.login(ctx, user); err != nil {
		tb.Fatalf("reference warm-up login: %v", err)
	}
	if _, err := ref.update(ctx, name, []byte(`{}`)); err != nil {
		tb.Fatalf("reference warm-up update: %v", err)
	}
}

func measureUpdateCase(ctx context.Context, b *testing.B, w *world, ref *reference, u int) updateCase {
	name := fmt.Sprintf("holders-%d", u)
	srv := serverOf(name, u, baseUpdatedAt)
	srv.Config = config300(name, 0)
	set := fmt.Sprintf("h%d-", u)
	c := updateCase{holders: u, bulk: u >= bulkFrom}
	var users []string
	if !c.bulk {
		users = cacheServer(ctx, b, w, set, u, &srv)
		if _, err := runConcurrent(ctx, users, loginConcurrency, ref.login); err != nil {
			b.Fatalf("reference logins: %v", err)
		}
	} else {
		users = make([]string, u)
		for i := range users {
			users[i] = userID(set, i)
		}
		w.source.set(users[0], []serverdb.Server{srv})
		if err := w.login(ctx, users[0]); err != nil {
			b.Fatal(err)
		}
		if err := ref.login(ctx, users[0]); err != nil {
			b.Fatal(err)
		}
		rev, err := w.admin.HGet(ctx, w.reg.Keys().ServerRecord(name), "rev").Int64()
		if err != nil && !errors.Is(err, redis.Nil) {
			b.Fatal(err)
		}
		bulkMembers(ctx, b, w, users[1:], name, rev)
		ref.bulkHolders(ctx, b, users[1:], name, value(b, srv, srv.Config, baseUpdatedAt))
	}
	if n := countValues(ctx, b, w, users, name, value(b, srv, srv.Config, baseUpdatedAt)); n != u {
		b.Fatalf("U=%d: %d users hold the server before the updates", u, n)
	}
	refSamples := refUpdateSamplesS
	switch {
	case u >= bulkFrom:
		refSamples = refUpdateSamples1
	case u >= 10_000:
		refSamples = refUpdateSamplesL
	}
	version := baseUpdatedAt
	var lastRef []byte
	for s := range updateSamples {
		version++
		config := config300(name, s+1)
		ev := events.Event{Kind: events.KindServerUpdated, ServerName: name, Config: config, Version: version, UpdatedAtMs: version}
		m := w.measure(ctx, b, func() error { return w.handle(ctx, ev) })
		noScan(b, m.stats, "update")
		c.upd = append(c.upd, m)
		if s < refSamples {
			lastRef = value(b, srv, config, version)
			mr := w.measureOn(ctx, b, ref.hook, func() (err error) {
				c.refWrites, err = ref.update(ctx, name, lastRef)
				return err
			})
			if c.refWrites != u {
				b.Fatalf("U=%d: the reference update wrote %d keys", u, c.refWrites)
			}
			c.refUpd = append(c.refUpd, mr)
		}
	}
	c.verified = countValues(ctx, b, w, users, name, value(b, srv, config300(name, updateSamples), version))
	if c.verified != u {
		b.Fatalf("U=%d: %d users hold the last update", u, c.verified)
	}
	sample := users[:min(len(users), refVerifySample)]
	if n := countRefValues(ctx, b, ref, sample, name, lastRef); n != len(sample) {
		b.Fatalf("U=%d: %d of %d reference keys hold the last update", u, n, len(sample))
	}

	version++
	del := events.Event{Kind: events.KindServerDeleted, ServerName: name, Version: version, UpdatedAtMs: version}
	c.del = w.measure(ctx, b, func() error { return w.handle(ctx, del) })
	noScan(b, c.del.stats, "delete")
	if n := w.admin.Exists(ctx, w.reg.Keys().ServerValue(name)).Val(); n != 0 {
		b.Fatalf("U=%d: the deleted server still has a value", u)
	}
	for _, user := range []string{users[0], users[len(users)-1]} {
		if _, found, err := w.reg.Lookup(ctx, user, name); err != nil || found {
			b.Fatalf("U=%d: %s still sees the deleted server (err %v)", u, user, err)
		}
	}
	return c
}

// bulkMembers makes users holders of server at record revision rev in
// layout 2, writing what a cold login leaves (members hash with the loaded
// mark and the cache TTL; holder-index entry) by pipelined writes.
func bulkMembers(ctx context.Context, tb testing.TB, w *world, users []string, server string, rev int64) {
	tb.Helper()
	k := w.reg.Keys()
	ttl := registry.DefaultConfig().CacheTTL
	now := time.Now().UnixMilli()
	for chunk := range slices.Chunk(users, 10_000) {
		_, err := w.admin.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, u := range chunk {
				p.HSet(ctx, k.UserMembers(u), registry.LoadedField, now, server, rev)
				p.PExpire(ctx, k.UserMembers(u), ttl)
				p.HSet(ctx, k.ServerHolders(server, registry.HolderBucket(u)), u, "1")
			}
			return nil
		})
		if err != nil {
			tb.Fatalf("bulk members: %v", err)
		}
	}
}
