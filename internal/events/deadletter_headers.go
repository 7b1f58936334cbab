package events

import (
	"encoding/json"
	"slices"
	"strings"

	"github.com/nats-io/nats.go"
)

// maxOriginalHeaderBytes bounds the JSON of the original headers a dead
// letter keeps: headers that would make it larger are dropped (sorted by
// name, each whole), and Mcp-Dlq-Headers-Dropped says how many bytes.
const maxOriginalHeaderBytes = 16 << 10

// natsHeaderPrefix starts the headers JetStream and NATS interpret
// (Nats-Expected-*, Nats-Msg-Id, Nats-Rollup, ...).
const natsHeaderPrefix = "nats-"

// encodeOriginalHeaders returns h as JSON of at most limit bytes ("" when h
// is empty) and how many bytes of headers did not fit.
func encodeOriginalHeaders(h nats.Header, limit int) (string, int) {
	if len(h) == 0 {
		return "", 0
	}
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	kept := make(map[string][]string, len(h))
	size, dropped := 2, 0 // the braces
	for _, k := range keys {
		name, _ := json.Marshal(k)
		vals, _ := json.Marshal(h[k])
		n := len(name) + 1 + len(vals) + 1 // colon, comma
		if size+n > limit {
			dropped += n
			continue
		}
		size += n
		kept[k] = h[k]
	}
	if len(kept) == 0 {
		return "", dropped
	}
	b, err := json.Marshal(kept)
	if err != nil || len(b) > limit { // cannot happen: strings always marshal
		return "", dropped + len(b)
	}
	return string(b), dropped
}

// decodeOriginalHeaders reads what encodeOriginalHeaders wrote; anything
// else gives nil.
func decodeOriginalHeaders(s string) nats.Header {
	if s == "" {
		return nil
	}
	var m map[string][]string
	if json.Unmarshal([]byte(s), &m) != nil {
		return nil
	}
	return nats.Header(m)
}

// isNatsHeader reports whether a header name is one NATS or JetStream acts on.
func isNatsHeader(name string) bool {
	return strings.HasPrefix(strings.ToLower(name), natsHeaderPrefix)
}

// forwardableHeaders copies the headers of h that an event published again
// (a dead-letter replay, a parked event) may carry: none that NATS or
// JetStream acts on (they would steer the publish), none nats.go cannot
// send. room is spare capacity for the headers the caller adds.
func forwardableHeaders(h nats.Header, room int) nats.Header {
	out := make(nats.Header, len(h)+room)
	for k, v := range h {
		if isNatsHeader(k) || !isHeaderToken(k) {
			continue
		}
		out[k] = append([]string(nil), v...)
	}
	return out
}
