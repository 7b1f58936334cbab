package handlers_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mcp-registry/worker/internal/events"
	"github.com/mcp-registry/worker/internal/serverdb"
)

// noServers is a MongoDB in which nobody has any server: users are loaded
// with empty registries, so only events put the server anywhere.
type noServers struct{}

func (noServers) AccessibleServers(context.Context, string) ([]serverdb.Server, error) {
	return nil, nil
}

// Hard case 12: for random versioned event sequences of one server, any
// permutation with duplicates ends in the state of in-order application.
func TestIntegrationAnyOrderConvergesToInOrder(t *testing.T) {
	t.Parallel()
	const seeds = 200
	e := newEnv(t)
	for seed := range uint64(seeds) {
		rng := rand.New(rand.NewPCG(seed, 0x5eed))
		users := make([]string, 3+rng.IntN(4))
		for i := range users {
			users[i] = fmt.Sprintf("u%d-%d", seed, i)
		}
		seq := randomSequence(rng, "srv", users)
		inOrder := e.newWorldWith(fmt.Sprintf("s%d-a", seed), noServers{})
		shuffled := e.newWorldWith(fmt.Sprintf("s%d-b", seed), noServers{})
		for i, u := range users {
			if i%2 == 0 || rng.IntN(2) == 0 { // some loaded, some not
				inOrder.login(u)
				shuffled.login(u)
			}
		}
		for _, ev := range seq {
			inOrder.must(ev)
		}
		for _, ev := range shuffleWithDuplicates(rng, seq) {
			shuffled.must(ev)
		}
		want := snapshotWorld(t, inOrder, "srv", users...)
		got := snapshotWorld(t, shuffled, "srv", users...)
		require.Equal(t, want, got, "seed %d: sequence %s", seed, describe(seq))
	}
}

// randomSequence returns 3 to 8 events of one server with versions 1..n.
func randomSequence(rng *rand.Rand, server string, users []string) []events.Event {
	n := 3 + rng.IntN(6)
	seq := make([]events.Event, n)
	for i := range seq {
		v := int64(i + 1)
		config := cfg(fmt.Sprintf("https://%s/v%d", server, v), "requiresOAuth", rng.IntN(3) == 0, "startup", rng.IntN(4) != 0)
		switch rng.IntN(6) {
		case 0:
			seq[i] = created(server, users[rng.IntN(len(users))], config, v)
		case 1:
			seq[i] = updated(server, config, v)
		case 2:
			seq[i] = access(server, config, v, randomSubset(rng, users)...)
		case 3:
			seq[i] = shared(server, config, v)
		case 4:
			seq[i] = unshared(server, config, v, randomSubset(rng, users)...)
		default:
			seq[i] = deleted(server, v)
		}
	}
	return seq
}

func randomSubset(rng *rand.Rand, users []string) []string {
	out := []string{}
	for _, u := range users {
		if rng.IntN(2) == 0 {
			out = append(out, u)
		}
	}
	return out
}

// shuffleWithDuplicates returns the events in a random order, some twice.
func shuffleWithDuplicates(rng *rand.Rand, seq []events.Event) []events.Event {
	out := append([]events.Event(nil), seq...)
	for _, ev := range seq {
		if rng.IntN(3) == 0 {
			out = append(out, ev)
		}
	}
	rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

func describe(seq []events.Event) string {
	s := ""
	for _, ev := range seq {
		s += fmt.Sprintf("%s@%d%v ", ev.Kind, ev.Version, ev.AllowedUserIDs)
	}
	return s
}
