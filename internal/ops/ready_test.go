package ops_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/mcp-registry/worker/internal/ops"
)

func pass(context.Context) error { return nil }

func waitForCtx(ctx context.Context) error {
	<-ctx.Done()
	return ctx.Err()
}

func getReady(t *testing.T, s *ops.Server) (int, map[string]string) {
	t.Helper()
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
	var body map[string]string
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body), rec.Body.String())
	return rec.Code, body
}

func TestReadyz(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		checks map[string]ops.Check
		code   int
		want   map[string]string
	}{
		{
			name:   "no checks",
			checks: nil,
			code:   http.StatusOK,
			want:   map[string]string{},
		},
		{
			name:   "all pass",
			checks: map[string]ops.Check{"nats": pass, "redis": pass, "mongodb": pass},
			code:   http.StatusOK,
			want:   map[string]string{"nats": "ok", "redis": "ok", "mongodb": "ok"},
		},
		{
			name: "one fails",
			checks: map[string]ops.Check{
				"nats":  pass,
				"redis": func(context.Context) error { return errors.New("dial tcp 127.0.0.1:6379: connection refused") },
			},
			code: http.StatusServiceUnavailable,
			want: map[string]string{"nats": "ok", "redis": "failing"}, // the error goes to the log only
		},
		{
			name:   "panicking check",
			checks: map[string]ops.Check{"consumer": func(context.Context) error { panic("boom") }},
			code:   http.StatusServiceUnavailable,
			want:   map[string]string{"consumer": "failing"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := ops.New(ops.Params{Ready: tt.checks, ReadyTimeout: 50 * time.Millisecond})
			code, body := getReady(t, s)
			assert.Equal(t, tt.code, code)
			assert.Equal(t, tt.want, body)
		})
	}
}

// A check that waits for its deadline fails with it.
func TestReadyzDeadline(t *testing.T) {
	t.Parallel()
	s := ops.New(ops.Params{
		Ready:        map[string]ops.Check{"nats": pass, "mongodb": waitForCtx},
		ReadyTimeout: 50 * time.Millisecond,
	})
	code, body := getReady(t, s)
	assert.Equal(t, http.StatusServiceUnavailable, code)
	assert.Equal(t, "ok", body["nats"])
	assert.Equal(t, "failing", body["mongodb"])
}

// A check that ignores its context still cannot hold the answer past the
// timeout.
func TestReadyzCheckIgnoringDeadline(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	defer close(release)
	stuck := func(context.Context) error { <-release; return nil }
	s := ops.New(ops.Params{
		Ready:        map[string]ops.Check{"stuck": stuck, "nats": pass},
		ReadyTimeout: 50 * time.Millisecond,
	})

	start := time.Now()
	code, body := getReady(t, s)
	assert.Less(t, time.Since(start), time.Second)
	assert.Equal(t, http.StatusServiceUnavailable, code)
	assert.Equal(t, "ok", body["nats"])
	assert.Equal(t, "failing", body["stuck"])
}

// Checks run concurrently: each of these two waits for the other to have
// started, which never happens if they run one after the other.
func TestReadyzRunsChecksConcurrently(t *testing.T) {
	t.Parallel()
	a, b := make(chan struct{}), make(chan struct{})
	meet := func(mine, theirs chan struct{}) ops.Check {
		return func(ctx context.Context) error {
			close(mine)
			select {
			case <-theirs:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	s := ops.New(ops.Params{
		Ready:        map[string]ops.Check{"a": meet(a, b), "b": meet(b, a)},
		ReadyTimeout: 5 * time.Second,
	})
	code, body := getReady(t, s)
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, map[string]string{"a": "ok", "b": "ok"}, body)
}

func TestReadyzLogsChangesOnly(t *testing.T) {
	t.Parallel()
	core, logs := observer.New(zapcore.InfoLevel)
	var down bool
	redis := func(context.Context) error {
		if down {
			return errors.New("redis down")
		}
		return nil
	}
	s := ops.New(ops.Params{Ready: map[string]ops.Check{"redis": redis}, Logger: zap.New(core), ReadyCache: -1})

	for _, d := range []bool{false, true, true, false, false} {
		down = d
		getReady(t, s)
	}
	entries := logs.All()
	require.Len(t, entries, 2)
	assert.Equal(t, "Not ready", entries[0].Message)
	assert.Equal(t, zapcore.WarnLevel, entries[0].Level)
	assert.Equal(t, []any{"redis"}, entries[0].ContextMap()["failing"])
	assert.Equal(t, map[string]any{"redis": "redis down"}, entries[0].ContextMap()["errors"])
	assert.Equal(t, "Ready", entries[1].Message)
	assert.Equal(t, "ops", entries[1].LoggerName)
}
