package main

import (
	"context"

	"github.com/mcp-registry/worker/internal/events"
	"github.com/mcp-registry/worker/internal/registry"
)

// parking keeps the events held for MongoDB in Redis (events.Parking on
// registry.Registry's parking lists).
type parking struct{ reg *registry.Registry }

var _ events.Parking = parking{}

func newParking(reg *registry.Registry) events.Parking { return parking{reg: reg} }

func (p parking) Park(ctx context.Context, dep events.Dependency, entry []byte) error {
	return p.reg.Park(ctx, string(dep), entry)
}

func (p parking) Parked(ctx context.Context, dep events.Dependency, n int) ([][]byte, error) {
	return p.reg.Parked(ctx, string(dep), n)
}

func (p parking) Unpark(ctx context.Context, dep events.Dependency, entry []byte) error {
	return p.reg.Unpark(ctx, string(dep), entry)
}
