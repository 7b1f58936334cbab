package bench

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcp-registry/worker/internal/testenv"
)

// natsProcess is a nats-server in a process of its own, built from the
// nats-server module this project embeds elsewhere (the same release), so
// that the worker's CPU time is not shared with the server's inside one Go
// process, as in a deployment.
type natsProcess struct {
	URL string
	cmd *exec.Cmd
}

// cpu returns the CPU time (user + system) the server process has used, from
// /proc (0 where there is none).
func (p *natsProcess) cpu() time.Duration {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	// Fields after the command name (which may hold spaces): state is the
	// 3rd field, utime and stime the 14th and 15th, in clock ticks (100/s).
	rest := string(stat[strings.LastIndexByte(string(stat), ')')+2:])
	f := strings.Fields(rest)
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond
}

var (
	natsBinOnce sync.Once
	natsBin     string
	natsBinErr  error
)

// natsServerBinary builds nats-server once per benchmark process.
func natsServerBinary() (string, error) {
	natsBinOnce.Do(func() {
		dir, err := os.MkdirTemp("", "mcp-bench-nats-")
		if err != nil {
			natsBinErr = err
			return
		}
		natsBin = filepath.Join(dir, "nats-server")
		out, err := exec.Command("go", "build", "-o", natsBin, "github.com/nats-io/nats-server/v2").CombinedOutput()
		if err != nil {
			natsBinErr = fmt.Errorf("go build nats-server: %w: %s", err, out)
		}
	})
	return natsBin, natsBinErr
}

// startNATSProcess starts nats-server with JetStream (file store in a
// temporary directory) on a free loopback port; cleanup stops it.
func startNATSProcess(tb testing.TB) *natsProcess {
	tb.Helper()
	bin, err := natsServerBinary()
	if err != nil {
		tb.Fatal(err)
	}
	addr := testenv.FreeAddr(tb)
	host, port, _ := net.SplitHostPort(addr)
	cmd := exec.Command(bin, "-a", host, "-p", port, "-js", "-sd", tb.TempDir())
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start nats-server: %v", err)
	}
	p := &natsProcess{URL: "nats://" + addr, cmd: cmd}
	tb.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	if !testenv.WaitListening(addr, 10*time.Second) {
		tb.Fatalf("nats-server on %s not listening after 10s", addr)
	}
	return p
}
