package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"
)

// options are the soak's flags.
type soakOptions struct {
	duration, faultEvery time.Duration
	seed                 uint64
	rate                 float64
	users, servers       int
	workerBin, dir       string
	workerArgs           []string
	keep                 bool
}

func main() {
	var o soakOptions
	fs := flag.NewFlagSet("soak", flag.ContinueOnError)
	fs.DurationVar(&o.duration, "duration", 10*time.Minute, "how long the load runs")
	fs.DurationVar(&o.faultEvery, "fault-every", 30*time.Second, "interval between two faults (0: none)")
	fs.Uint64Var(&o.seed, "seed", 1, "seed of the event generator")
	fs.Float64Var(&o.rate, "rate", 20, "events published per second")
	fs.IntVar(&o.users, "users", 0, "LibreChat users to seed (0: enough for first logins throughout the run)")
	fs.IntVar(&o.servers, "servers", 10, "live MCP servers")
	fs.StringVar(&o.workerBin, "worker", "", "worker binary to run (empty: build ./cmd/worker)")
	fs.Func("worker-arg", "extra `flag` for `worker run`, e.g. -worker-arg=--max-deliver=4 (repeatable)", func(v string) error {
		o.workerArgs = append(o.workerArgs, v)
		return nil
	})
	fs.StringVar(&o.dir, "dir", "", "directory for data and worker logs (empty: a temp dir, removed unless -keep)")
	fs.BoolVar(&o.keep, "keep", false, "keep the directory")
	if err := fs.Parse(os.Args[1:]); err != nil {
		os.Exit(2)
	}
	if o.duration <= 0 || o.rate <= 0 || o.servers < 2 || o.users < 0 || o.faultEvery < 0 {
		fmt.Fprintln(os.Stderr, "soak: -duration and -rate must be positive, -servers at least 2, -users and -fault-every not negative")
		os.Exit(2)
	}
	if o.users == 0 {
		o.users = int(o.rate*o.duration.Seconds()*0.3) + 20
	}
	failed, err := run(context.Background(), o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
	if failed {
		fmt.Println("\nFAIL: mismatches or dead letters")
		os.Exit(1)
	}
	fmt.Println("\nPASS")
}
