package ops

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.uber.org/zap"
)

// DefaultReadyTimeout bounds the readiness checks of one /readyz request when
// Params.ReadyTimeout is zero.
const DefaultReadyTimeout = 2 * time.Second

// DefaultReadyCache is how long a /readyz result is reused when
// Params.ReadyCache is zero: probes never ping the dependencies more often.
const DefaultReadyCache = time.Second

// Params configures a Server.
type Params struct {
	// Addr is the listen address, e.g. ":9090" or "127.0.0.1:0"; empty
	// disables the listener.
	Addr string
	// Registry is what /metrics exposes; nil exposes an empty registry.
	Registry *prometheus.Registry
	// Ready holds the readiness checks of /readyz by name (e.g. "nats").
	Ready map[string]Check
	// ReadyTimeout bounds all checks of one request; zero means
	// DefaultReadyTimeout.
	ReadyTimeout time.Duration
	// ReadyCache is how long one run of the checks answers /readyz; zero
	// means DefaultReadyCache, negative runs them on every request.
	ReadyCache time.Duration
	// Clock returns the time for the readiness cache; nil means time.Now.
	Clock func() time.Time
	// Logger receives start, stop, serve errors and readiness changes; nil
	// discards them.
	Logger *zap.Logger
}

// Server is the ops HTTP listener. Start and Stop may be called from
// different goroutines; a stopped Server can be started again.
type Server struct {
	addr    string
	handler http.Handler
	log     *zap.Logger
	timeout time.Duration

	mu    sync.Mutex
	srv   *http.Server
	bound string
	done  chan struct{}
}

// New builds a Server with its routes; nothing listens until Start.
func New(p Params) *Server {
	log := p.Logger
	if log == nil {
		log = zap.NewNop()
	}
	log = log.Named("ops")
	reg := p.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	timeout := p.ReadyTimeout
	if timeout <= 0 {
		timeout = DefaultReadyTimeout
	}

	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog:      promLogger{log: log},
		ErrorHandling: promhttp.ContinueOnError,
	}))
	mux.HandleFunc("GET /healthz", healthz)
	cacheFor := p.ReadyCache
	if cacheFor == 0 {
		cacheFor = DefaultReadyCache
	}
	mux.Handle("GET /readyz", newReadiness(p.Ready, timeout, cacheFor, p.Clock, log))

	return &Server{addr: p.Addr, handler: mux, log: log, timeout: timeout}
}

// Handler returns the handler serving every route, for tests or for mounting
// on another listener.
func (s *Server) Handler() http.Handler { return s.handler }

// Start binds the address and serves in a goroutine, returning at once. With
// an empty address it does nothing. ctx bounds only the bind.
func (s *Server) Start(ctx context.Context) error {
	if s.addr == "" {
		s.log.Info("Ops listener disabled")
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		return ErrAlreadyStarted
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", s.addr)
	if err != nil {
		return fmt.Errorf("ops listen on %s: %w", s.addr, err)
	}
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      s.timeout + 30*time.Second,
		IdleTimeout:       time.Minute,
		ErrorLog:          zap.NewStdLog(s.log),
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("Ops listener stopped serving", zap.Error(err))
		}
	}()
	s.srv, s.done, s.bound = srv, done, ln.Addr().String()
	s.log.Info("Ops listener started", zap.String("addr", s.bound))
	return nil
}

// Stop shuts the listener down gracefully: it stops accepting, waits for
// in-flight requests until ctx ends, then closes what is left. It returns once
// the serving goroutine has ended. Stopping a Server that is not running does
// nothing.
func (s *Server) Stop(ctx context.Context) error {
	s.mu.Lock()
	srv, done := s.srv, s.done
	s.srv, s.done, s.bound = nil, nil, ""
	s.mu.Unlock()
	if srv == nil {
		return nil
	}
	err := srv.Shutdown(ctx)
	if err != nil {
		err = errors.Join(err, srv.Close())
	}
	<-done
	if err != nil {
		return fmt.Errorf("ops shutdown: %w", err)
	}
	s.log.Info("Ops listener stopped")
	return nil
}

// Addr returns the address the listener is bound to (the real port when
// Params.Addr ends in ":0"), or "" when it is not running.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bound
}

func healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte("ok"))
}

// promLogger sends promhttp's gathering errors to zap.
type promLogger struct{ log *zap.Logger }

func (l promLogger) Println(v ...any) {
	l.log.Error("Metrics gathering failed", zap.String("error", fmt.Sprint(v...)))
}
