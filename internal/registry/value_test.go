package registry_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcp-registry/worker/internal/registry"
)

func TestValue(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		config string // "" means nil
		dbID   string
		at     int64
		want   string
	}{
		{
			"fields kept and dbId added", `{"type":"stdio","command":"npx","args":["-y","x"],"env":{"A":"1"}}`, "65f0c0ffee", 1700000000123,
			`{"args":["-y","x"],"command":"npx","dbId":"65f0c0ffee","env":{"A":"1"},"lastUpdatedAt":1700000000123,"type":"stdio","updatedAt":1700000000123}`,
		},
		{"dbId omitted when unknown", `{"url":"http://x"}`, "", 5, `{"lastUpdatedAt":5,"updatedAt":5,"url":"http://x"}`},
		{"config dbId dropped when unknown", `{"dbId":"forged","url":"u"}`, "", 5, `{"lastUpdatedAt":5,"updatedAt":5,"url":"u"}`},
		{"config dbId overridden", `{"dbId":"forged","url":"u"}`, "real", 5, `{"dbId":"real","lastUpdatedAt":5,"updatedAt":5,"url":"u"}`},
		{"config lastUpdatedAt overridden", `{"lastUpdatedAt":"old"}`, "", 9007199254740993, `{"lastUpdatedAt":9007199254740993,"updatedAt":9007199254740993}`},
		{"lastUpdatedAt zero", `{}`, "", 0, `{"lastUpdatedAt":0,"updatedAt":0}`},
		{"null config", `null`, "id", 7, `{"dbId":"id","lastUpdatedAt":7,"updatedAt":7}`},
		{"nil config", "", "", 7, `{"lastUpdatedAt":7,"updatedAt":7}`},
		{"dbId JSON-escaped", `{}`, `a"b\`, 1, `{"dbId":"a\"b\\","lastUpdatedAt":1,"updatedAt":1}`},
		{"whitespace compacted and keys sorted", "{ \"z\" : 1 ,\n \"a\" : { \"y\" : 2 } }", "", 3, `{"a":{"y":2},"lastUpdatedAt":3,"updatedAt":3,"z":1}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var cfg json.RawMessage
			if tt.config != "" {
				cfg = json.RawMessage(tt.config)
			}
			got, err := registry.Value(cfg, tt.dbID, tt.at)
			require.NoError(t, err)
			assert.Equal(t, tt.want, string(got))
		})
	}
}

func TestValueRejectsNonObjectConfig(t *testing.T) {
	t.Parallel()
	for _, cfg := range []string{`[1,2]`, `"text"`, `42`, `true`, `{"a":`, `  `} {
		t.Run(cfg, func(t *testing.T) {
			t.Parallel()
			_, err := registry.Value(json.RawMessage(cfg), "id", 1)
			assert.Error(t, err)
		})
	}
}

func TestValueDeterministic(t *testing.T) {
	t.Parallel()
	// Top-level keys are sorted; nested values are kept as they are (compacted).
	a, err := registry.Value(json.RawMessage(`{"b":1,"a":2,"c":{"y":1,"x":2}}`), "id", 42)
	require.NoError(t, err)
	assert.Equal(t, `{"a":2,"b":1,"c":{"y":1,"x":2},"dbId":"id","lastUpdatedAt":42,"updatedAt":42}`, string(a))
	b, err := registry.Value(json.RawMessage(`{"c":{"y":1,"x":2},"dbId":"x","a":2,"b":1}`), "id", 42)
	require.NoError(t, err)
	assert.Equal(t, string(a), string(b))
	for range 20 {
		again, err := registry.Value(json.RawMessage(`{"b":1,"a":2,"c":{"y":1,"x":2}}`), "id", 42)
		require.NoError(t, err)
		require.Equal(t, a, again)
	}
}
