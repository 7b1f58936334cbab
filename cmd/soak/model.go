package main

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/mcp-registry/worker/internal/devstack"
)

// Server scopes of the model.
const (
	scopePrivate = "private"
	scopePublic  = "public"
	scopeDeleted = "deleted"
)

// maxAllowed bounds a server's allowed list (FerretDB scans ACL entries).
const maxAllowed = 40

// modelServer is what the model knows of one server: every event of it
// takes the next version; rev is the version of its newest config.
type modelServer struct {
	name    string
	id      bson.ObjectID
	oauth   bool // requiresOAuth: tier user when shared, else app
	version int64
	rev     int64
	scope   string
	allowed []string
}

func (s *modelServer) config() map[string]any {
	return map[string]any{"url": "https://" + s.name + ".soak", "rev": s.rev, "requiresOAuth": s.oauth}
}

// model applies the generated changes in publish order. Only the generator
// goroutine uses it until the run ends.
type model struct {
	rng       *rand.Rand
	users     []string
	loggedIn  map[string]bool
	logged    []string // loggedIn as a list, for random picks
	notLogged []string
	servers   []*modelServer // every server ever made, deleted ones too
	made      int
}

// event is one message to publish.
type event struct {
	id, kind, subject string
	payload           map[string]any
}

// change is one step of the generator: the MongoDB writes LibreChat would
// make (nil: none), then commit, which updates the model and returns the
// events that announce the change. commit runs only after mongo succeeded.
type change struct {
	kind   string
	mongo  func(ctx context.Context, lc devstack.LibreChat) error
	commit func() []event
}

func newModel(seed uint64, users []string) *model {
	return &model{
		rng:       rand.New(rand.NewPCG(seed, seed^0x50a6)),
		users:     users,
		loggedIn:  map[string]bool{},
		notLogged: slices.Clone(users),
	}
}

// next picks the next change: logins, updates, grants, revokes, shares,
// unshares and deletes (each delete followed by a new server). With mongoUp
// false (MongoDB is down) only logins: nothing else can be written.
func (m *model) next(mongoUp bool) change {
	if !mongoUp {
		return m.login()
	}
	switch r := m.rng.IntN(100); {
	case r < 30:
		return m.login()
	case r < 50:
		return m.update()
	case r < 70:
		return m.grant()
	case r < 82:
		return m.revoke()
	case r < 88:
		return m.share()
	case r < 94:
		return m.unshare()
	default:
		return m.remove()
	}
}

func (m *model) live(scope string) []*modelServer {
	var out []*modelServer
	for _, s := range m.servers {
		if s.scope == scope {
			out = append(out, s)
		}
	}
	return out
}

func (m *model) pick(from []*modelServer) *modelServer { return from[m.rng.IntN(len(from))] }

// login: a user who never logged in if any is left (the worker reads
// MongoDB), else anyone (a no-op within the cache TTL).
func (m *model) login() change {
	var u string
	if n := len(m.notLogged); n > 0 {
		i := m.rng.IntN(n)
		u = m.notLogged[i]
		m.notLogged[i] = m.notLogged[n-1]
		m.notLogged = m.notLogged[:n-1]
	} else {
		u = m.users[m.rng.IntN(len(m.users))]
	}
	return change{kind: "login", commit: func() []event {
		if !m.loggedIn[u] {
			m.loggedIn[u] = true
			m.logged = append(m.logged, u)
		}
		return []event{{kind: "login", subject: "user.login", payload: map[string]any{"userId": u}}}
	}}
}

func (m *model) update() change {
	s := m.pick(append(m.live(scopePrivate), m.live(scopePublic)...))
	next := s.version + 1
	conf := s.config()
	conf["rev"] = next
	return change{
		kind: "update",
		mongo: func(ctx context.Context, lc devstack.LibreChat) error {
			return lc.SetServerConfig(ctx, s.id, conf, time.UnixMilli(next))
		},
		commit: func() []event {
			s.version, s.rev = next, next
			return []event{m.serverEvent("update", "server.updated", s, false)}
		},
	}
}

func (m *model) grant() change {
	servers := m.live(scopePrivate)
	if len(servers) == 0 {
		return m.update()
	}
	s := m.pick(servers)
	if len(s.allowed) >= maxAllowed {
		return m.revoke()
	}
	u := m.users[m.rng.IntN(len(m.users))]
	if len(m.logged) > 0 && m.rng.IntN(10) < 7 {
		u = m.logged[m.rng.IntN(len(m.logged))]
	}
	if slices.Contains(s.allowed, u) {
		return m.update()
	}
	uid, _ := bson.ObjectIDFromHex(u)
	return change{
		kind: "grant",
		mongo: func(ctx context.Context, lc devstack.LibreChat) error {
			return lc.GrantUser(ctx, s.id, uid, devstack.PermView)
		},
		commit: func() []event {
			s.version++
			s.allowed = append(s.allowed, u)
			return []event{m.serverEvent("grant", "server.access", s, true)}
		},
	}
}

func (m *model) revoke() change {
	var servers []*modelServer
	for _, s := range m.live(scopePrivate) {
		if len(s.allowed) > 0 {
			servers = append(servers, s)
		}
	}
	if len(servers) == 0 {
		return m.grant()
	}
	s := m.pick(servers)
	u := s.allowed[m.rng.IntN(len(s.allowed))]
	uid, _ := bson.ObjectIDFromHex(u)
	return change{
		kind:  "revoke",
		mongo: func(ctx context.Context, lc devstack.LibreChat) error { return lc.RevokeUser(ctx, s.id, uid) },
		commit: func() []event {
			s.version++
			s.allowed = slices.DeleteFunc(s.allowed, func(x string) bool { return x == u })
			return []event{m.serverEvent("revoke", "server.access", s, true)}
		},
	}
}

func (m *model) share() change {
	servers := m.live(scopePrivate)
	if len(servers) < 2 { // keep some private servers
		return m.update()
	}
	s := m.pick(servers)
	return change{
		kind: "share",
		mongo: func(ctx context.Context, lc devstack.LibreChat) error {
			return lc.GrantPublic(ctx, s.id, devstack.PermView)
		},
		commit: func() []event {
			s.version++
			s.scope = scopePublic
			return []event{m.serverEvent("share", "server.shared", s, false)}
		},
	}
}

// unshare makes a public server private again for the users it still lists.
func (m *model) unshare() change {
	servers := m.live(scopePublic)
	if len(servers) == 0 {
		return m.share()
	}
	s := m.pick(servers)
	return change{
		kind: "unshare",
		mongo: func(ctx context.Context, lc devstack.LibreChat) error {
			if err := lc.RevokeAll(ctx, s.id); err != nil {
				return err
			}
			for _, u := range s.allowed {
				uid, _ := bson.ObjectIDFromHex(u)
				if err := lc.GrantUser(ctx, s.id, uid, devstack.PermView); err != nil {
					return err
				}
			}
			return nil
		},
		commit: func() []event {
			s.version++
			s.scope = scopePrivate
			return []event{m.serverEvent("unshare", "server.unshared", s, true)}
		},
	}
}

// remove deletes a server and makes a new one in its place (created by an
// access event with an empty list), so the number of live servers stays.
func (m *model) remove() change {
	servers := append(m.live(scopePrivate), m.live(scopePublic)...)
	if len(servers) < 2 {
		return m.update()
	}
	s := m.pick(servers)
	fresh := m.newServer()
	return change{
		kind: "delete",
		mongo: func(ctx context.Context, lc devstack.LibreChat) error {
			if err := lc.DeleteServer(ctx, s.id); err != nil {
				return err
			}
			return m.insert(ctx, lc, fresh)
		},
		commit: func() []event {
			s.version++
			s.scope, s.allowed = scopeDeleted, nil
			m.servers = append(m.servers, fresh)
			return []event{
				m.serverEvent("delete", "server.deleted", s, false),
				m.serverEvent("create", "server.access", fresh, true),
			}
		},
	}
}

// create makes a new server (a LibreChat document, then an access event
// with an empty list): the initial servers.
func (m *model) create() change {
	fresh := m.newServer()
	return change{
		kind:  "create",
		mongo: func(ctx context.Context, lc devstack.LibreChat) error { return m.insert(ctx, lc, fresh) },
		commit: func() []event {
			m.servers = append(m.servers, fresh)
			return []event{m.serverEvent("create", "server.access", fresh, true)}
		},
	}
}

// newServer is a server of version 1 the model does not hold yet.
func (m *model) newServer() *modelServer {
	m.made++
	return &modelServer{
		name: fmt.Sprintf("soak-tool-%d", m.made), oauth: m.made%3 == 0,
		version: 1, rev: 1, scope: scopePrivate,
	}
}

// insert writes s's LibreChat document and takes its _id.
func (m *model) insert(ctx context.Context, lc devstack.LibreChat, s *modelServer) error {
	id, err := lc.AddServer(ctx, s.name, s.config(), time.UnixMilli(s.version))
	if err != nil {
		return err
	}
	s.id = id
	return nil
}

// serverEvent is s's event as the admin service sends it, with the server's
// _id and current config (and its allowed list when list is set).
func (m *model) serverEvent(kind, subject string, s *modelServer, list bool) event {
	p := map[string]any{"serverName": s.name, "dbId": s.id.Hex(), "version": s.version}
	if subject != "server.deleted" {
		p["config"] = s.config()
		p["updatedAt"] = s.rev
	}
	if list {
		p["allowedUserIds"] = append([]string{}, s.allowed...)
	}
	return event{kind: kind, subject: subject, payload: p}
}

// marshal is the event's payload with its eventId.
func (e event) marshal() []byte {
	p := maps.Clone(e.payload)
	p["eventId"] = e.id
	b, _ := json.Marshal(p)
	return b
}
