package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"

	"github.com/mcp-registry/worker/internal/events"
)

// publishCommand is `worker publish <subject-suffix> --json '<payload>'`
// (payload from stdin without --json): one event with a Nats-Msg-Id.
func publishCommand(ctx context.Context, args []string, getenv func(string) string) int {
	var payload string
	var force bool
	var wait time.Duration
	cfg, positional, code, ok := parseCommand("publish", "publish <subject-suffix> [--json '<payload>'] [options]", args, getenv,
		func(fs *flag.FlagSet) {
			fs.StringVar(&payload, "json", "", "the event payload (JSON object); read from stdin when absent")
			fs.BoolVar(&force, "force", false, "publish even if the payload is not a valid event (to test dead-lettering)")
			fs.DurationVar(&wait, "wait", 0, "wait this long for the worker's result (Mcp-Notify) and print it")
		})
	if !ok {
		return code
	}
	if len(positional) != 1 {
		return usageError("publish", "want one subject suffix such as user.login, got %d arguments", len(positional))
	}
	if payload == "" {
		b, err := io.ReadAll(io.LimitReader(os.Stdin, int64(cfg.MaxPayload)+1))
		if err != nil {
			return failure("publish", fmt.Errorf("read stdin: %w", err))
		}
		payload = string(b)
	}
	nc, err := connectNATS(cfg, zap.NewNop())
	if err != nil {
		return failure("publish", err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return failure("publish", err)
	}
	header := nats.Header{}
	var results *nats.Subscription
	if wait > 0 {
		inbox := nats.NewInbox()
		if results, err = nc.SubscribeSync(inbox); err != nil {
			return failure("publish", err)
		}
		header.Set(events.HeaderNotify, inbox)
	}
	tp, flush, err := publishTracer(ctx, cfg)
	if err != nil {
		return failure("publish", err)
	}
	defer flush()
	pub := events.NewPublisher(js, cfg.eventsConfig())
	id, ack, traceID, err := publishTraced(ctx, tp, pub, positional[0], []byte(payload), header, force)
	if err != nil {
		return failure("publish", err)
	}
	out := map[string]any{
		"eventId": id, "stream": ack.Stream, "seq": ack.Sequence, "duplicate": ack.Duplicate,
		"traceId": traceID,
	}
	if results != nil {
		msg, err := results.NextMsg(wait)
		if err != nil {
			return failure("publish", fmt.Errorf("no result within %s: %w", wait, err))
		}
		out["result"] = json.RawMessage(msg.Data)
	}
	return printJSON("publish", out)
}

// printJSON writes v as indented JSON on stdout.
func printJSON(cmd string, v any) int {
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return failure(cmd, err)
	}
	return exitOK
}
