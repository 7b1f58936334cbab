package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"regexp"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/goleak"

	"github.com/mcp-registry/worker/internal/events"
)

// fakeWorkerEnv makes the test binary act as a worker child (see TestMain).
const fakeWorkerEnv = "DEVSTACK_TEST_FAKE_WORKER"

func TestMain(m *testing.M) {
	if mode := os.Getenv(fakeWorkerEnv); mode != "" {
		os.Exit(fakeWorker(mode))
	}
	goleak.VerifyTestMain(m)
}

// fakeWorker plays the worker in one of these modes:
// exit3: writes output and exits 3; sleep: runs until SIGTERM, exits 0;
// ignore-term: ignores SIGTERM; serve: a tiny worker that provisions the
// stream, serves /readyz and answers every event's Mcp-Notify.
func fakeWorker(mode string) int {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM)
	switch mode {
	case "exit3":
		fmt.Println("hello from the fake worker")
		fmt.Fprint(os.Stderr, "no newline at the end")
		return 3
	case "sleep":
		fmt.Println("fake worker started")
		<-sig
		return 0
	case "ignore-term":
		signal.Ignore(syscall.SIGTERM)
		fmt.Println("fake worker started")
		select {}
	case "serve":
		if err := serveFake(sig); err != nil {
			fmt.Fprintln(os.Stderr, "fake worker:", err)
			return 1
		}
		return 0
	}
	return 2
}

var hexID = regexp.MustCompile(`^[0-9a-f]{24}$`)

func serveFake(sig <-chan os.Signal) error {
	if os.Getenv("MCP_WORKER_CACHE_TTL") != "10m" || os.Getenv("MCP_WORKER_LOG_FORMAT") != "console" {
		return fmt.Errorf("unexpected environment")
	}
	ctx := context.Background()
	nc, err := nats.Connect(os.Getenv("NATS_URL"))
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	subjects := events.Subjects{Prefix: events.DefaultPrefix}
	stream, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name: events.DefaultStream, Subjects: subjects.StreamSubjects(),
	})
	if err != nil {
		return err
	}
	// The audit stream, as the worker provisions it (the fake writes no record).
	if _, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name: events.DefaultAuditStream, Subjects: subjects.AuditSubjects(),
	}); err != nil {
		return err
	}
	cons, err := stream.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{Durable: "fake"})
	if err != nil {
		return err
	}
	cc, err := cons.Consume(func(msg jetstream.Msg) {
		var p struct {
			EventID    string         `json:"eventId"`
			UserID     string         `json:"userId"`
			ServerName string         `json:"serverName"`
			Config     map[string]any `json:"config"`
			Version    int64          `json:"version"`
			GroupID    string         `json:"groupId"`
			Added      []string       `json:"addedMemberIds"`
		}
		res := map[string]string{"subject": msg.Subject(), "outcome": "done", "error": ""}
		err := json.Unmarshal(msg.Data(), &p)
		switch {
		case err != nil:
			res["outcome"], res["error"] = "dead-lettered", err.Error()
		case p.EventID == "" || p.EventID != msg.Headers().Get(events.HeaderMsgID):
			res["outcome"], res["error"] = "dead-lettered", "eventId and Nats-Msg-Id differ"
		case msg.Subject() == subjects.For(events.KindUserLogin) && !hexID.MatchString(p.UserID):
			res["outcome"], res["error"] = "dead-lettered", "bad userId"
		case msg.Subject() == subjects.For(events.KindServerShared) && (p.ServerName == "" || p.Config["url"] == nil || p.Version <= 0):
			res["outcome"], res["error"] = "dead-lettered", "bad server.shared"
		case msg.Subject() == subjects.For(events.KindGroupChanged) && (!hexID.MatchString(p.GroupID) || len(p.Added) != 1 || !hexID.MatchString(p.Added[0])):
			res["outcome"], res["error"] = "dead-lettered", "bad group.changed"
		}
		res["eventId"] = p.EventID
		data, _ := json.Marshal(res)
		_ = nc.Publish(msg.Headers().Get(events.HeaderNotify), data)
		_ = msg.Ack()
	})
	if err != nil {
		return err
	}
	defer cc.Stop()
	srv := &http.Server{
		Addr: os.Getenv("MCP_WORKER_OPS_ADDR"), ReadHeaderTimeout: time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) }),
	}
	go func() { _ = srv.ListenAndServe() }()
	fmt.Println("fake worker serving")
	<-sig
	fmt.Println("fake worker stopping")
	return srv.Close()
}
