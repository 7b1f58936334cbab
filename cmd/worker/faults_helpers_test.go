package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/mcp-registry/worker/internal/devstack"
	"github.com/mcp-registry/worker/internal/events"
	"github.com/mcp-registry/worker/internal/registry"
)

// buildWorker builds the real worker binary (from this package's directory)
// into a temp dir and returns its path.
func buildWorker(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "worker")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, "go build: %s", out)
	return bin
}

// workerProcess is a `worker run` child process; its output is kept and
// printed when the test fails.
type workerProcess struct {
	name string
	cmd  *exec.Cmd
	out  *lockedBuffer
	done chan struct{}
	err  error // cmd.Wait's result, set before done is closed
}

// startProcess starts bin with args and exactly env (nothing inherited).
// Cleanup kills it if it still runs.
func startProcess(t *testing.T, name, bin string, env []string, args ...string) *workerProcess {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	p := &workerProcess{name: name, cmd: cmd, out: &lockedBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	require.NoError(t, cmd.Start())
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		if !p.exited() {
			_ = cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("output of worker %s (pid %d):\n%s", p.name, cmd.Process.Pid, p.out.String())
		}
	})
	return p
}

func (p *workerProcess) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

func (p *workerProcess) signal(t *testing.T, sig os.Signal) {
	t.Helper()
	require.NoError(t, p.cmd.Process.Signal(sig), "signal %s to worker %s", sig, p.name)
}

// wait waits for the process to exit and returns its exit code (-1: killed
// by a signal).
func (p *workerProcess) wait(t *testing.T, timeout time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
		return p.cmd.ProcessState.ExitCode()
	case <-time.After(timeout):
		t.Fatalf("worker %s still running %s after the signal", p.name, timeout)
		return 0
	}
}

// requireRunning fails the test when the process has exited.
func (p *workerProcess) requireRunning(t *testing.T) {
	t.Helper()
	if p.exited() {
		t.Fatalf("worker %s exited early (%v):\n%s", p.name, p.err, p.out.String())
	}
}

// processEnv is the environment of a `worker run` process on these servers:
// the standard names plus MCP_WORKER_* for the rest (see envName).
func processEnv(natsURL, redisURL, mongoURI string, extra map[string]string) []string {
	env := []string{"NATS_URL=" + natsURL, "REDIS_URL=" + redisURL, "MONGODB_URI=" + mongoURI}
	for flagName, v := range extra {
		env = append(env, envName(flagName)+"="+v)
	}
	return env
}

// seedUsers inserts n LibreChat users (no grant at all) and returns their ids.
func seedUsers(ctx context.Context, t *testing.T, lc devstack.LibreChat, n int) []string {
	t.Helper()
	ids := make([]string, n)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	next := make(chan int)
	for range 16 {
		wg.Go(func() {
			for i := range next {
				id, err := lc.AddUser(ctx, "USER", "")
				if err != nil {
					errs <- err
					continue
				}
				ids[i] = id.Hex()
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	return ids
}

// publishLogins publishes one user.login per user (asynchronously, each
// with its own Nats-Msg-Id) and requires every publish to be acknowledged.
func publishLogins(ctx context.Context, t *testing.T, js jetstream.JetStream, tag string, users []string) {
	t.Helper()
	acks := make([]jetstream.PubAckFuture, 0, len(users))
	for _, u := range users {
		msg := nats.NewMsg("mcp.user.login")
		msg.Data = fmt.Appendf(nil, `{"userId":%q}`, u)
		msg.Header.Set(nats.MsgIdHdr, tag+"-"+u)
		f, err := js.PublishMsgAsync(msg)
		require.NoError(t, err)
		acks = append(acks, f)
	}
	for _, f := range acks {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			t.Fatalf("publish login: %v", err)
		case <-ctx.Done():
			t.Fatalf("publish %d logins: %v", len(users), ctx.Err())
		}
	}
}

// consumerInfo reads the durable consumer's state (nil while unavailable).
func consumerInfo(js jetstream.JetStream, cfg Config) *jetstream.ConsumerInfo {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	c, err := js.Consumer(ctx, cfg.Stream, cfg.Consumer)
	if err != nil {
		return nil
	}
	info, err := c.Info(ctx)
	if err != nil {
		return nil
	}
	return info
}

// settled reports whether the durable consumer has nothing pending or unacked.
func settled(js jetstream.JetStream, cfg Config) bool {
	info := consumerInfo(js, cfg)
	return info != nil && info.NumPending == 0 && info.NumAckPending == 0
}

// requireNoDeadLetters fails when the dead-letter stream holds anything.
func requireNoDeadLetters(ctx context.Context, t *testing.T, js jetstream.JetStream, cfg Config) {
	t.Helper()
	dead, err := events.ListDeadLetters(ctx, js, cfg.eventsConfig(), 0)
	require.NoError(t, err)
	require.Empty(t, dead, "dead letters")
}

// countLoaded counts the users whose loaded flag is set (one pipeline).
func countLoaded(ctx context.Context, rdb *redis.Client, keys registry.Keys, users []string) (int, error) {
	cmds := make([]*redis.IntCmd, len(users))
	_, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, u := range users {
			cmds[i] = p.Exists(ctx, keys.UserMembers(u))
		}
		return nil
	})
	n := 0
	for _, c := range cmds {
		n += int(c.Val())
	}
	return n, err
}

// serverValues reads each user's membership of server (one pipeline) and the
// server's one value; it returns how many users hold the server and how many
// of those see exactly want (all of them or none: the value is stored once).
func serverValues(ctx context.Context, rdb *redis.Client, keys registry.Keys, users []string, server, want string) (has, exact int, err error) {
	cmds := make([]*redis.StringCmd, len(users))
	var value *redis.StringCmd
	_, err = rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, u := range users {
			cmds[i] = p.HGet(ctx, keys.UserMembers(u), server)
		}
		value = p.Get(ctx, keys.ServerValue(server))
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return 0, 0, err
	}
	for _, c := range cmds {
		v, err := c.Result()
		if err != nil || strings.HasPrefix(v, "-") {
			continue
		}
		has++
		if value.Val() == want {
			exact++
		}
	}
	return has, exact, nil
}

// waitUntil polls cond every 20 ms in the test's goroutine until it holds;
// it fails after timeout, or at once when one of procs has exited.
func waitUntil(t *testing.T, timeout time.Duration, what string, cond func() bool, procs ...*workerProcess) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		for _, p := range procs {
			p.requireRunning(t)
		}
		if time.Now().After(deadline) {
			t.Fatalf("not within %s: %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitStopped waits until the kernel reports the process stopped (state T
// in /proc/<pid>/stat) after a SIGSTOP.
func (p *workerProcess) waitStopped(t *testing.T) {
	t.Helper()
	stat := fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid)
	waitUntil(t, 5*time.Second, "worker "+p.name+" stopped", func() bool {
		b, err := os.ReadFile(stat)
		if err != nil {
			return false
		}
		// pid (comm) state ...: the state follows the last ')'.
		i := bytes.LastIndexByte(b, ')')
		return i > 0 && i+2 < len(b) && (b[i+2] == 'T' || b[i+2] == 't')
	}, p)
}

// loadEmpty marks users loaded with zero servers through the registry's own
// load steps (BeginLoad and CommitLoad, fenced by a lock the test takes for
// each user), as a login of a user without grants would: far faster than
// thousands of logins against FerretDB.
func loadEmpty(ctx context.Context, t *testing.T, reg *registry.Registry, rdb *redis.Client, users []string) {
	t.Helper()
	const token = "seed-token"
	keys := reg.Keys()
	errs := make(chan error, len(users))
	next := make(chan string)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for u := range next {
				errs <- func() error {
					if err := rdb.Set(ctx, keys.UserLock(u), token, time.Minute).Err(); err != nil {
						return err
					}
					if began, _, err := reg.BeginLoad(ctx, u, token, registry.ModeLogin); err != nil || !began {
						return fmt.Errorf("begin load of %s: began %v: %w", u, began, err)
					}
					if _, err := reg.CommitLoad(ctx, u, token, "", nil); err != nil {
						return err
					}
					return rdb.Del(ctx, keys.UserLock(u)).Err()
				}()
			}
		})
	}
	for _, u := range users {
		next <- u
	}
	close(next)
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
}
