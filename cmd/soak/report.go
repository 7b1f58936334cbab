package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"time"
)

// summary is what the soak prints at the end.
type summary struct {
	published, applied, deadLettered, noNotice, retries int
	acked                                               bool // the consumer's ack floor reached the stream's last message
	mismatches                                          []string
	byKind                                              map[string]int
	windows                                             []window
	recovery                                            []time.Duration
	phases                                              map[string][]time.Duration
	phaseNoNotice                                       map[string]int
}

// summarize classifies every event by the phase it was published in and
// measures each fault's recovery: from the dependency's return until the
// last event published before it was finished.
func summarize(recs []record, windows []window) summary {
	s := summary{byKind: map[string]int{}, windows: windows, phases: map[string][]time.Duration{}, phaseNoNotice: map[string]int{}}
	var prevEnd time.Time
	for _, w := range windows {
		var last time.Time
		for _, r := range recs {
			if !r.published.Before(prevEnd) && r.published.Before(w.end) && r.noticed.After(last) {
				last = r.noticed
			}
		}
		s.recovery = append(s.recovery, max(last.Sub(w.end), 0))
		prevEnd = w.end
	}
	for _, r := range recs {
		s.published++
		s.byKind[r.kind]++
		phase := s.phaseOf(r.published)
		switch r.outcome {
		case "":
			s.noNotice++
			s.phaseNoNotice[phase]++
			continue
		case "done", "skipped":
			s.applied++
		}
		s.phases[phase] = append(s.phases[phase], r.noticed.Sub(r.published))
	}
	return s
}

func (s summary) phaseOf(t time.Time) string {
	for i, w := range s.windows {
		if !t.Before(w.start) && t.Before(w.end) {
			return "during " + w.kind
		}
		if !t.Before(w.end) && t.Before(w.end.Add(s.recovery[i])) {
			return "recovery"
		}
	}
	return "normal"
}

// failed says whether the soak failed: a mismatch or a dead letter (every
// generated event is valid).
func (s summary) failed() bool { return len(s.mismatches) > 0 || s.deadLettered > 0 }

func (s summary) print(out io.Writer) {
	p := func(format string, args ...any) { _, _ = fmt.Fprintf(out, format, args...) }
	p("\n%-34s %d", "events published", s.published)
	for _, k := range slices.Sorted(maps.Keys(s.byKind)) {
		p("  %s %d", k, s.byKind[k])
	}
	p("\n%-34s %d\n", "applied (notice done or skipped)", s.applied)
	p("%-34s %d\n", "dead-lettered (DLQ stream)", s.deadLettered)
	p("%-34s %d\n", "no notice (core NATS, best effort)", s.noNotice)
	p("%-34s %v\n", "consumer acked everything", s.acked)
	p("%-34s %d\n", "publishes retried (same msg id)", s.retries)
	p("%-34s %d\n", "mismatches with the model", len(s.mismatches))
	for i, m := range s.mismatches {
		if i == 20 {
			p("  ... %d more\n", len(s.mismatches)-20)
			break
		}
		p("  %s\n", m)
	}
	p("\n%-26s %7s %9s %9s %9s %9s\n", "publish-to-applied", "events", "p50", "p99", "max", "no notice")
	names := []string{"normal"}
	for _, k := range faultKinds {
		names = append(names, "during "+k)
	}
	names = append(names, "recovery")
	for _, n := range names {
		l := s.phases[n]
		if len(l) == 0 && s.phaseNoNotice[n] == 0 {
			continue
		}
		slices.Sort(l)
		p("%-26s %7d %9s %9s %9s %9d\n", n, len(l), pct(l, 50), pct(l, 99), pct(l, 100), s.phaseNoNotice[n])
	}
	p("\n%-3s %-18s %-24s %9s %9s\n", "#", "fault", "detail", "down", "recovery")
	for i, w := range s.windows {
		p("%-3d %-18s %-24s %9s %9s\n", i+1, w.kind, w.detail, round(w.end.Sub(w.start)), round(s.recovery[i]))
	}
}

// pct is the q-th percentile of the sorted latencies.
func pct(sorted []time.Duration, q int) string {
	if len(sorted) == 0 {
		return "-"
	}
	i := (len(sorted)*q+99)/100 - 1
	return round(sorted[max(i, 0)]).String()
}

func round(d time.Duration) time.Duration {
	if d > 10*time.Second {
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(time.Millisecond)
}
