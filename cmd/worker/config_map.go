package main

import (
	"github.com/mcp-registry/worker/internal/events"
	"github.com/mcp-registry/worker/internal/handlers"
	"github.com/mcp-registry/worker/internal/lockstatus"
	"github.com/mcp-registry/worker/internal/registry"
	"github.com/mcp-registry/worker/internal/serverdb"
)

// The per-package configs, derived from the one Config.

func (c Config) eventsConfig() events.Config {
	e := events.DefaultConfig()
	e.Stream, e.DLQStream, e.Prefix, e.Consumer = c.Stream, c.dlqStream(), c.SubjectPrefix, c.Consumer
	e.Provision, e.NotifyPrefix = c.Provision, c.NotifyPrefix
	e.Concurrency, e.HandlerTimeout, e.AckWait = c.Concurrency, c.HandlerTimeout, c.AckWait
	e.MaxAckPending, e.StreamMaxAge, e.MaxPayload = c.MaxAckPending, c.StreamMaxAge, c.MaxPayload
	e.MaxAllowedUsers, e.MaxConfigBytes = c.MaxAllowedUsers, c.MaxConfigBytes
	e.StreamReplicas = c.StreamReplicas
	e.DLQMaxAge, e.DLQMaxBytes = c.DLQMaxAge, int64(c.DLQMaxBytes)
	e.AuditStream, e.AuditMaxAge = c.auditStream(), c.AuditMaxAge
	e.Retry.MaxDeliver, e.Retry.BaseDelay, e.Retry.MaxDelay = c.MaxDeliver, c.RetryBaseDelay, c.RetryMaxDelay
	e.LogSummaryEvery = c.LogSummaryEvery
	e.Outage.Errors, e.Outage.ProbeMax = c.OutageErrors, c.OutageProbeMax
	return e
}

func (c Config) registryConfig() registry.Config {
	r := registry.DefaultConfig()
	r.KeyPrefix, r.CacheTTL, r.TombstoneTTL = c.KeyPrefix, c.CacheTTL, c.TombstoneTTL
	if p := 2*c.HandlerTimeout + c.LockTTL; p > r.PendingTTL {
		r.PendingTTL = p
	}
	return r
}

func (c Config) lockConfig() lockstatus.Config {
	l := lockstatus.DefaultConfig()
	l.TTL = c.LockTTL
	return l
}

func (c Config) serverdbConfig() serverdb.Config {
	return serverdb.Config{Database: c.MongoDatabase}
}

func (c Config) handlersConfig() handlers.Config { return handlers.Config{} }
