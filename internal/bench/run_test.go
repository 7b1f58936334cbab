package bench

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// runResult is the outcome of runConcurrent: wall time and each call's latency.
type runResult struct {
	elapsed   time.Duration
	latencies []time.Duration
}

// runConcurrent calls fn(ctx, item) once for every item from workers
// goroutines and times each call. It stops at the first error and returns it.
func runConcurrent(ctx context.Context, items []string, workers int, fn func(ctx context.Context, item string) error) (runResult, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	lat := make([]time.Duration, len(items))
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(items) || ctx.Err() != nil {
					return
				}
				t0 := time.Now()
				if err := fn(ctx, items[i]); err != nil {
					cancel(fmt.Errorf("item %d (%s): %w", i, items[i], err))
					return
				}
				lat[i] = time.Since(t0)
			}
		})
	}
	wg.Wait()
	res := runResult{elapsed: time.Since(start), latencies: lat}
	if err := context.Cause(ctx); err != nil {
		return res, err
	}
	return res, nil
}

// percentiles returns the nearest-rank percentiles qs (0 < q <= 1) of d.
func percentiles(d []time.Duration, qs ...float64) []time.Duration {
	out := make([]time.Duration, len(qs))
	if len(d) == 0 {
		return out
	}
	s := slices.Clone(d)
	slices.Sort(s)
	for i, q := range qs {
		rank := int(math.Ceil(q*float64(len(s)))) - 1
		out[i] = s[max(0, min(rank, len(s)-1))]
	}
	return out
}

// heapPeak samples HeapInuse every interval until stop is called, which
// returns the highest value seen (the last sample included).
func heapPeak(interval time.Duration) (stop func() uint64) {
	var peak atomic.Uint64
	sample := func() {
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		for {
			p := peak.Load()
			if m.HeapInuse <= p || peak.CompareAndSwap(p, m.HeapInuse) {
				return
			}
		}
	}
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			sample()
			select {
			case <-quit:
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 {
		close(quit)
		<-done
		sample()
		return peak.Load()
	}
}
