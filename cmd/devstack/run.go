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
	"syscall"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/mcp-registry/worker/internal/devstack"
	"github.com/mcp-registry/worker/internal/events"
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
	fmt.Fprintf(stdout, "devstack: seeded %d users and %d servers into %s\n", len(demo.Users), len(demo.Servers), c.database)
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

	shared, logins := demoEvents(events.Subjects{Prefix: events.DefaultPrefix}, demo)
	err = sendDemoEvents(ctx, stack.NATSURL, eventsTimeout, shared, logins)
	if ctx.Err() != nil {
		return shutdown(0)
	}
	if err != nil {
		fmt.Fprintf(stderr, "devstack: demo events: %v\n", err)
	}
	printResults(stdout, shared, logins)
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
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	client, err := mongo.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		return devstack.Demo{}, fmt.Errorf("connect mongo %s: %w", uri, err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = client.Disconnect(ctx)
	}()
	demo, err := devstack.SeedDemo(ctx, client.Database(database))
	if err != nil {
		return devstack.Demo{}, fmt.Errorf("seed demo: %w", err)
	}
	return demo, nil
}
