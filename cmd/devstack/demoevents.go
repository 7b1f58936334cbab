package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/mcp-registry/worker/internal/devstack"
	"github.com/mcp-registry/worker/internal/events"
)

// demoEvent is one event devstack sends, with the worker's result once known.
type demoEvent struct {
	Label   string // e.g. "user.login alice"
	Subject string
	EventID string
	Payload map[string]any
	Result  *eventResult
}

// eventResult is the worker's Mcp-Notify result.
type eventResult struct {
	EventID string `json:"eventId"`
	Subject string `json:"subject"`
	Outcome string `json:"outcome"`
	Error   string `json:"error"`
}

// demoEvents builds the demo: every shared demo server is announced with
// server.shared, then every demo user logs in.
func demoEvents(subjects events.Subjects, d devstack.Demo) ([]demoEvent, []demoEvent) {
	run := randomHex(4)
	now := time.Now().UTC().Format(time.RFC3339)
	var shared, logins []demoEvent
	for i, name := range d.Shared {
		id := fmt.Sprintf("devstack-%s-shared-%d", run, i)
		shared = append(shared, demoEvent{
			Label: "server.shared " + name, Subject: subjects.For(events.KindServerShared), EventID: id,
			Payload: map[string]any{
				"serverName": name, "config": d.Configs[name], "version": d.Versions[name],
				"eventId": id, "occurredAt": now,
			},
		})
	}
	for i, name := range d.UserNames() {
		id := fmt.Sprintf("devstack-%s-login-%d", run, i)
		logins = append(logins, demoEvent{
			Label: "user.login " + name, Subject: subjects.For(events.KindUserLogin), EventID: id,
			Payload: map[string]any{"userId": d.Users[name], "eventId": id, "occurredAt": now},
		})
	}
	return shared, logins
}

// joinEvents builds the group.changed event of d.Join: the group gained the
// user (addedMemberIds), whom the logins loaded before. None when the demo has
// no join.
func joinEvents(subjects events.Subjects, d devstack.Demo) []demoEvent {
	group, user := d.Groups[d.Join.Group], d.Users[d.Join.User]
	if group == "" || user == "" {
		return nil
	}
	id := fmt.Sprintf("devstack-%s-group-0", randomHex(4))
	return []demoEvent{{
		Label: "group.changed " + d.Join.Group + " +" + d.Join.User, Subject: subjects.For(events.KindGroupChanged), EventID: id,
		Payload: map[string]any{
			"groupId": group, "addedMemberIds": []string{user},
			"eventId": id, "occurredAt": time.Now().UTC().Format(time.RFC3339),
		},
	}}
}

// joinPayload is the payload of d.Join's group.changed event as a user would
// publish it (no eventId: worker publish makes one).
func joinPayload(d devstack.Demo) string {
	data, _ := json.Marshal(struct {
		GroupID string   `json:"groupId"`
		Added   []string `json:"addedMemberIds"`
	}{d.Groups[d.Join.Group], []string{d.Users[d.Join.User]}})
	return string(data)
}

// sendDemoEvents publishes the batches one after the other, waiting for the
// results of a batch before the next (shares land before the logins), all
// within timeout. Events without a result keep a nil Result; the error says
// how many.
func sendDemoEvents(ctx context.Context, natsURL string, timeout time.Duration, batches ...[]demoEvent) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	nc, err := nats.Connect(natsURL, nats.Name("devstack"))
	if err != nil {
		return fmt.Errorf("connect nats %s: %w", natsURL, err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("jetstream: %w", err)
	}
	inbox := nc.NewInbox()
	sub, err := nc.SubscribeSync(inbox)
	if err != nil {
		return fmt.Errorf("subscribe %s: %w", inbox, err)
	}
	defer func() { _ = sub.Unsubscribe() }()

	for _, batch := range batches {
		if err := publishBatch(ctx, js, inbox, batch); err != nil {
			return err
		}
		if err := awaitResults(ctx, sub, batch); err != nil {
			return err
		}
	}
	return nil
}

func publishBatch(ctx context.Context, js jetstream.JetStream, inbox string, batch []demoEvent) error {
	for _, ev := range batch {
		data, err := json.Marshal(ev.Payload)
		if err != nil {
			return fmt.Errorf("encode %s: %w", ev.Label, err)
		}
		msg := nats.NewMsg(ev.Subject)
		msg.Data = data
		msg.Header.Set(events.HeaderMsgID, ev.EventID)
		msg.Header.Set(events.HeaderNotify, inbox)
		if _, err := js.PublishMsg(ctx, msg); err != nil {
			return fmt.Errorf("publish %s: %w", ev.Label, err)
		}
	}
	return nil
}

func awaitResults(ctx context.Context, sub *nats.Subscription, batch []demoEvent) error {
	byID := map[string]*demoEvent{}
	for i := range batch {
		byID[batch[i].EventID] = &batch[i]
	}
	for missing := len(batch); missing > 0; {
		msg, err := sub.NextMsgWithContext(ctx)
		if err != nil {
			if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
				return fmt.Errorf("%d of %d results missing: %w", missing, len(batch), ctx.Err())
			}
			return fmt.Errorf("read results: %w", err)
		}
		var r eventResult
		if json.Unmarshal(msg.Data, &r) != nil {
			continue
		}
		if ev, ok := byID[r.EventID]; ok && ev.Result == nil {
			ev.Result = &r
			missing--
		}
	}
	return nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
