package devstack_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that the stack's servers (NATS, the NATS cluster,
// miniredis, FerretDB) leave no goroutine behind once stopped.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
