package registry_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcp-registry/worker/internal/registry"
)

// mark_fanout returns the record's unfinished mask after OR-ing; MarkFanout
// discards it, so the record shows it.
func TestIntegrationMarkFanout(t *testing.T) {
	t.Parallel()
	reg, c := newRegistry(t)
	ctx := t.Context()
	steps := []struct {
		name string
		mark registry.Aspects
		want registry.Aspects
	}{
		{"flagged on a record with none", registry.AspectConfig, registry.AspectConfig},
		{"OR-ed with what was there", registry.AspectAccess | registry.AspectConfig, registry.AspectConfig | registry.AspectAccess},
		{"an empty mask keeps it", 0, registry.AspectConfig | registry.AspectAccess},
		{"all", registry.AspectScope, 7},
	}
	for _, s := range steps {
		require.NoError(t, reg.MarkFanout(ctx, "s", s.mark), s.name)
		rec, err := reg.Record(ctx, "s")
		require.NoError(t, err)
		assert.Equal(t, s.want, rec.Fanout, s.name)
	}

	require.NoError(t, reg.MarkFanout(ctx, "other", 0))
	assert.False(t, exists(t, c, reg.Keys().ServerRecord("other")), "an empty mask writes nothing")

	// The next change of the server returns the flagged aspects even when stale.
	holdLock(t, c, reg.Keys().ServerLock("s"), srvToken)
	res, err := reg.ApplyChange(ctx, srvToken, registry.Change{Server: "s", Version: 1})
	require.NoError(t, err)
	assert.Equal(t, registry.Aspects(7), res.Pending)
	assert.Equal(t, registry.Aspects(7), res.Unfinished)
	assert.Zero(t, res.Record.Rev, "nothing applied")
}
