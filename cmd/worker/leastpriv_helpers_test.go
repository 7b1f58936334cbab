package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
)

// deployReadme is the deployment guide whose permission sections the
// least-privilege test runs verbatim.
const deployReadme = "../../deploy/README.md"

// lpPassword is every NATS user's password in the least-privilege test.
const lpPassword = "pass"

// documentedBlock returns the first fenced code block after the line
// "## <heading>" of deploy/README.md.
func documentedBlock(t *testing.T, heading string) string {
	t.Helper()
	b, err := os.ReadFile(deployReadme)
	require.NoError(t, err)
	_, section, ok := strings.Cut(string(b), "\n## "+heading+"\n")
	require.True(t, ok, "section %q in %s", heading, deployReadme)
	_, rest, ok := strings.Cut(section, "```\n")
	require.True(t, ok, "code block in section %q", heading)
	block, _, ok := strings.Cut(rest, "```")
	require.True(t, ok, "end of the code block in section %q", heading)
	return block
}

// natsRoles are the users the README's NATS permissions block defines.
var natsRoles = []string{"worker", "auth_service", "admin_service", "worker_ops"}

// startDocumentedNATS starts a JetStream server whose authorization block is
// the README's NATS permissions block as written, with one user per role
// (password lpPassword) and an unrestricted "admin" user for the test's own
// checks. It returns the server's host:port.
func startDocumentedNATS(t *testing.T) string {
	t.Helper()
	var users strings.Builder
	for _, r := range natsRoles {
		fmt.Fprintf(&users, "    {user: %s, password: %s, permissions: $%s}\n", r, lpPassword, r)
	}
	fmt.Fprintf(&users, "    {user: admin, password: %s}\n", lpPassword)
	conf := "authorization {\n" + documentedBlock(t, "NATS permissions") +
		"  users = [\n" + users.String() + "  ]\n}\n"
	opts := &server.Options{}
	require.NoError(t, opts.ProcessConfigString(conf), "the README's NATS permissions:\n%s", conf)
	opts.Host, opts.Port = "127.0.0.1", -1
	opts.JetStream, opts.StoreDir = true, t.TempDir()
	opts.NoSigs, opts.NoLog = true, true
	ns, err := server.NewServer(opts)
	require.NoError(t, err)
	ns.Start()
	t.Cleanup(func() {
		ns.Shutdown()
		ns.WaitForShutdown()
	})
	require.True(t, ns.ReadyForConnections(10*time.Second), "nats server ready")
	return strings.TrimPrefix(ns.ClientURL(), "nats://")
}

// natsURL is the URL of user on the server at hostPort.
func natsURL(user, hostPort string) string {
	return "nats://" + user + ":" + lpPassword + "@" + hostPort
}

// connectAs opens a connection as user whose asynchronous errors
// (permission violations) go to the returned channel.
func connectAs(t *testing.T, hostPort, user string) (*nats.Conn, <-chan error) {
	t.Helper()
	errs := make(chan error, 16)
	nc, err := nats.Connect(natsURL(user, hostPort), nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
		select {
		case errs <- err:
		default:
		}
	}))
	require.NoError(t, err, "connect as %s", user)
	t.Cleanup(nc.Close)
	return nc, errs
}

// documentedACL returns the README's `ACL SETUSER` line of the worker, split
// into arguments, and the user name and password it sets.
func documentedACL(t *testing.T) (args []any, user, password string) {
	t.Helper()
	for line := range strings.SplitSeq(documentedBlock(t, "Redis ACL"), "\n") {
		fields := strings.Fields(line)
		if len(fields) < 3 || fields[0] != "ACL" || fields[1] != "SETUSER" {
			continue
		}
		for _, f := range fields {
			args = append(args, f)
			if p, ok := strings.CutPrefix(f, ">"); ok {
				password = p
			}
		}
		return args, fields[2], password
	}
	t.Fatalf("no ACL SETUSER line in the Redis ACL section of %s", deployReadme)
	return nil, "", ""
}

// readerACL is the ACL of a reader (chat node) as the README's Redis ACL
// section describes it: the prefix's keys and channels, +@read
// +@connection, and +ssubscribe +sunsubscribe +subscribe +unsubscribe for
// the change feed.
func readerACL(prefix string) []any {
	return []any{
		"ACL", "SETUSER", "mcp-reader", "on", ">reader-pass", "resetkeys", "~" + prefix + "*",
		"resetchannels", "&" + prefix + "*", "-@all", "+@read", "+@connection", "+ssubscribe", "+sunsubscribe", "+subscribe", "+unsubscribe",
	}
}

// redisAs connects to addr as an ACL user, closed at cleanup.
func redisAs(t *testing.T, addr, user, password string) *redis.Client {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: addr, Username: user, Password: password})
	t.Cleanup(func() { _ = rdb.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	require.NoError(t, rdb.Ping(ctx).Err(), "ping as %s", user)
	return rdb
}

// requireDenied publishes subject as the connection's user and requires the
// server to answer with a permissions violation.
func requireDenied(t *testing.T, nc *nats.Conn, errs <-chan error, subject string) {
	t.Helper()
	require.NoError(t, nc.Publish(subject, []byte("{}")))
	require.NoError(t, nc.Flush())
	select {
	case err := <-errs:
		require.ErrorIs(t, err, nats.ErrPermissionViolation, "publish to %s", subject)
		require.Contains(t, err.Error(), subject)
	case <-time.After(5 * time.Second):
		t.Fatalf("publish to %s: no permissions violation within 5s", subject)
	}
}
