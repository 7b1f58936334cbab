package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/mcp-registry/worker/internal/devstack"
	"github.com/mcp-registry/worker/internal/events"
	"github.com/mcp-registry/worker/reader"
)

// Time limits of the steps.
const (
	readyTimeout   = 30 * time.Second
	eventsTimeout  = 20 * time.Second
	workerStopWait = 30 * time.Second
)

// run is devstack: it returns the process exit code. Cancelling ctx, SIGINT
// or SIGTERM stops the worker, then the stack, and returns 0.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "devstack: %v\n", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := preflight(&c); err != nil {
		fmt.Fprintf(stderr, "devstack: %v\n", err)
		return 1
	}

	stack, err := devstack.Start(devstack.Options{
		Dir: c.dataDir, NATSAddr: c.natsAddr, RedisAddr: c.redisAddr, MongoAddr: c.mongoAddr,
	})
	if err != nil {
		fmt.Fprintf(stderr, "devstack: %v\n", err)
		return 1
	}
	defer stack.Close()
	printStack(stdout, stack.NATSURL, stack.RedisURL, stack.MongoURI)
	demo, err := seed(ctx, stack.MongoURI, c.database)
	if err != nil {
		fmt.Fprintf(stderr, "devstack: %v\n", err)
		return 1
	}
	printSeeded(stdout, c.database, demo)
	env := stackEnv(stack.NATSURL, stack.RedisURL, stack.MongoURI)
	if c.worker == "" {
		printNextSteps(stdout, "bin/worker", env, demo)
		<-ctx.Done()
		return 0
	}
	return runWorker(ctx, c, stack, demo, stdout, stderr)
}

// runWorker starts the worker, waits until it is ready, sends the demo
// events and waits for Ctrl-C or the worker's exit.
func runWorker(ctx context.Context, c config, stack *devstack.Stack, demo devstack.Demo, stdout, stderr io.Writer) int {
	w, err := startWorker(c.worker, c.workerEnv(stack.NATSURL, stack.RedisURL, stack.MongoURI), stdout, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "devstack: %v\n", err)
		return 1
	}
	shutdown := func(code int) int {
		fmt.Fprintln(stdout, "devstack: stopping the worker")
		if err := w.Stop(workerStopWait); err != nil {
			fmt.Fprintf(stderr, "devstack: %v\n", err)
		}
		fmt.Fprintln(stdout, "devstack: stopping the stack")
		return code
	}
	exited := func() int {
		fmt.Fprintf(stderr, "devstack: the worker exited early (%s); stopping the stack\n", w.ExitStatus())
		return 1
	}

	err = waitReady(ctx, "http://"+c.opsAddr+"/readyz", readyTimeout, w.Done())
	switch {
	case errors.Is(err, errWorkerExited):
		return exited()
	case ctx.Err() != nil:
		return shutdown(0)
	case err != nil:
		fmt.Fprintf(stderr, "devstack: %v\n", err)
		return shutdown(1)
	}
	fmt.Fprintln(stdout, "devstack: worker ready; sending demo events")

	subjects := events.Subjects{Prefix: events.DefaultPrefix}
	shared, logins := demoEvents(subjects, demo)
	join := joinEvents(subjects, demo)
	err = sendDemoEvents(ctx, stack.NATSURL, eventsTimeout, shared, logins)
	var views joinViews
	if err == nil && len(join) > 0 {
		views, err = roundTripJoin(ctx, c, stack, demo, join)
	}
	if ctx.Err() != nil {
		return shutdown(0)
	}
	if err != nil {
		fmt.Fprintf(stderr, "devstack: demo events: %v\n", err)
	}
	printResults(stdout, shared, logins, join)
	if views.read {
		printJoin(stdout, demo, views)
		user := demo.Users[demo.Join.User]
		records, err := readAudit(ctx, stack.NATSURL, user)
		if err != nil {
			fmt.Fprintf(stderr, "devstack: audit trail: %v\n", err)
		} else {
			printAudit(stdout, demo.Join.User, user, records)
		}
	}
	printMetrics(ctx, stdout, "http://"+c.opsAddr+"/metrics")
	printNextSteps(stdout, c.worker, stackEnv(stack.NATSURL, stack.RedisURL, stack.MongoURI), demo)

	select {
	case <-ctx.Done():
		return shutdown(0)
	case <-w.Done():
		return exited()
	}
}

// preflight checks the worker binary and its ops address before anything
// starts, and deletes the data of earlier runs when asked.
func preflight(c *config) error {
	if c.worker != "" {
		path, err := exec.LookPath(c.worker)
		if err != nil {
			return fmt.Errorf("worker binary: %w (build it first: make build)", err)
		}
		c.worker = path
		if err := devstack.CheckFree(c.opsAddr); err != nil {
			return fmt.Errorf("worker ops: %w", err)
		}
	}
	if c.reset {
		for _, sub := range []string{"nats", "mongo"} {
			if err := os.RemoveAll(filepath.Join(c.dataDir, sub)); err != nil {
				return fmt.Errorf("reset data: %w", err)
			}
		}
	}
	return nil
}

// seed connects to the stack's MongoDB and writes the demo data.
func seed(ctx context.Context, uri, database string) (devstack.Demo, error) {
	var demo devstack.Demo
	err := withMongo(ctx, uri, database, func(ctx context.Context, db *mongo.Database) error {
		var err error
		demo, err = devstack.SeedDemo(ctx, db)
		if err != nil {
			return fmt.Errorf("seed demo: %w", err)
		}
		return nil
	})
	return demo, err
}

// withMongo runs f on database of the MongoDB at uri, within 30 s.
func withMongo(ctx context.Context, uri, database string, f func(context.Context, *mongo.Database) error) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	client, err := mongo.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		return fmt.Errorf("connect mongo %s: %w", uri, err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = client.Disconnect(ctx)
	}()
	return f(ctx, client.Database(database))
}

// joinViews are the servers of the joining user's view (sorted names)
// before and after the group.changed round trip.
type joinViews struct {
	read          bool // both views were read
	before, after []string
}

// roundTripJoin is the group.changed demo: it reads the joining user's view
// (loaded by the logins), adds the user to the group in MongoDB, sends the
// group.changed event and reads the view again.
func roundTripJoin(ctx context.Context, c config, stack *devstack.Stack, demo devstack.Demo, join []demoEvent) (joinViews, error) {
	var v joinViews
	ropts, err := redis.ParseURL(stack.RedisURL)
	if err != nil {
		return v, fmt.Errorf("redis url: %w", err)
	}
	rdb := redis.NewClient(ropts)
	defer func() { _ = rdb.Close() }()
	rd, err := reader.New(rdb, reader.Options{KeyPrefix: workerKeyPrefix})
	if err != nil {
		return v, err
	}
	user := demo.Users[demo.Join.User]
	if v.before, err = viewNames(ctx, rd, user); err != nil {
		return v, err
	}
	err = withMongo(ctx, stack.MongoURI, c.database, func(ctx context.Context, db *mongo.Database) error {
		return demo.JoinGroup(ctx, db)
	})
	if err != nil {
		return v, err
	}
	if err := sendDemoEvents(ctx, stack.NATSURL, eventsTimeout, join); err != nil {
		return v, err
	}
	if v.after, err = viewNames(ctx, rd, user); err != nil {
		return v, err
	}
	v.read = true
	return v, nil
}

// workerKeyPrefix is the worker's default --key-prefix, which devstack
// leaves as is.
const workerKeyPrefix = "mcp:"

// viewNames returns the sorted names of user's effective view.
func viewNames(ctx context.Context, rd *reader.Reader, user string) ([]string, error) {
	v, err := rd.Effective(ctx, user)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(v.Effective))
	for name := range v.Effective {
		names = append(names, name)
	}
	slices.Sort(names)
	return names, nil
}
