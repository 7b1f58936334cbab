package reader_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/mcp-registry/worker/reader"
)

// A not-loaded user (tenant unknown) is shown another tenant's (the default
// tenant's) shared-tier notices by Watch.
func TestIntegrationReview4WatchNotLoadedUserGetsDefaultTenantSharedNotices(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	defer rdb.Close()
	prefix := "review4go:" + time.Now().Format("150405.000") + ":"
	r, err := reader.New(rdb, reader.Options{KeyPrefix: prefix})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ch, err := r.Watch(ctx, "nobody")
	require.NoError(t, err)
	require.NoError(t, rdb.SPublish(ctx, prefix+"{shared}:feed", `{"change":"added","servers":["default-secret"],"tier":"app","rev":1}`).Err())
	select {
	case c := <-ch:
		t.Fatalf("not-loaded user got a shared notice: %+v", c)
	case <-time.After(500 * time.Millisecond):
	}
}
