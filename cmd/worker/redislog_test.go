package main

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

func TestRedisLoggerIsRateLimited(t *testing.T) {
	core, logs := observer.New(zap.InfoLevel)
	l := &redisLogger{log: zap.New(core)}
	for range 5 {
		l.Printf(context.Background(), "dial tcp %s: connection refused", "127.0.0.1:6379")
	}
	entries := logs.All()
	assert.Len(t, entries, 1, "one line per period")
	assert.Equal(t, "dial tcp 127.0.0.1:6379: connection refused", entries[0].ContextMap()["detail"])
}
