package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcp-registry/worker/internal/events"
	"github.com/mcp-registry/worker/internal/testenv"
)

// auditLines parses `worker audit` output into "kind user server eventId" lines.
func auditLines(t *testing.T, stdout string) []string {
	t.Helper()
	out := []string{}
	for line := range strings.Lines(stdout) {
		var r events.AuditRecord
		require.NoError(t, json.Unmarshal([]byte(line), &r), "a JSON line: %q", line)
		out = append(out, strings.Join([]string{r.Kind, r.User, r.Server, r.EventID}, "|"))
	}
	return out
}

// `worker audit` filters by user, by server (tenant-qualified), by both and by
// time, with ids that are not subject-safe; an empty answer prints nothing
// and exits 0. The records here are published as the worker publishes them.
func TestIntegrationAuditCommandFilters(t *testing.T) {
	nt := testenv.StartNATS(t)
	cfg := loadTestConfig(t, "--nats-url", nt.URL)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	ec := cfg.eventsConfig()
	require.NoError(t, events.Provision(ctx, nt.JS, ec))
	pub := events.NewAuditPublisher(nt.JS, ec, "w1")
	rec := func(id, kind, user, server, tenant, ev string) events.AuditRecord {
		return events.AuditRecord{
			ID: id, Time: time.Now(), User: user, AllUsers: user == "*", Server: server, Tenant: tenant,
			Kind: kind, Before: "none", After: "member", EventID: ev, Subject: "mcp.server.access", Version: 1, Worker: "w1",
		}
	}
	require.NoError(t, pub.Publish(ctx, []events.AuditRecord{
		rec("1", "grant", "alice.smith *>", "git hub.>", "", "e1"),
		rec("2", "grant", "bob", "git hub.>", "", "e2"),
		rec("3", "grant", "alice.smith *>", "jira", "", "e3"),
		rec("4", "promote", "*", "git hub.>", "", "e4"),
		rec("5", "grant", "alice.smith *>", "git hub.>", "acme", "e5"),
	}))
	time.Sleep(20 * time.Millisecond)
	mark := time.Now()
	time.Sleep(20 * time.Millisecond)
	require.NoError(t, pub.Publish(ctx, []events.AuditRecord{
		rec("6", "revoke", "alice.smith *>", "git hub.>", "", "e6"),
		rec("6", "revoke", "alice.smith *>", "git hub.>", "", "e6"), // the same record again: shown once
	}))
	env := map[string]string{"NATS_URL": nt.URL}
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"user", []string{"--user", "alice.smith *>"}, []string{
			"grant|alice.smith *>|git hub.>|e1", "grant|alice.smith *>|jira|e3",
			"grant|alice.smith *>|git hub.>|e5", "revoke|alice.smith *>|git hub.>|e6",
		}},
		{"server", []string{"--server", "git hub.>"}, []string{
			"grant|alice.smith *>|git hub.>|e1", "grant|bob|git hub.>|e2", "promote|*|git hub.>|e4",
			"revoke|alice.smith *>|git hub.>|e6",
		}},
		{"server of a tenant", []string{"--server", "git hub.>", "--tenant", "acme"}, []string{"grant|alice.smith *>|git hub.>|e5"}},
		{"user and server", []string{"--user", "bob", "--server", "git hub.>"}, []string{"grant|bob|git hub.>|e2"}},
		{"since a time", []string{"--user", "alice.smith *>", "--since", mark.Format(time.RFC3339Nano)}, []string{"revoke|alice.smith *>|git hub.>|e6"}},
		{"since a duration", []string{"--server", "jira", "--since", "1h"}, []string{"grant|alice.smith *>|jira|e3"}},
		{"nothing since", []string{"--server", "jira", "--since", time.Now().Add(time.Hour).Format(time.RFC3339)}, []string{}},
		{"nobody", []string{"--user", "carol"}, []string{}},
		{"a user named like the wildcard", []string{"--user", "*"}, []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runOutput(t, env, append([]string{"audit"}, tc.args...)...)
			require.Equal(t, exitOK, code, stderr)
			assert.Equal(t, tc.want, auditLines(t, stdout))
		})
	}
}

// Bad audit flags exit 2 with one line.
func TestCLIAuditUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"audit"}, "want --user or --server"},
		{[]string{"audit", "--user", "u", "--since", "yesterday"}, "neither an RFC 3339 time nor a duration"},
		{[]string{"audit", "--user", "u", "--since", "-5m"}, "must be positive"},
		{[]string{"audit", "--user", "u", "--tenant", "t"}, "--tenant needs --server"},
		{[]string{"audit", "--user", "u", "extra"}, "unexpected argument"},
		{[]string{"audit", "--audit-stream", "MCP_REGISTRY"}, "audit-stream"},
		{[]string{"audit", "--audit-max-age", "1m"}, "audit-max-age"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, stderr := runCaptured(t, nil, tc.args...)
			assert.Equal(t, exitUsage, code)
			assert.Contains(t, stderr, tc.want)
			assert.Equal(t, 1, strings.Count(stderr, "\n"), "one line: %q", stderr)
		})
	}
}

func TestParseSince(t *testing.T) {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	got, err := parseSince("24h", now)
	require.NoError(t, err)
	assert.Equal(t, now.Add(-24*time.Hour), got)
	got, err = parseSince("2025-05-01T10:00:00.5Z", now)
	require.NoError(t, err)
	assert.Equal(t, time.Date(2025, 5, 1, 10, 0, 0, 5e8, time.UTC), got)
	got, err = parseSince("", now)
	require.NoError(t, err)
	assert.True(t, got.IsZero())
	_, err = parseSince("0s", now)
	assert.Error(t, err)
}
