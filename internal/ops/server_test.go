package ops_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcp-registry/worker/internal/ops"
)

func TestHealthz(t *testing.T) {
	t.Parallel()
	// A failing readiness check does not make the process unhealthy.
	s := ops.New(ops.Params{Ready: map[string]ops.Check{
		"redis": func(context.Context) error { return errors.New("down") },
	}})
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, "ok", rec.Body.String())
}

func TestRoutes(t *testing.T) {
	t.Parallel()
	s := ops.New(ops.Params{})
	tests := []struct {
		method, path string
		code         int
	}{
		{http.MethodGet, "/healthz", http.StatusOK},
		{http.MethodHead, "/healthz", http.StatusOK},
		{http.MethodGet, "/readyz", http.StatusOK},
		{http.MethodGet, "/metrics", http.StatusOK},
		{http.MethodPost, "/readyz", http.StatusMethodNotAllowed},
		{http.MethodGet, "/", http.StatusNotFound},
		{http.MethodGet, "/debug/pprof/", http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			t.Parallel()
			rec := httptest.NewRecorder()
			s.Handler().ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, nil))
			assert.Equal(t, tt.code, rec.Code)
		})
	}
}

func TestMetricsExposesRegistry(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "ops_test_events_total", Help: "Test counter."})
	reg.MustRegister(c)
	c.Add(3)
	s := ops.New(ops.Params{Registry: reg})

	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Contains(t, rec.Body.String(), "\nops_test_events_total 3\n")
}

func newClient(t *testing.T) *http.Client {
	t.Helper()
	tr := &http.Transport{DisableKeepAlives: true}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 5 * time.Second}
}

func get(c *http.Client, url string) (int, string, error) {
	resp, err := c.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

func TestStartServeStop(t *testing.T) {
	t.Parallel()
	s := ops.New(ops.Params{
		Addr:  "127.0.0.1:0",
		Ready: map[string]ops.Check{"nats": pass},
	})
	assert.Empty(t, s.Addr(), "not bound before Start")
	require.NoError(t, s.Start(t.Context()))
	addr := s.Addr()
	require.NotEmpty(t, addr)
	assert.NotEqual(t, "127.0.0.1:0", addr, "Addr reports the real port")
	assert.ErrorIs(t, s.Start(t.Context()), ops.ErrAlreadyStarted)

	c := newClient(t)
	code, body, err := get(c, "http://"+addr+"/healthz")
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "ok", body)
	code, body, err = get(c, "http://"+addr+"/readyz")
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, code)
	assert.JSONEq(t, `{"nats":"ok"}`, body)

	require.NoError(t, s.Stop(t.Context()))
	assert.Empty(t, s.Addr())
	_, _, err = get(c, "http://"+addr+"/healthz")
	require.Error(t, err, "nothing listens after Stop")
	require.NoError(t, s.Stop(t.Context()), "a second Stop is a no-op")
}

func TestStartOnTakenAddressNamesIt(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	addr := ln.Addr().String()

	s := ops.New(ops.Params{Addr: addr})
	err = s.Start(t.Context())
	require.Error(t, err)
	assert.Contains(t, err.Error(), addr)
	assert.Empty(t, s.Addr())
	require.NoError(t, s.Stop(t.Context()))
}

func TestDisabled(t *testing.T) {
	t.Parallel()
	s := ops.New(ops.Params{Addr: ""})
	require.NoError(t, s.Start(t.Context()))
	assert.Empty(t, s.Addr())
	require.NoError(t, s.Stop(t.Context()))
}

// Stop with a context that ends while a request is in flight closes the
// connection, reports the deadline, and still returns only when serving ended.
func TestStopForcesCloseAfterDeadline(t *testing.T) {
	t.Parallel()
	entered := make(chan struct{})
	s := ops.New(ops.Params{
		Addr: "127.0.0.1:0",
		Ready: map[string]ops.Check{"slow": func(ctx context.Context) error {
			close(entered)
			return waitForCtx(ctx)
		}},
		ReadyTimeout: time.Minute,
	})
	require.NoError(t, s.Start(t.Context()))
	c := newClient(t)
	reqDone := make(chan error, 1)
	go func() {
		_, _, err := get(c, "http://"+s.Addr()+"/readyz")
		reqDone <- err
	}()
	<-entered

	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	err := s.Stop(ctx)
	require.Error(t, err)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.True(t, strings.HasPrefix(err.Error(), "ops shutdown: "), err.Error())
	select {
	case err := <-reqDone:
		assert.Error(t, err, "the in-flight request was cut off")
	case <-time.After(5 * time.Second):
		t.Fatal("in-flight request still running after Stop")
	}
}
