package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// workerProc is the worker running as a child process.
type workerProc struct {
	cmd  *exec.Cmd
	out  *lineWriter
	errw *lineWriter
	done chan struct{}
	err  error // Wait's result, set before done is closed
}

// startWorker runs `<path> run` with devstack's environment plus env, its
// output line by line to stdout and stderr with the prefix "worker | ". The
// child gets its own process group, so a Ctrl-C reaches devstack only and
// devstack decides when the worker stops.
func startWorker(path string, env []string, stdout, stderr io.Writer) (*workerProc, error) {
	cmd := exec.Command(path, "run")
	cmd.Env = append(os.Environ(), env...)
	w := &workerProc{
		cmd:  cmd,
		out:  newLineWriter(stdout, "worker | "),
		errw: newLineWriter(stderr, "worker | "),
		done: make(chan struct{}),
	}
	cmd.Stdout, cmd.Stderr = w.out, w.errw
	cmd.SysProcAttr = sysProcAttr()
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start worker %s: %w", path, err)
	}
	go func() {
		w.err = cmd.Wait()
		w.out.Flush()
		w.errw.Flush()
		close(w.done)
	}()
	return w, nil
}

// Done is closed when the worker has exited.
func (w *workerProc) Done() <-chan struct{} { return w.done }

// ExitStatus describes how the worker ended, e.g. "exit status 1"; call it
// after Done.
func (w *workerProc) ExitStatus() string {
	if w.cmd.ProcessState != nil {
		return w.cmd.ProcessState.String()
	}
	if w.err != nil {
		return w.err.Error()
	}
	return "unknown"
}

// Stop sends SIGTERM and waits up to timeout for the worker to exit, then
// kills it. It returns an error unless the worker exited 0 on its own.
func (w *workerProc) Stop(timeout time.Duration) error {
	select {
	case <-w.done:
		return w.exitErr()
	default:
	}
	if err := w.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("signal worker: %w", err)
	}
	select {
	case <-w.done:
		return w.exitErr()
	case <-time.After(timeout):
		_ = w.cmd.Process.Kill()
		<-w.done
		return fmt.Errorf("worker still running %s after SIGTERM: killed", timeout)
	}
}

func (w *workerProc) exitErr() error {
	if w.err != nil {
		return fmt.Errorf("worker: %s", w.ExitStatus())
	}
	return nil
}
