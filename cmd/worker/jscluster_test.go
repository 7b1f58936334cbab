package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/mcp-registry/worker/internal/devstack"
	"github.com/mcp-registry/worker/internal/events"
	"github.com/mcp-registry/worker/internal/registry"
	"github.com/mcp-registry/worker/internal/testenv"
)

// Issue 11 item 3: two workers on a 3-node JetStream cluster with R3 streams;
// the node leading the stream is killed while events flow. Publishers retry
// with the same Nats-Msg-Id until acknowledged. Afterwards every event is in
// the stream exactly once, every stream sequence was handled, nothing was
// dead-lettered, and Redis holds exactly what a model that applied the
// events in version order says: no member, holder or version more or less.
func TestIntegrationStreamLeaderKilledMidFlow(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a 3-node JetStream cluster and two workers")
	}
	c := testenv.StartJSCluster(t)
	srv, rdb := testenv.StartRedisServer(t)
	m := testenv.StartMongo(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	lc := devstack.LibreChat{DB: m.DB}
	early := seedUsers(ctx, t, lc, 8) // logged in first, then granted servers
	late := seedUsers(ctx, t, lc, 8)  // log in for the first time mid-flow

	cfg := loadTestConfig(t, "--nats-url", c.URLs(), "--redis-url", "redis://"+srv.Addr, "--mongodb-uri", m.URI,
		"--stream-replicas", "3", "--ops-addr", "", "--key-prefix", "lk:", "--concurrency", "4",
		"--lock-ttl", "2s", "--ack-wait", "2s", "--retry-base-delay", "100ms", "--retry-max-delay", "1s",
		"--max-deliver", "50", "--log-level", "info")
	logs := &lockedBuffer{}
	var loads atomic.Int64
	startWorker(t, cfg, logs, &loads)
	startWorker(t, cfg, logs, &loads)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("worker logs:\n%s", logs.String())
		}
	})

	// The publisher is connected to the stream leader, so that it lives
	// through the kill: its connection fails over to another node.
	leader, err := c.WaitStreamLeader(cfg.Stream, 10*time.Second)
	require.NoError(t, err)
	urls := []string{c.URL(leader)}
	for i := range c.Size() {
		if i != leader {
			urls = append(urls, c.URL(i))
		}
	}
	nc, err := nats.Connect(strings.Join(urls, ","), nats.DontRandomize(), nats.MaxReconnects(-1),
		nats.ReconnectWait(50*time.Millisecond))
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	st, err := js.Stream(ctx, cfg.Stream)
	require.NoError(t, err)
	require.Equal(t, 3, st.CachedInfo().Config.Replicas, "the worker provisioned an R3 stream")
	require.Equal(t, c.URL(leader), nc.ConnectedUrl(), "the publisher talks to the leader")
	reg := registry.New(rdb, cfg.registryConfig())

	p := &retryingPublisher{js: js}
	model := newFlowModel(early)
	for _, u := range early {
		p.publish(ctx, t, model.login(u))
	}
	waitUntil(t, 30*time.Second, "the early users are loaded", func() bool {
		for _, u := range early {
			if ok, err := reg.Loaded(ctx, u); err != nil || !ok {
				return false
			}
		}
		return true
	})

	// A steady flow of grants, updates and first logins; the stream leader
	// is killed a third of the way in.
	const total = 240
	rng := rand.New(rand.NewPCG(11, 3))
	var killed string
	for i := range total {
		if i == total/3 {
			leader, err := c.WaitStreamLeader(cfg.Stream, 10*time.Second)
			require.NoError(t, err)
			killed = c.Name(leader)
			c.Kill(leader)
			t.Logf("killed stream leader %s after %d events", killed, i)
		}
		var ev flowEvent
		switch r := rng.IntN(10); {
		case r < 2 && len(model.loggedIn) < len(early)+len(late):
			ev = model.login(late[len(model.loggedIn)-len(early)])
		case r < 6:
			ev = model.grant(rng)
		default:
			ev = model.update(rng)
		}
		p.publish(ctx, t, ev)
		time.Sleep(10 * time.Millisecond)
	}
	next, err := c.WaitStreamLeader(cfg.Stream, 10*time.Second)
	require.NoError(t, err)
	require.NotEqual(t, killed, c.Name(next), "another node leads the stream")
	t.Logf("%d events published, %d publish retries, stream now led by %s", p.sent, p.retries, c.Name(next))

	waitUntil(t, 60*time.Second, "the consumer settles", func() bool { return settled(js, cfg) })

	// Zero loss, no duplicate in the stream, nothing dead-lettered.
	info, err := st.Info(ctx)
	require.NoError(t, err)
	assert.Equal(t, uint64(p.sent), info.State.Msgs, "each event stored once (Nats-Msg-Id dedupe across the failover)")
	requireNoDeadLetters(ctx, t, js, cfg)
	assert.Empty(t, unhandledSeqs(t, logs.String(), info.State.LastSeq), "every stream sequence finished (done or skipped)")

	// Redis is exactly the model: per user, per server.
	for _, u := range model.loggedIn {
		v, err := reg.User(ctx, u)
		require.NoError(t, err)
		assert.True(t, v.Loaded, "user %s loaded", u)
		got := make([]string, 0, len(v.Private))
		for name := range v.Private {
			got = append(got, name)
		}
		slices.Sort(got)
		assert.Equal(t, model.holds(u), got, "user %s holds exactly the model's servers", u)
	}
	for _, s := range model.servers {
		rec, err := reg.Record(ctx, s.name)
		require.NoError(t, err)
		assert.Equal(t, s.accessVersion, rec.AccessVersion, "%s access version", s.name)
		assert.Equal(t, s.version, rec.ConfigVersion, "%s config version", s.name)
		assert.Equal(t, registry.Aspects(0), rec.Fanout, "%s fan-out finished", s.name)
		var conf struct{ Rev int64 }
		require.NoError(t, json.Unmarshal(rec.Config, &conf))
		assert.Equal(t, s.version, conf.Rev, "%s holds the newest config", s.name)
		view, err := reg.Server(ctx, s.name)
		require.NoError(t, err)
		want := append([]string{}, s.allowed...)
		slices.Sort(want)
		assert.Equal(t, want, nonNil(view.CachedFor), "%s is held by exactly its allowed users", s.name)
	}
}

// flowEvent is one event with its Nats-Msg-Id.
type flowEvent struct {
	id, subject, payload string
}

// flowServer is the model of one server: its newest version (every event
// of the server takes the next one) and its newest access event's list.
type flowServer struct {
	name, dbID             string
	version, accessVersion int64
	allowed                []string
}

// flowModel applies the published events in publish order (which is also
// version order per server).
type flowModel struct {
	early    []string
	loggedIn []string
	servers  []*flowServer
	n        int
}

func newFlowModel(early []string) *flowModel {
	m := &flowModel{early: early}
	for i := range 4 {
		m.servers = append(m.servers, &flowServer{name: fmt.Sprintf("lk-tool-%d", i), dbID: bson.NewObjectID().Hex()})
	}
	return m
}

func (m *flowModel) nextID() string {
	m.n++
	return fmt.Sprintf("lk-%d", m.n)
}

func (m *flowModel) login(u string) flowEvent {
	m.loggedIn = append(m.loggedIn, u)
	return flowEvent{m.nextID(), "mcp.user.login", fmt.Sprintf(`{"userId":%q}`, u)}
}

// grant sets a server's allowed list to a random subset of the early users.
func (m *flowModel) grant(rng *rand.Rand) flowEvent {
	s := m.servers[rng.IntN(len(m.servers))]
	s.version++
	s.accessVersion = s.version
	s.allowed = s.allowed[:0]
	for _, u := range m.early {
		if rng.IntN(2) == 0 {
			s.allowed = append(s.allowed, u)
		}
	}
	list, _ := json.Marshal(s.allowed)
	if s.allowed == nil {
		list = []byte("[]")
	}
	return flowEvent{m.nextID(), "mcp.server.access", fmt.Sprintf(
		`{"serverName":%q,"dbId":%q,"allowedUserIds":%s,"config":{"url":"https://%s","rev":%d},"version":%d}`,
		s.name, s.dbID, list, s.name, s.version, s.version)}
}

func (m *flowModel) update(rng *rand.Rand) flowEvent {
	s := m.servers[rng.IntN(len(m.servers))]
	s.version++
	return flowEvent{m.nextID(), "mcp.server.updated", fmt.Sprintf(
		`{"serverName":%q,"dbId":%q,"config":{"url":"https://%s","rev":%d},"version":%d}`,
		s.name, s.dbID, s.name, s.version, s.version)}
}

// holds returns the sorted names of the servers whose list names u.
func (m *flowModel) holds(u string) []string {
	names := []string{}
	for _, s := range m.servers {
		if slices.Contains(s.allowed, u) {
			names = append(names, s.name)
		}
	}
	slices.Sort(names)
	return names
}

// retryingPublisher publishes each event until JetStream acknowledges it,
// with the same Nats-Msg-Id on every try, as a publisher must during a
// leader election.
type retryingPublisher struct {
	js            jetstream.JetStream
	sent, retries int
}

func (p *retryingPublisher) publish(ctx context.Context, t *testing.T, ev flowEvent) {
	t.Helper()
	for {
		msg := nats.NewMsg(ev.subject)
		msg.Data = []byte(ev.payload)
		msg.Header.Set(nats.MsgIdHdr, ev.id)
		pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		_, err := p.js.PublishMsg(pctx, msg)
		cancel()
		if err == nil {
			p.sent++
			return
		}
		require.NoError(t, ctx.Err(), "publish %s: %v", ev.id, err)
		p.retries++
		time.Sleep(50 * time.Millisecond)
	}
}

// unhandledSeqs returns the stream sequences up to last that no worker log
// line reports done or skipped.
func unhandledSeqs(t *testing.T, logs string, last uint64) []uint64 {
	t.Helper()
	finished := map[uint64]bool{}
	for line := range strings.SplitSeq(logs, "\n") {
		var l struct {
			Msg       string
			StreamSeq uint64 `json:"stream_seq"`
			Outcome   string
		}
		if json.Unmarshal([]byte(line), &l) != nil || l.Msg != "Message handled" {
			continue
		}
		if l.Outcome == events.OutcomeDone || l.Outcome == events.OutcomeSkipped {
			finished[l.StreamSeq] = true
		}
	}
	var missing []uint64
	for seq := uint64(1); seq <= last; seq++ {
		if !finished[seq] {
			missing = append(missing, seq)
		}
	}
	return missing
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
