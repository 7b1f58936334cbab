package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"go.uber.org/zap"
)

// redisLogEvery is the most often a go-redis log line reaches the log.
const redisLogEvery = 10 * time.Second

// redisLogger routes go-redis's own log lines (dial failures while Redis is
// down, pool warnings) through zap, at most one every redisLogEvery with a
// count of those suppressed, so an outage does not flood the log.
type redisLogger struct {
	log        *zap.Logger
	mu         sync.Mutex
	last       time.Time
	suppressed int
}

// Printf implements go-redis's logging interface.
func (l *redisLogger) Printf(_ context.Context, format string, v ...any) {
	l.mu.Lock()
	now := time.Now()
	if now.Sub(l.last) < redisLogEvery {
		l.suppressed++
		l.mu.Unlock()
		return
	}
	suppressed := l.suppressed
	l.last, l.suppressed = now, 0
	l.mu.Unlock()
	l.log.Warn("Redis client", zap.String("detail", fmt.Sprintf(format, v...)), zap.Int("suppressed", suppressed))
}
