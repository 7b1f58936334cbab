package main

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that no test leaves a goroutine behind: every fx app is
// stopped, every client closed, every embedded server shut down.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
