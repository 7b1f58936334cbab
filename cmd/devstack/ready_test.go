package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcp-registry/worker/internal/testenv"
)

func TestWaitReady(t *testing.T) {
	t.Parallel()
	t.Run("ready after a few tries", func(t *testing.T) {
		t.Parallel()
		var calls atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			if calls.Add(1) < 3 {
				http.Error(w, "nats: down", http.StatusServiceUnavailable)
			}
		}))
		defer srv.Close()
		require.NoError(t, waitReady(context.Background(), srv.URL, 5*time.Second, nil))
		assert.Equal(t, int32(3), calls.Load())
	})
	t.Run("timeout names what is not ready", func(t *testing.T) {
		t.Parallel()
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "{\n \"mongodb\": \"unreachable\"\n}", http.StatusServiceUnavailable)
		}))
		defer srv.Close()
		err := waitReady(context.Background(), srv.URL, 600*time.Millisecond, nil)
		require.Error(t, err)
		assert.Contains(t, err.Error(), `503 { "mongodb": "unreachable" }`)
		assert.NotContains(t, err.Error(), "\n")
	})
	t.Run("nothing listens", func(t *testing.T) {
		t.Parallel()
		err := waitReady(context.Background(), "http://"+testenv.FreeAddr(t)+"/readyz", 500*time.Millisecond, nil)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "connection refused")
	})
	t.Run("worker exits", func(t *testing.T) {
		t.Parallel()
		exited := make(chan struct{})
		close(exited)
		err := waitReady(context.Background(), "http://"+testenv.FreeAddr(t)+"/readyz", time.Minute, exited)
		assert.ErrorIs(t, err, errWorkerExited)
	})
	t.Run("cancelled", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		err := waitReady(ctx, "http://"+testenv.FreeAddr(t)+"/readyz", time.Minute, nil)
		assert.ErrorIs(t, err, context.Canceled)
	})
}
