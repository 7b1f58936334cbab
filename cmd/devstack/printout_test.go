package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/mcp-registry/worker/internal/devstack"
)

func TestShellQuote(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"bin/worker":               "bin/worker",
		"nats://127.0.0.1:14222":   "nats://127.0.0.1:14222",
		"team:ops ✓":               "'team:ops ✓'",
		`{"userId":"a"}`:           `'{"userId":"a"}'`,
		"it's":                     `'it'\''s'`,
		"":                         "''",
		"mongodb://127.0.0.1:1/?x": "'mongodb://127.0.0.1:1/?x'",
	} {
		assert.Equal(t, want, shellQuote(in), in)
	}
}

func TestPrintNextSteps(t *testing.T) {
	t.Parallel()
	d := devstack.Demo{
		Users:   map[string]string{"alice": "a1", "dave": "d4"},
		Servers: map[string]string{"github": "s1", "docs-search": "s2"},
		Access:  map[string][]string{"alice": {"docs-search", "github"}, "dave": {"docs-search"}},
		Shared:  []string{"docs-search"},
		Configs: map[string]map[string]any{"github": {"apiKey": "demo-secret-do-not-log"}},
	}
	var buf bytes.Buffer
	env := stackEnv("nats://127.0.0.1:14222", "redis://127.0.0.1:16379", "mongodb://127.0.0.1:27018/")
	printNextSteps(&buf, "bin/worker", env, d)
	out := buf.String()
	prefix := "  NATS_URL=nats://127.0.0.1:14222 REDIS_URL=redis://127.0.0.1:16379 MONGODB_URI=mongodb://127.0.0.1:27018/ bin/worker "
	for _, line := range []string{
		prefix + "inspect user a1",
		prefix + "inspect user d4",
		prefix + "inspect server github",
		prefix + "inspect server 'team:ops ✓'",
		prefix + `publish user.invalidate --json '{"userId":"a1"}'`,
		"# alice: github, plus shared docs-search\n",
		"# dave: no private server, plus shared docs-search\n",
		"Ctrl-C",
	} {
		assert.Contains(t, out, line)
	}
	assert.NotContains(t, out, "demo-secret-do-not-log")
}

func TestPrintNextStepsAgentTenantGroup(t *testing.T) {
	t.Parallel()
	d := devstack.Demo{
		Users:       map[string]string{"alice": "a1", "dave": "d4", "hank": "h8"},
		Servers:     map[string]string{"github": "s1", "docs-search": "s2", "grafana": "s3", "pagerduty": "s4"},
		Access:      map[string][]string{"alice": {"docs-search", "github"}, "dave": {"docs-search"}, "hank": {"github"}},
		ConsumeOnly: map[string][]string{"alice": {"grafana"}},
		Agents:      map[string][]string{"alice": {"release-notes"}},
		Shared:      []string{"docs-search"},
		Tenants:     map[string]string{"hank": "globex"},
		TenantURLs:  map[string]map[string]string{"": {"github": "https://a.test"}, "globex": {"github": "https://g.test"}},
		Groups:      map[string]string{"oncall": "g9"},
		Join:        devstack.GroupJoin{User: "dave", Group: "oncall", Servers: []string{"pagerduty"}},
	}
	var buf bytes.Buffer
	printNextSteps(&buf, "bin/worker", "ENV=1", d)
	out := buf.String()
	for _, line := range []string{
		"# alice: github (https://a.test, not https://g.test), plus shared docs-search; through agent release-notes also grafana (consumeOnly)\n",
		"# dave: no private server, plus shared docs-search; pagerduty after joining group oncall (below)\n",
		"# hank (tenant globex): github (https://g.test, not https://a.test), no shared server\n",
		"# group.changed: dave joined group oncall in MongoDB after his first login; tell the worker (devstack did)\n" +
			`  ENV=1 bin/worker publish group.changed --json '{"groupId":"g9","addedMemberIds":["d4"]}'` + "\n" +
			"# dave now has pagerduty, through group oncall\n" +
			"  ENV=1 bin/worker inspect user d4\n",
	} {
		assert.Contains(t, out, line)
	}
	assert.Equal(t, 1, strings.Count(out, "consumeOnly"), "one consumeOnly server")
}

func TestPrintJoinAndSeeded(t *testing.T) {
	t.Parallel()
	d := devstack.Demo{
		Users:         map[string]string{"alice": "a1", "dave": "d4", "hank": "h8"},
		Servers:       map[string]string{"github": "s1", "pagerduty": "s4"},
		Tenants:       map[string]string{"hank": "globex"},
		TenantServers: map[string]map[string]string{"globex": {"github": "s9"}},
		Groups:        map[string]string{"oncall": "g9", "platform": "g8"},
		Agents:        map[string][]string{"alice": {"release-notes"}, "dave": {"release-notes"}},
		Join:          devstack.GroupJoin{User: "dave", Group: "oncall", Servers: []string{"pagerduty"}},
	}
	var buf bytes.Buffer
	printSeeded(&buf, "LibreChat", d)
	printJoin(&buf, d, joinViews{read: true, before: []string{"docs-search"}, after: []string{"docs-search", "pagerduty"}})
	printJoin(&buf, d, joinViews{read: true})
	assert.Equal(t, "devstack: seeded 3 users (1 in another tenant), 3 servers (1 in another tenant), 2 groups and 1 agent into LibreChat\n"+
		"devstack: dave joined group oncall in MongoDB after his first login; group.changed: his view before: docs-search; after: docs-search, pagerduty\n"+
		"devstack: dave joined group oncall in MongoDB after his first login; group.changed: his view before: (none); after: (none)\n", buf.String())
}

func TestPrintResults(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	printResults(&buf,
		[]demoEvent{{Label: "server.shared docs-search", Result: &eventResult{Outcome: "done"}}},
		[]demoEvent{
			{Label: "user.login alice", Result: &eventResult{Outcome: "dead-lettered", Error: "bad\nthing"}},
			{Label: "user.login bob"},
		})
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	assert.Equal(t, []string{
		"EVENT                      OUTCOME        ERROR",
		"server.shared docs-search  done",
		"user.login alice           dead-lettered  bad thing",
		"user.login bob             (no result)",
	}, trimRight(lines))
}

func trimRight(lines []string) []string {
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return lines
}
