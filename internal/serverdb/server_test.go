package serverdb

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
)

func TestServerDocToServer(t *testing.T) {
	t.Parallel()
	oid := bson.NewObjectID()
	tests := []struct {
		name   string
		doc    bson.D
		want   Server
		wantOK bool
	}{
		{
			"serverName",
			bson.D{{Key: "_id", Value: oid}, {Key: "serverName", Value: "a"}, {Key: "config", Value: bson.D{{Key: "k", Value: 1}}}},
			Server{Name: "a", DBID: oid.Hex(), Config: []byte(`{"k":1}`)},
			true,
		},
		{
			"mcp_id fallback",
			bson.D{{Key: "_id", Value: oid}, {Key: "mcp_id", Value: "old"}},
			Server{Name: "old", DBID: oid.Hex(), Config: []byte(`{}`)},
			true,
		},
		{
			"empty serverName falls back",
			bson.D{{Key: "_id", Value: oid}, {Key: "serverName", Value: ""}, {Key: "mcp_id", Value: "old"}},
			Server{Name: "old", DBID: oid.Hex(), Config: []byte(`{}`)},
			true,
		},
		{
			"non-string serverName falls back",
			bson.D{{Key: "_id", Value: oid}, {Key: "serverName", Value: int32(3)}, {Key: "mcp_id", Value: "old"}},
			Server{Name: "old", DBID: oid.Hex(), Config: []byte(`{}`)},
			true,
		},
		{"no name", bson.D{{Key: "_id", Value: oid}, {Key: "config", Value: bson.D{}}}, Server{}, false},
		{"null name", bson.D{{Key: "_id", Value: oid}, {Key: "serverName", Value: nil}, {Key: "mcp_id", Value: nil}}, Server{}, false},
		{
			"string _id",
			bson.D{{Key: "_id", Value: "custom"}, {Key: "serverName", Value: "s"}},
			Server{Name: "s", DBID: "custom", Config: []byte(`{}`)},
			true,
		},
		{
			"null config",
			bson.D{{Key: "_id", Value: oid}, {Key: "serverName", Value: "s"}, {Key: "config", Value: nil}},
			Server{Name: "s", DBID: oid.Hex(), Config: []byte(`{}`)},
			true,
		},
		{
			"array config",
			bson.D{{Key: "_id", Value: oid}, {Key: "serverName", Value: "s"}, {Key: "config", Value: bson.A{1}}},
			Server{Name: "s", DBID: oid.Hex(), Config: []byte(`{}`)},
			true,
		},
		{
			"legacy options with top-level title",
			bson.D{{Key: "_id", Value: oid}, {Key: "mcp_id", Value: "old"}, {Key: "title", Value: "Old"}, {Key: "options", Value: bson.D{{Key: "url", Value: "u"}}}},
			Server{Name: "old", DBID: oid.Hex(), Config: []byte(`{"url":"u","title":"Old"}`)},
			true,
		},
		{
			"legacy options keep their own title",
			bson.D{{Key: "_id", Value: oid}, {Key: "mcp_id", Value: "old"}, {Key: "title", Value: "Top"}, {Key: "options", Value: bson.D{{Key: "title", Value: "Own"}, {Key: "url", Value: "u"}}}},
			Server{Name: "old", DBID: oid.Hex(), Config: []byte(`{"title":"Own","url":"u"}`)},
			true,
		},
		{
			"legacy options without title, non-string title ignored",
			bson.D{{Key: "_id", Value: oid}, {Key: "mcp_id", Value: "old"}, {Key: "title", Value: int32(3)}, {Key: "options", Value: bson.D{{Key: "url", Value: "u"}}}},
			Server{Name: "old", DBID: oid.Hex(), Config: []byte(`{"url":"u"}`)},
			true,
		},
		{
			"null config falls back to options",
			bson.D{{Key: "_id", Value: oid}, {Key: "serverName", Value: "s"}, {Key: "config", Value: nil}, {Key: "options", Value: bson.D{{Key: "url", Value: "u"}}}},
			Server{Name: "s", DBID: oid.Hex(), Config: []byte(`{"url":"u"}`)},
			true,
		},
		{
			"config wins over options",
			bson.D{{Key: "_id", Value: oid}, {Key: "serverName", Value: "s"}, {Key: "title", Value: "T"}, {Key: "config", Value: bson.D{{Key: "k", Value: 1}}}, {Key: "options", Value: bson.D{{Key: "url", Value: "u"}}}},
			Server{Name: "s", DBID: oid.Hex(), Config: []byte(`{"k":1}`)},
			true,
		},
		{
			"non-object options ignored",
			bson.D{{Key: "_id", Value: oid}, {Key: "mcp_id", Value: "old"}, {Key: "title", Value: "T"}, {Key: "options", Value: "x"}},
			Server{Name: "old", DBID: oid.Hex(), Config: []byte(`{}`)},
			true,
		},
		{"BSON-only types as extended JSON", bson.D{{Key: "_id", Value: oid}, {Key: "serverName", Value: "s"}, {Key: "config", Value: bson.D{
			{Key: "at", Value: bson.DateTime(0)}, {Key: "nan", Value: math.NaN()}, {Key: "whole", Value: 2.0},
		}}}, Server{Name: "s", DBID: oid.Hex(), Config: []byte(`{"at":{"$date":"1970-01-01T00:00:00Z"},"nan":{"$numberDouble":"NaN"},"whole":2.0}`)}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok, err := decodeServerDoc(t, tt.doc).toServer()
			require.NoError(t, err)
			assert.Equal(t, tt.wantOK, ok)
			if ok {
				assert.Equal(t, tt.want.Name, got.Name)
				assert.Equal(t, tt.want.DBID, got.DBID)
				assert.Equal(t, string(tt.want.Config), string(got.Config))
			}
		})
	}
}

func TestUnixMillis(t *testing.T) {
	t.Parallel()
	at := time.UnixMilli(1_712_345_678_901)
	tests := []struct {
		name  string
		value any
		want  int64
	}{
		{"date", at, 1_712_345_678_901},
		{"date before 1970", time.UnixMilli(-5), -5},
		{"int64 ms", int64(1_712_345_678_901), 1_712_345_678_901},
		{"int32 ms", int32(5), 5},
		{"double ms", 7.9, 7},
		{"NaN", math.NaN(), 0},
		{"string", "2024-01-01", 0},
		{"null", nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := decodeServerDoc(t, bson.D{{Key: "updatedAt", Value: tt.value}})
			assert.Equal(t, tt.want, unixMillis(d.UpdatedAt))
		})
	}
	t.Run("absent", func(t *testing.T) {
		t.Parallel()
		assert.Zero(t, unixMillis(decodeServerDoc(t, bson.D{}).UpdatedAt))
	})
}

func TestNewerIsOrderIndependent(t *testing.T) {
	t.Parallel()
	a := Server{DBID: "a", UpdatedAtMs: 2}
	b := Server{DBID: "b", UpdatedAtMs: 1}
	c := Server{DBID: "c", UpdatedAtMs: 2}
	assert.True(t, newer(a, b))
	assert.False(t, newer(b, a))
	assert.True(t, newer(c, a), "tie: greater DBID")
	assert.False(t, newer(a, c))
}

func decodeServerDoc(t *testing.T, doc bson.D) serverDoc {
	t.Helper()
	raw, err := bson.Marshal(doc)
	require.NoError(t, err)
	var d serverDoc
	require.NoError(t, bson.Unmarshal(raw, &d))
	return d
}
