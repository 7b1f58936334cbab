package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// worker is one `worker run` process slot: killed and started again on the
// same ops port, its output appended to one log file.
type worker struct {
	name, bin, logPath string
	env, args          []string
	opsAddr            string
	cmd                *exec.Cmd
	exited             chan struct{}
}

func newWorker(name, bin, dir string, env, args []string) (*worker, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	w := &worker{name: name, bin: bin, logPath: filepath.Join(dir, name+".log"), args: append([]string{"run"}, args...)}
	w.opsAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	w.env = append(append([]string{}, env...), "MCP_WORKER_OPS_ADDR="+w.opsAddr)
	return w, nil
}

// start starts the process and waits until its /readyz answers 200.
func (w *worker) start(timeout time.Duration) error {
	out, err := os.OpenFile(w.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(w.bin, w.args...)
	cmd.Env, cmd.Stdout, cmd.Stderr, cmd.SysProcAttr = w.env, out, out, childAttr()
	if err := cmd.Start(); err != nil {
		_ = out.Close()
		return fmt.Errorf("start %s: %w", w.name, err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		_ = out.Close()
		close(exited)
	}()
	w.cmd, w.exited = cmd, exited
	return w.waitReady(timeout)
}

// waitReady polls /readyz until it answers 200; it fails at once when the
// process exits.
func (w *worker) waitReady(timeout time.Duration) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(timeout)
	for {
		select {
		case <-w.exited:
			return fmt.Errorf("%s exited (see %s)", w.name, w.logPath)
		default:
		}
		if ready(client, "http://"+w.opsAddr+"/readyz") {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready after %s (see %s)", w.name, timeout, w.logPath)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func ready(client *http.Client, url string) bool {
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
	if err != nil {
		return false
	}
	resp, err := client.Do(req)
	if err != nil {
		return false
	}
	_ = resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// kill sends SIGKILL and waits for the process to be gone.
func (w *worker) kill() {
	if w.cmd == nil {
		return
	}
	_ = w.cmd.Process.Signal(syscall.SIGKILL)
	<-w.exited
	w.cmd = nil
}

// stop sends SIGTERM (a clean drain) and waits, killing it after timeout.
func (w *worker) stop(timeout time.Duration) {
	if w.cmd == nil {
		return
	}
	_ = w.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-w.exited:
	case <-time.After(timeout):
		w.kill()
	}
	w.cmd = nil
}
