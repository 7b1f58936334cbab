package registry

import (
	"encoding/json"
	"fmt"
	"strconv"
)

// Value builds the one cached value of a server: its config object plus
// "dbId" (the MongoDB _id hex, omitted when unknown) and "updatedAt" and
// "lastUpdatedAt" (both the same Unix ms: current LibreChat reads updatedAt,
// the loader-era code lastUpdatedAt). Keys come out sorted, so equal inputs
// give equal bytes whichever path builds the value.
func Value(config json.RawMessage, dbID string, updatedAtMs int64) ([]byte, error) {
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
	ms := json.RawMessage(strconv.FormatInt(updatedAtMs, 10))
	fields["updatedAt"] = ms
	fields["lastUpdatedAt"] = ms
	return json.Marshal(fields)
}
