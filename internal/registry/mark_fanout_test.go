package registry_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcp-registry/worker/internal/registry"
)

func TestIntegrationMarkFanout(t *testing.T) {
	t.Parallel()
	reg, c := newRegistry(t)
	ctx := t.Context()
	require.NoError(t, reg.MarkFanout(ctx, "s", registry.AspectConfig))
	rec, err := reg.Record(ctx, "s")
	require.NoError(t, err)
	assert.Equal(t, registry.AspectConfig, rec.Fanout, "flagged on a record with none")

	require.NoError(t, reg.MarkFanout(ctx, "s", registry.AspectAccess|registry.AspectConfig))
	rec, err = reg.Record(ctx, "s")
	require.NoError(t, err)
	assert.Equal(t, registry.AspectConfig|registry.AspectAccess, rec.Fanout, "OR-ed with what was there")

	require.NoError(t, reg.MarkFanout(ctx, "other", 0))
	assert.Zero(t, c.Exists(ctx, reg.Keys().ServerRecord("other")).Val(), "an empty mask writes nothing")

	// The next change of the server returns the flagged aspects even when stale.
	holdLock(t, c, reg.Keys().ServerLock("s"), "tok")
	res, err := reg.ApplyChange(ctx, "tok", registry.Change{Server: "s", Version: 1})
	require.NoError(t, err)
	assert.Equal(t, registry.AspectConfig|registry.AspectAccess, res.Pending)
}
