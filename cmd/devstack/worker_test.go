package main

import (
	"bytes"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWorkerProcExitsEarly(t *testing.T) {
	t.Parallel()
	var out, errOut syncBuffer
	w, err := startWorker(os.Args[0], []string{fakeWorkerEnv + "=exit3"}, &out, &errOut)
	require.NoError(t, err)
	select {
	case <-w.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the fake worker did not exit")
	}
	assert.Equal(t, "exit status 3", w.ExitStatus())
	assert.Equal(t, "worker | hello from the fake worker\n", out.String())
	assert.Equal(t, "worker | no newline at the end\n", errOut.String())
	assert.EqualError(t, w.Stop(time.Second), "worker: exit status 3")
}

func TestWorkerProcStops(t *testing.T) {
	t.Parallel()
	tests := []struct {
		mode    string
		wait    time.Duration // a -race binary sleeps 1s at exit
		wantErr string
	}{
		{"sleep", 10 * time.Second, ""},
		{"ignore-term", time.Second, "worker still running 1s after SIGTERM: killed"},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			t.Parallel()
			var out syncBuffer
			w, err := startWorker(os.Args[0], []string{fakeWorkerEnv + "=" + tt.mode}, &out, &out)
			require.NoError(t, err)
			require.Eventually(t, func() bool { return out.String() != "" }, 10*time.Second, 10*time.Millisecond)
			err = w.Stop(tt.wait)
			if tt.wantErr == "" {
				require.NoError(t, err, out.String())
				assert.Equal(t, "exit status 0", w.ExitStatus())
			} else {
				assert.EqualError(t, err, tt.wantErr)
			}
			select {
			case <-w.Done():
			default:
				t.Fatal("Stop returned before the worker exited")
			}
		})
	}
}

func TestStartWorkerMissingBinary(t *testing.T) {
	t.Parallel()
	_, err := startWorker(t.TempDir()+"/nope", nil, &bytes.Buffer{}, &bytes.Buffer{})
	assert.ErrorContains(t, err, "start worker")
}

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
