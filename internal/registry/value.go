package registry

import (
	"encoding/json"
	"fmt"
	"strconv"
)

// Value builds the cached value of a server: its config object plus "dbId"
// (the MongoDB _id hex, omitted when unknown) and "lastUpdatedAt" (Unix ms).
// Keys come out sorted, so equal inputs give equal bytes.
func Value(config json.RawMessage, dbID string, lastUpdatedAtMs int64) ([]byte, error) {
	fields := map[string]json.RawMessage{}
	if len(config) > 0 {
		if err := json.Unmarshal(config, &fields); err != nil {
			return nil, fmt.Errorf("server config is not a JSON object: %w", err)
		}
		if fields == nil { // config was JSON null
			fields = map[string]json.RawMessage{}
		}
	}
	if dbID != "" {
		id, _ := json.Marshal(dbID)
		fields["dbId"] = id
	} else {
		delete(fields, "dbId")
	}
	fields["lastUpdatedAt"] = json.RawMessage(strconv.FormatInt(lastUpdatedAtMs, 10))
	return json.Marshal(fields)
}
