package lockstatus_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that no lock's keep-alive goroutine outlives its test.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
