package handlers_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcp-registry/worker/internal/handlers"
	"github.com/mcp-registry/worker/internal/testenv"
)

// Reconcile repairs a deliberately corrupted membership and leaves a correct
// one untouched: a pass over correct users writes nothing to any registry key.
func TestIntegrationReconcileRepairsOnlyWhatDiffers(t *testing.T) {
	t.Parallel()
	_, rdb := testenv.StartRedisServer(t)
	e := newEnv(t, func(o *envOptions) { o.rdb = rdb })
	good, bad := e.user("", "USER", ""), e.user("", "USER", "")
	for _, u := range []string{good, bad} {
		e.grantUser(e.server("tool-"+u[len(u)-4:], map[string]any{"url": "https://t"}, time.UnixMilli(1)), u)
		require.NoError(t, e.login(u))
	}
	k := e.reg.Keys()
	// A lost event left bad without its server and with one it never had.
	require.NoError(t, rdb.HDel(e.ctx, k.UserMembers(bad), "tool-"+bad[len(bad)-4:]).Err())
	require.NoError(t, rdb.HSet(e.ctx, k.UserMembers(bad), "ghost", "1").Err())
	require.NoError(t, rdb.Set(e.ctx, k.ServerValue("ghost"), `{"url":"https://ghost"}`, 0).Err())
	require.Contains(t, e.view(bad).Private, "ghost")

	rec := handlers.NewReconciler(e.reg, e.locks, e.source)
	var repairs []handlers.Repair
	checked, repaired, err := rec.Pass(e.ctx, handlers.Options{}, func(r handlers.Repair) { repairs = append(repairs, r) })
	require.NoError(t, err)
	assert.Equal(t, 2, checked)
	assert.Equal(t, 1, repaired)
	require.Len(t, repairs, 1)
	assert.Equal(t, handlers.Repair{UserID: bad, Added: []string{"tool-" + bad[len(bad)-4:]}, Removed: []string{"ghost"}}, repairs[0])
	assert.Equal(t, []string{"tool-" + bad[len(bad)-4:]}, e.privateNames(bad))

	before := commandStats(t, rdb)
	checked, repaired, err = rec.Pass(e.ctx, handlers.Options{Rate: 1000}, func(handlers.Repair) {})
	require.NoError(t, err)
	assert.Equal(t, 2, checked)
	assert.Zero(t, repaired)
	d := diffStats(before, commandStats(t, rdb))
	for _, write := range []string{"evalsha", "eval", "hset", "hdel", "del", "set", "sadd", "srem", "zadd", "expire", "pexpire"} {
		assert.Zero(t, d[write], "no %s in a pass over correct users (%v)", write, d)
	}
}
