package reader

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/redis/go-redis/v9"

	"github.com/mcp-registry/worker/reader/layout"
)

// Change is one notice of a change to a user's effective view.
type Change struct {
	UserID string `json:"userId"`
	// Change is "added", "removed", "changed" (a server's value or tier) or
	// "reloaded" (a new snapshot, or the user is no longer loaded: re-read).
	Change  string   `json:"change"`
	Servers []string `json:"servers"`
	Rev     int64    `json:"rev"`
}

// feedMessage is any of the three notice formats (docs/redis-layout.md,
// "Change feed").
type feedMessage struct {
	UserID  string   `json:"userId"`
	Server  string   `json:"server"`
	Change  string   `json:"change"`
	Servers []string `json:"servers"`
	Rev     int64    `json:"rev"`
}

// Watch follows the changes of userID's effective view until ctx ends, then
// closes the channel. It subscribes (sharded pub/sub) to the user's feed, the
// shared tiers' feed and the feed of every server in the view, and keeps the
// server subscriptions in step with the view. When Watch returns, the
// subscriptions are in place: a change made afterwards is delivered. Pub/sub
// is best effort: after a reconnect a caller should re-read the view.
func (r *Reader) Watch(ctx context.Context, userID string) (<-chan Change, error) {
	w := &watcher{r: r, user: userID, subs: newSubscriptions(r.rdb), servers: map[string]bool{}}
	if err := w.subs.add(ctx, r.keys.UserFeed(userID), r.keys.SharedFeed()); err != nil {
		w.subs.close()
		return nil, err
	}
	if err := w.follow(ctx); err != nil {
		w.subs.close()
		return nil, err
	}
	w.subs.start()
	out := make(chan Change, 64)
	go w.run(ctx, out)
	return out, nil
}

type watcher struct {
	r       *Reader
	user    string
	tenant  string // the user's tenant, as the members hash says
	loaded  bool   // whether the user was loaded at the last re-read
	subs    *subscriptions
	servers map[string]bool // qualified names of the servers whose feed is followed
}

// follow re-reads the view and (un)subscribes server feeds to match it.
func (w *watcher) follow(ctx context.Context) error {
	v, err := w.r.Effective(ctx, w.user)
	if err != nil {
		return err
	}
	tenant, err := w.r.rdb.HGet(ctx, w.r.keys.UserMembers(w.user), layout.TenantField).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return fmt.Errorf("tenant of %s: %w", w.user, err)
	}
	w.tenant, w.loaded = tenant, v.Loaded
	want := map[string]bool{}
	for name := range v.Effective {
		want[layout.Qualify(tenant, name)] = true
	}
	var add, drop []string
	for q := range want {
		if !w.servers[q] {
			w.servers[q] = true
			add = append(add, w.r.keys.ServerFeed(q))
		}
	}
	for q := range w.servers {
		if !want[q] {
			delete(w.servers, q)
			drop = append(drop, w.r.keys.ServerFeed(q))
		}
	}
	w.subs.remove(ctx, drop...)
	return w.subs.add(ctx, add...)
}

func (w *watcher) run(ctx context.Context, out chan<- Change) {
	defer close(out)
	defer w.subs.close()
	userFeed := w.r.keys.UserFeed(w.user)
	for {
		select {
		case <-ctx.Done():
			return
		case msg := <-w.subs.messages:
			var m feedMessage
			if json.Unmarshal([]byte(msg.Payload), &m) != nil {
				continue
			}
			c, ok := w.change(msg.Channel, m)
			if !ok {
				continue
			}
			if msg.Channel == userFeed || msg.Channel == w.r.keys.SharedFeed() {
				_ = w.follow(ctx) // best effort; the next notice retries
			}
			select {
			case out <- c:
			case <-ctx.Done():
				return
			}
		}
	}
}

// change turns a notice into the user's Change, with the user's names
// (unqualified); ok is false for a shared-tier notice of another tenant.
func (w *watcher) change(channel string, m feedMessage) (Change, bool) {
	names := m.Servers
	if m.Server != "" {
		names = []string{m.Server}
	}
	c := Change{UserID: w.user, Change: m.Change, Servers: []string{}, Rev: m.Rev}
	for _, q := range names {
		t, name := layout.Unqualify(q)
		if channel == w.r.keys.SharedFeed() && (!w.loaded || t != w.tenant) {
			continue // another tenant's tiers, or a user whose tenant is unknown
		}
		c.Servers = append(c.Servers, name)
	}
	return c, channel != w.r.keys.SharedFeed() || len(c.Servers) > 0
}

// subscriptions holds sharded pub/sub subscriptions: one connection on a
// single Redis, one per node on Cluster (a node serves only its slots'
// channels), all merged into messages.
type subscriptions struct {
	rdb      redis.UniversalClient
	mu       sync.Mutex
	conns    map[string]*redis.PubSub // by node address ("" on a single Redis)
	channels map[string]string        // channel -> node address
	messages chan *redis.Message
	started  bool // forwarders run: confirmations are no longer read by add
	wg       sync.WaitGroup
}

func newSubscriptions(rdb redis.UniversalClient) *subscriptions {
	return &subscriptions{
		rdb: rdb, conns: map[string]*redis.PubSub{}, channels: map[string]string{},
		messages: make(chan *redis.Message, 64),
	}
}

// add subscribes channels. Before start it waits for Redis to confirm each
// (so Watch returns with its subscriptions in place); afterwards a running
// forwarder reads the connection, and only a new connection is confirmed
// before its forwarder starts.
func (s *subscriptions) add(ctx context.Context, channels ...string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ch := range channels {
		if _, ok := s.channels[ch]; ok {
			continue
		}
		node, client, err := s.nodeOf(ctx, ch)
		if err != nil {
			return err
		}
		ps, ok := s.conns[node]
		if !ok {
			ps = client.SSubscribe(ctx)
			s.conns[node] = ps
		}
		if err := ps.SSubscribe(ctx, ch); err != nil {
			return fmt.Errorf("subscribe %s: %w", ch, err)
		}
		if !s.started || !ok {
			if _, err := ps.Receive(ctx); err != nil { // the subscription's confirmation
				return fmt.Errorf("subscribe %s: %w", ch, err)
			}
		}
		s.channels[ch] = node
		if s.started && !ok {
			s.forward(ps)
		}
	}
	return nil
}

// remove unsubscribes channels (errors ignored: the connection is closed at
// the end anyway, and a stray notice is filtered by the view).
func (s *subscriptions) remove(ctx context.Context, channels ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ch := range channels {
		if node, ok := s.channels[ch]; ok {
			_ = s.conns[node].SUnsubscribe(ctx, ch)
			delete(s.channels, ch)
		}
	}
}

// nodeOf returns the node serving channel and a client for it.
func (s *subscriptions) nodeOf(ctx context.Context, channel string) (string, redisSubscriber, error) {
	cc, ok := s.rdb.(*redis.ClusterClient)
	if !ok {
		return "", s.rdb, nil
	}
	node, err := cc.MasterForKey(ctx, channel)
	if err != nil {
		return "", nil, fmt.Errorf("node of %s: %w", channel, err)
	}
	return node.Options().Addr, node, nil
}

type redisSubscriber interface {
	SSubscribe(ctx context.Context, channels ...string) *redis.PubSub
}

// start begins forwarding every connection's messages.
func (s *subscriptions) start() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.started = true
	for _, ps := range s.conns {
		s.forward(ps)
	}
}

// forward copies one connection's messages into s.messages. Confirmations
// were consumed by add; Channel delivers messages only.
func (s *subscriptions) forward(ps *redis.PubSub) {
	ch := ps.Channel()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for m := range ch {
			s.messages <- m
		}
	}()
}

// close ends every subscription and waits for the forwarders.
func (s *subscriptions) close() {
	s.mu.Lock()
	conns := slices.Collect(func(yield func(*redis.PubSub) bool) {
		for _, ps := range s.conns {
			if !yield(ps) {
				return
			}
		}
	})
	s.conns = map[string]*redis.PubSub{}
	s.mu.Unlock()
	for _, ps := range conns {
		_ = ps.Close()
	}
	go func() { // drain so forwarders blocked on a full buffer can exit
		for range s.messages {
		}
	}()
	s.wg.Wait()
	close(s.messages)
}
