package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/mcp-registry/worker/internal/devstack"
)

// printResults writes one row per event: event, outcome, error.
func printResults(w io.Writer, batches ...[]demoEvent) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "EVENT\tOUTCOME\tERROR")
	for _, batch := range batches {
		for _, ev := range batch {
			outcome, errText := "(no result)", ""
			if ev.Result != nil {
				outcome, errText = ev.Result.Outcome, ev.Result.Error
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\n", ev.Label, outcome, oneLine(errText))
		}
	}
	_ = tw.Flush()
}

// printStack tells where the stack listens.
func printStack(w io.Writer, natsURL, redisURL, mongoURI string) {
	fmt.Fprintf(w, "devstack: NATS %s, Redis %s, MongoDB %s\n", natsURL, redisURL, mongoURI)
}

// printSeeded says what the seed wrote.
func printSeeded(w io.Writer, database string, d devstack.Demo) {
	servers, other := len(d.Servers), 0
	for _, ts := range d.TenantServers {
		servers += len(ts)
		other += len(ts)
	}
	agents := map[string]bool{}
	for _, as := range d.Agents {
		for _, a := range as {
			agents[a] = true
		}
	}
	fmt.Fprintf(w, "devstack: seeded %s (%d in another tenant), %s (%d in another tenant), %s and %s into %s\n",
		count(len(d.Users), "user"), len(d.Tenants), count(servers, "server"), other,
		count(len(d.Groups), "group"), count(len(agents), "agent"), database)
}

// count is "<n> <noun>", with an s unless n is 1.
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// printJoin shows the joining user's view before and after group.changed.
func printJoin(w io.Writer, d devstack.Demo, v joinViews) {
	list := func(names []string) string {
		if len(names) == 0 {
			return "(none)"
		}
		return strings.Join(names, ", ")
	}
	fmt.Fprintf(w, "devstack: %s joined group %s in MongoDB after his first login; group.changed: his view before: %s; after: %s\n",
		d.Join.User, d.Join.Group, list(v.before), list(v.after))
}

// printNextSteps writes the commands to try, runnable from the repo root.
func printNextSteps(w io.Writer, worker, env string, d devstack.Demo) {
	cmd := func(args ...string) string {
		quoted := make([]string, len(args))
		for i, a := range args {
			quoted[i] = shellQuote(a)
		}
		return "  " + env + " " + shellQuote(worker) + " " + strings.Join(quoted, " ")
	}
	fmt.Fprintln(w, "\nTry, from the repo root:")
	for _, name := range d.UserNames() {
		fmt.Fprintf(w, "\n# %s\n", userComment(d, name))
		fmt.Fprintln(w, cmd("inspect", "user", d.Users[name]))
	}
	fmt.Fprintln(w, "\n# servers")
	fmt.Fprintln(w, cmd("inspect", "server", "github"))
	fmt.Fprintln(w, cmd("inspect", "server", "docs-search"))
	fmt.Fprintln(w, cmd("inspect", "server", "team:ops ✓"))
	if j := d.Join; d.Groups[j.Group] != "" && d.Users[j.User] != "" {
		fmt.Fprintf(w, "\n# group.changed: %s joined group %s in MongoDB after his first login; tell the worker (devstack did)\n", j.User, j.Group)
		fmt.Fprintln(w, cmd("publish", "group.changed", "--json", joinPayload(d)))
		fmt.Fprintf(w, "# %s now has %s, through group %s\n", j.User, strings.Join(j.Servers, ", "), j.Group)
		fmt.Fprintln(w, cmd("inspect", "user", d.Users[j.User]))
		fmt.Fprintf(w, "# who changed %s's access, when, through which event\n", j.User)
		fmt.Fprintln(w, cmd("audit", "--user", d.Users[j.User]))
	}
	fmt.Fprintln(w, "\n# the audit trail of a server: docs-search was promoted to a shared tier (grants, revokes, demotes and deletes show here too)")
	fmt.Fprintln(w, cmd("audit", "--server", "docs-search", "--since", "24h"))
	alice := d.Users["alice"]
	fmt.Fprintln(w, "\n# forget alice's registry, then load it again")
	fmt.Fprintln(w, cmd("publish", "user.invalidate", "--json", `{"userId":"`+alice+`"}`))
	fmt.Fprintln(w, cmd("publish", "user.login", "--json", `{"userId":"`+alice+`"}`))
	fmt.Fprintln(w, "\n# dead letters")
	fmt.Fprintln(w, cmd("dlq", "list"))
	fmt.Fprintln(w, "\nCtrl-C here stops the worker, then the stack.")
}

// userComment describes what user sees: private servers, shared ones (of
// the user's tenant), servers reached only through an agent (consumeOnly),
// and those a group join adds later.
func userComment(d devstack.Demo, user string) string {
	var b strings.Builder
	b.WriteString(user)
	tenant := d.Tenants[user]
	if tenant != "" {
		fmt.Fprintf(&b, " (tenant %s)", tenant)
	}
	b.WriteString(": ")
	private := privateOf(d, user)
	if len(private) == 0 {
		b.WriteString("no private server")
	}
	for i, s := range private {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(s)
		if url, other := d.TenantURLs[tenant][s], otherTenantURL(d, tenant, s); url != "" && other != "" {
			fmt.Fprintf(&b, " (%s, not %s)", url, other)
		}
	}
	if tenant == "" && len(d.Shared) > 0 {
		fmt.Fprintf(&b, ", plus shared %s", strings.Join(d.Shared, ", "))
	} else {
		b.WriteString(", no shared server")
	}
	if co := d.ConsumeOnly[user]; len(co) > 0 {
		fmt.Fprintf(&b, "; through agent %s also %s (consumeOnly)", strings.Join(d.Agents[user], ", "), strings.Join(co, ", "))
	}
	if d.Join.User == user && len(d.Join.Servers) > 0 {
		fmt.Fprintf(&b, "; %s after joining group %s (below)", strings.Join(d.Join.Servers, ", "), d.Join.Group)
	}
	return b.String()
}

// otherTenantURL returns the url of server name in another tenant than
// tenant, "" when no other tenant has one.
func otherTenantURL(d devstack.Demo, tenant, name string) string {
	for _, t := range sortedKeys(d.TenantURLs) {
		if t != tenant && d.TenantURLs[t][name] != "" {
			return d.TenantURLs[t][name]
		}
	}
	return ""
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// privateOf returns the servers user may view that are not shared.
func privateOf(d devstack.Demo, user string) []string {
	var out []string
	for _, s := range d.Access[user] {
		if !slices.Contains(d.Shared, s) {
			out = append(out, s)
		}
	}
	return out
}

// stackEnv is the env prefix that points a worker command at the stack.
func stackEnv(natsURL, redisURL, mongoURI string) string {
	return "NATS_URL=" + shellQuote(natsURL) + " REDIS_URL=" + shellQuote(redisURL) + " MONGODB_URI=" + shellQuote(mongoURI)
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=@,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
