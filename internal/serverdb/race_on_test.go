//go:build race

package serverdb_test

// raceEnabled: the embedded FerretDB runs in the test process, so the race
// detector slows it about ninefold; large-data tests shrink.
const raceEnabled = true
