package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/mcp-registry/worker/internal/devstack"
	"github.com/mcp-registry/worker/internal/events"
)

// mongoGate lets the fault injector stop MongoDB only between two
// generator steps, so that no LibreChat write is cut in half; while down,
// the generator publishes logins only (nothing else can be written).
type mongoGate struct {
	mu sync.RWMutex
	up bool
}

func (g *mongoGate) set(up bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.up = up
}

// generator publishes the model's changes at a steady rate.
type generator struct {
	js      jetstream.JetStream
	lc      devstack.LibreChat
	model   *model
	tr      *tracker
	gate    *mongoGate
	seed    uint64
	n       int
	retries int // publishes tried again (same Nats-Msg-Id)
}

// run steps every 1/rate seconds until ctx is done. A step that cannot be
// completed ends the run with an error: the model would be wrong.
func (g *generator) run(ctx context.Context, rate float64) error {
	tick := time.NewTicker(time.Duration(float64(time.Second) / rate))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		if err := g.step(ctx); err != nil {
			return err
		}
	}
}

func (g *generator) step(ctx context.Context) error {
	g.gate.mu.RLock()
	defer g.gate.mu.RUnlock()
	ch := g.model.next(g.gate.up)
	if err := g.write(ctx, ch); err != nil {
		return err
	}
	for _, ev := range ch.commit() {
		if err := g.publish(ev); err != nil {
			return err
		}
	}
	return nil
}

// write makes the change's MongoDB writes, trying again for a while (the
// writes are idempotent). A step once begun is finished even when the run
// ends meanwhile: a change half written would leave MongoDB and the model
// apart.
func (g *generator) write(ctx context.Context, ch change) error {
	if ch.mongo == nil {
		return nil
	}
	ctx = context.WithoutCancel(ctx)
	var err error
	for range 10 {
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err = ch.mongo(wctx, g.lc)
		cancel()
		if err == nil {
			return nil
		}
		time.Sleep(time.Second)
	}
	return fmt.Errorf("mongodb write of a %s: %w", ch.kind, err)
}

// publish sends ev until JetStream acknowledges it, always with the same
// Nats-Msg-Id (a retry after a lost ack is dropped as a duplicate).
func (g *generator) publish(ev event) error {
	g.n++
	ev.id = fmt.Sprintf("soak-%d-%d", g.seed, g.n)
	msg := nats.NewMsg(events.DefaultPrefix + "." + ev.subject)
	msg.Data = ev.marshal()
	msg.Header.Set(nats.MsgIdHdr, ev.id)
	msg.Header.Set(events.HeaderNotify, notifyPrefix+ev.id)
	g.tr.published(ev.id, ev.kind, time.Now())
	deadline := time.Now().Add(2 * time.Minute)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err := g.js.PublishMsg(ctx, msg)
		cancel()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("publish %s: %w", ev.id, err)
		}
		g.retries++
		time.Sleep(100 * time.Millisecond)
	}
}
