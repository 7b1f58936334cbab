package telemetry

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
)

func TestCollectionOf(t *testing.T) {
	for _, tc := range []struct {
		command string
		doc     bson.D
		want    string
	}{
		{"find", bson.D{{Key: "find", Value: "aclentries"}, {Key: "filter", Value: bson.D{}}}, "aclentries"},
		{"getMore", bson.D{{Key: "getMore", Value: int64(42)}, {Key: "collection", Value: "users"}}, "users"},
		{"ping", bson.D{{Key: "ping", Value: 1}}, ""},
		{"endSessions", bson.D{{Key: "endSessions", Value: bson.A{}}}, ""},
	} {
		t.Run(tc.command, func(t *testing.T) {
			raw, err := bson.Marshal(tc.doc)
			require.NoError(t, err)
			assert.Equal(t, tc.want, collectionOf(&event.CommandStartedEvent{CommandName: tc.command, Command: raw}))
		})
	}
}
