package main

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/mcp-registry/worker/reader"
)

// expectedEntry is one server of a user's effective view as the model says.
type expectedEntry struct {
	tier reader.Tier
	rev  int64
}

// expected returns u's effective view per the model (nil: not loaded).
func (m *model) expected(u string) map[string]expectedEntry {
	if !m.loggedIn[u] {
		return nil
	}
	view := map[string]expectedEntry{}
	for _, s := range m.servers {
		switch {
		case s.scope == scopePublic && s.oauth:
			view[s.name] = expectedEntry{reader.TierUser, s.rev}
		case s.scope == scopePublic:
			view[s.name] = expectedEntry{reader.TierApp, s.rev}
		case s.scope == scopePrivate && slices.Contains(s.allowed, u):
			view[s.name] = expectedEntry{reader.TierPrivate, s.rev}
		}
	}
	return view
}

// compare reads every user's effective view and every server's value and
// returns one line per mismatch with the model.
func compare(ctx context.Context, r *reader.Reader, m *model) ([]string, error) {
	var bad []string
	for _, u := range m.users {
		v, err := r.Effective(ctx, u)
		if err != nil {
			return nil, fmt.Errorf("read user %s: %w", u, err)
		}
		want := m.expected(u)
		if diff := viewDiff(want, v); diff != "" {
			bad = append(bad, "user "+u+": "+diff)
		}
	}
	for _, s := range m.servers {
		val, found, err := r.Server(ctx, s.name)
		if err != nil {
			return nil, fmt.Errorf("read server %s: %w", s.name, err)
		}
		switch {
		case s.scope == scopeDeleted && found:
			bad = append(bad, "server "+s.name+": deleted but has a value")
		case s.scope != scopeDeleted && !found:
			bad = append(bad, "server "+s.name+": no value")
		case found && rev(val) != s.rev:
			bad = append(bad, fmt.Sprintf("server %s: config rev %d, want %d", s.name, rev(val), s.rev))
		}
	}
	return bad, nil
}

func viewDiff(want map[string]expectedEntry, v reader.View) string {
	if want == nil {
		if v.Loaded {
			return "loaded, but never logged in"
		}
		return ""
	}
	if !v.Loaded {
		return "not loaded, but logged in"
	}
	var diffs []string
	for _, name := range slices.Sorted(maps.Keys(want)) {
		e, ok := v.Effective[name]
		switch {
		case !ok:
			diffs = append(diffs, "missing "+name)
		case e.Tier != want[name].tier:
			diffs = append(diffs, fmt.Sprintf("%s in tier %s, want %s", name, e.Tier, want[name].tier))
		case rev(e.Config) != want[name].rev:
			diffs = append(diffs, fmt.Sprintf("%s at rev %d, want %d", name, rev(e.Config), want[name].rev))
		}
	}
	for _, name := range slices.Sorted(maps.Keys(v.Effective)) {
		if _, ok := want[name]; !ok {
			diffs = append(diffs, "extra "+name)
		}
	}
	return strings.Join(diffs, ", ")
}

// rev is the "rev" of a server value's config (-1 when absent).
func rev(value json.RawMessage) int64 {
	var c struct{ Rev *int64 }
	if json.Unmarshal(value, &c) != nil || c.Rev == nil {
		return -1
	}
	return *c.Rev
}
