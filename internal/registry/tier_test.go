package registry_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/mcp-registry/worker/internal/registry"
)

func TestTierFor(t *testing.T) {
	t.Parallel()
	tests := []struct {
		config string
		want   registry.Tier
	}{
		{`{"requiresOAuth":true}`, registry.TierUser},
		{`{"requiresOAuth":true,"startup":true}`, registry.TierUser},
		{`{"startup":false}`, registry.TierUser},
		{`{"requiresOAuth":false,"startup":false}`, registry.TierUser},
		{`{}`, registry.TierApp},
		{`{"type":"stdio"}`, registry.TierApp},
		{`{"requiresOAuth":false}`, registry.TierApp},
		{`{"startup":true}`, registry.TierApp},
		{`{"requiresOAuth":false,"startup":true}`, registry.TierApp},
		{`{"requiresOAuth":null,"startup":null}`, registry.TierApp},
		{`{"requiresOAuth":"true"}`, registry.TierApp},
		{`[{"requiresOAuth":true}]`, registry.TierApp},
		{`"requiresOAuth"`, registry.TierApp},
		{`null`, registry.TierApp},
		{`{"requiresOAuth":`, registry.TierApp},
		{``, registry.TierApp},
		// Keys match exactly, as LibreChat reads them (encoding/json into a
		// struct would match case-insensitively).
		{`{"requiresOAuth":true,"RequiresOAuth":false}`, registry.TierUser},
		{`{"RequiresOAuth":false,"requiresOAuth":true}`, registry.TierUser},
		{`{"RequiresOAuth":true}`, registry.TierApp},
		{`{"REQUIRESOAUTH":true}`, registry.TierApp},
		{`{"Startup":false}`, registry.TierApp},
		{`{"startup":false,"Startup":true}`, registry.TierUser},
	}
	for _, tt := range tests {
		t.Run(tt.config, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, registry.TierFor(json.RawMessage(tt.config)))
		})
	}
}

// A field of the wrong type is not `true` / `false` (CONTRACT section 4 names
// only those), so it must not move the server to the user tier.
func TestTierForNonBoolFields(t *testing.T) {
	t.Parallel()
	for _, config := range []string{`{"startup":0}`, `{"startup":"true"}`, `{"startup":{}}`, `{"requiresOAuth":"yes"}`} {
		t.Run(config, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, registry.TierApp, registry.TierFor(json.RawMessage(config)))
		})
	}
}
