//go:build !race

package serverdb_test

// raceEnabled: see race_on_test.go.
const raceEnabled = false
