package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"

	"github.com/mcp-registry/worker/internal/events"
)

// dlqCommand is `worker dlq list|replay|purge`.
func dlqCommand(ctx context.Context, args []string, getenv func(string) string) int {
	var limit int
	var seqList string
	var showPayload bool
	cfg, positional, code, ok := parseCommand("dlq", "dlq list [--limit N] [--payload] | dlq replay [--seq N,…] | dlq purge [--seq N,…] [options]", args, getenv,
		func(fs *flag.FlagSet) {
			fs.IntVar(&limit, "limit", 100, "list at most this many dead letters (oldest first)")
			fs.BoolVar(&showPayload, "payload", false, "include payloads in the listing (they may hold secrets)")
			fs.StringVar(&seqList, "seq", "", "replay or purge only these dead-letter sequence numbers (comma-separated)")
		})
	if !ok {
		return code
	}
	if len(positional) != 1 {
		return usageError("dlq", "want one of list, replay, purge")
	}
	seqs, err := parseSeqs(seqList)
	if err != nil {
		return usageError("dlq", "--seq: %v", err)
	}
	nc, err := connectNATS(cfg, zap.NewNop())
	if err != nil {
		return failure("dlq", err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return failure("dlq", err)
	}
	ec := cfg.eventsConfig()
	switch positional[0] {
	case "list":
		dls, err := events.ListDeadLetters(ctx, js, ec, limit)
		if err != nil {
			return failure("dlq", err)
		}
		return printJSON("dlq", deadLetterRows(dls, showPayload))
	case "replay":
		n, err := events.ReplayDeadLetters(ctx, js, ec, seqs)
		if err != nil && !errors.Is(err, events.ErrReplayRefused) {
			return failure("dlq", err)
		}
		if code := printJSON("dlq", map[string]int{"replayed": n}); code != exitOK || err == nil {
			return code
		}
		for _, line := range strings.Split(err.Error(), "\n") { // one line per refused dead letter
			fmt.Fprintf(os.Stderr, "worker dlq: %s\n", line)
		}
		return exitError
	case "purge":
		purge := events.PurgeDeadLetters
		if len(seqs) > 0 {
			purge = func(ctx context.Context, js jetstream.JetStream, c events.Config) (uint64, error) {
				return events.DeleteDeadLetters(ctx, js, c, seqs)
			}
		}
		n, err := purge(ctx, js, ec)
		if err != nil {
			return failure("dlq", err)
		}
		return printJSON("dlq", map[string]uint64{"purged": n})
	}
	return usageError("dlq", "unknown dlq command %q: want list, replay or purge", positional[0])
}

type deadLetterRow struct {
	Seq       uint64    `json:"seq"`
	Subject   string    `json:"subject"`
	Reason    string    `json:"reason"`
	Delivered uint64    `json:"delivered"`
	StreamSeq uint64    `json:"streamSeq"`
	Time      time.Time `json:"time"`
	Bytes     int       `json:"bytes"`
	Payload   *string   `json:"payload,omitempty"`
}

func deadLetterRows(dls []events.DeadLetter, withPayload bool) []deadLetterRow {
	rows := make([]deadLetterRow, len(dls))
	for i, d := range dls {
		rows[i] = deadLetterRow{
			Seq: d.Seq, Subject: d.Subject, Reason: d.Reason, Delivered: d.Delivered,
			StreamSeq: d.StreamSeq, Time: d.Time, Bytes: len(d.Data),
		}
		if withPayload {
			p := string(d.Data)
			rows[i].Payload = &p
		}
	}
	return rows
}

func parseSeqs(s string) ([]uint64, error) {
	if s == "" {
		return nil, nil
	}
	var seqs []uint64
	for _, part := range strings.Split(s, ",") {
		n, err := strconv.ParseUint(strings.TrimSpace(part), 10, 64)
		if err != nil || n == 0 {
			return nil, strconv.ErrSyntax
		}
		seqs = append(seqs, n)
	}
	return seqs, nil
}
