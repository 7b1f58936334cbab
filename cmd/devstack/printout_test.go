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
		"# alice: github, plus shared docs-search",
		"# dave: no private server, plus shared docs-search",
		"Ctrl-C",
	} {
		assert.Contains(t, out, line)
	}
	assert.NotContains(t, out, "demo-secret-do-not-log")
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
