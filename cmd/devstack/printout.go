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
		private := "no private server"
		if p := privateOf(d, name); len(p) > 0 {
			private = strings.Join(p, ", ")
		}
		fmt.Fprintf(w, "\n# %s: %s, plus shared %s\n", name, private, strings.Join(d.Shared, ", "))
		fmt.Fprintln(w, cmd("inspect", "user", d.Users[name]))
	}
	fmt.Fprintln(w, "\n# servers")
	fmt.Fprintln(w, cmd("inspect", "server", "github"))
	fmt.Fprintln(w, cmd("inspect", "server", "docs-search"))
	fmt.Fprintln(w, cmd("inspect", "server", "team:ops ✓"))
	alice := d.Users["alice"]
	fmt.Fprintln(w, "\n# forget alice's registry, then load it again")
	fmt.Fprintln(w, cmd("publish", "user.invalidate", "--json", `{"userId":"`+alice+`"}`))
	fmt.Fprintln(w, cmd("publish", "user.login", "--json", `{"userId":"`+alice+`"}`))
	fmt.Fprintln(w, "\n# dead letters")
	fmt.Fprintln(w, cmd("dlq", "list"))
	fmt.Fprintln(w, "\nCtrl-C here stops the worker, then the stack.")
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
