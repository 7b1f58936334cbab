package events

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestThrottle(t *testing.T) {
	t.Parallel()
	th := newThrottle(50 * time.Millisecond)
	ok, dropped := th.allow("a")
	assert.True(t, ok)
	assert.Zero(t, dropped)
	for range 3 {
		ok, _ = th.allow("a")
		assert.False(t, ok)
	}
	ok, _ = th.allow("b")
	assert.True(t, ok, "keys are independent")
	assert.Eventually(t, func() bool {
		ok, dropped = th.allow("a")
		return ok
	}, time.Second, 5*time.Millisecond)
	assert.GreaterOrEqual(t, dropped, 3)
}

func TestOneLine(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "a b c d", oneLine("a\r\nb\nc\rd"))
}
