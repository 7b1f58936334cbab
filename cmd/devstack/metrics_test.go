package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestExcerptKeepsFamiliesInOrderWithoutBuckets(t *testing.T) {
	t.Parallel()
	body := `# HELP mcp_worker_loaded_users Users.
# TYPE mcp_worker_loaded_users gauge
mcp_worker_loaded_users 4
mcp_worker_handle_seconds_bucket{kind="user.login",le="0.1"} 3
mcp_worker_handle_seconds_count{kind="user.login"} 3
mcp_worker_messages_total{kind="user.login",outcome="done"} 3
mcp_worker_messages_total_other 1
go_goroutines 12
`
	assert.Equal(t, []string{
		`mcp_worker_messages_total{kind="user.login",outcome="done"} 3`,
		`mcp_worker_handle_seconds_count{kind="user.login"} 3`,
		`mcp_worker_loaded_users 4`,
	}, excerpt(body))
	assert.True(t, polled(body))
	assert.False(t, polled("mcp_worker_loaded_users 0\n"))
}
