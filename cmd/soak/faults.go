package main

import (
	"context"
	"fmt"
	"time"
)

// The fault kinds, injected in this order, one every -fault-every.
const (
	faultKillWorker   = "sigkill-worker"
	faultRedisRestart = "redis-restart"
	faultNATSRestart  = "nats-node-restart"
	faultMongoStop    = "mongodb-stop"
)

var faultKinds = []string{faultKillWorker, faultRedisRestart, faultNATSRestart, faultMongoStop}

// How long each dependency stays down (a killed worker: before the
// replacement starts, as an orchestrator's restart back-off).
const (
	workerDown = 5 * time.Second
	redisDown  = 3 * time.Second
	natsDown   = 5 * time.Second
	mongoDown  = 20 * time.Second
)

// window is one injected fault: from the moment it hit until the
// dependency was back (the worker restarted and ready, the server listening).
type window struct {
	kind, detail string
	start, end   time.Time
}

// injector breaks things in turn.
type injector struct {
	srv     *servers
	workers []*worker
	gate    *mongoGate
	stream  string
	logf    func(format string, args ...any)
	windows []window
	killed  int
}

// run injects a fault every interval until ctx is done; a fault in progress
// is always finished (its dependency restored) before run returns.
func (in *injector) run(ctx context.Context, every time.Duration) error {
	begin := time.Now()
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Until(begin.Add(time.Duration(i+1) * every))):
		}
		w, err := in.inject(faultKinds[i%len(faultKinds)])
		if err != nil {
			return fmt.Errorf("fault %s: %w", faultKinds[i%len(faultKinds)], err)
		}
		in.windows = append(in.windows, w)
		in.logf("fault %-18s %-24s %6.1fs", w.kind, w.detail, w.end.Sub(w.start).Seconds())
	}
}

func (in *injector) inject(kind string) (window, error) {
	w := window{kind: kind}
	switch kind {
	case faultKillWorker:
		wk := in.workers[in.killed%len(in.workers)]
		in.killed++
		w.detail, w.start = fmt.Sprintf("%s down %s", wk.name, workerDown), time.Now()
		wk.kill()
		time.Sleep(workerDown)
		if err := wk.start(time.Minute); err != nil {
			return w, err
		}
	case faultRedisRestart:
		w.detail, w.start = fmt.Sprintf("down %s", redisDown), time.Now()
		in.srv.redis.kill()
		time.Sleep(redisDown)
		if err := in.srv.redis.start(); err != nil {
			return w, err
		}
	case faultNATSRestart:
		leader, err := in.srv.nats.WaitStreamLeader(in.stream, 10*time.Second)
		if err != nil {
			return w, err
		}
		w.detail, w.start = fmt.Sprintf("leader %s down %s", in.srv.nats.Name(leader), natsDown), time.Now()
		in.srv.nats.Kill(leader)
		time.Sleep(natsDown)
		if err := in.srv.nats.Restart(leader, time.Minute); err != nil {
			return w, err
		}
	case faultMongoStop:
		in.gate.set(false) // waits for the generator's step in progress
		w.detail, w.start = fmt.Sprintf("down %s", mongoDown), time.Now()
		in.srv.stopMongo()
		time.Sleep(mongoDown)
		err := in.srv.startMongo()
		if err != nil {
			return w, err
		}
		in.gate.set(true)
	}
	w.end = time.Now()
	return w, nil
}
