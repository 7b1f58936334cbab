package registry

import (
	"encoding/json"

	"github.com/mcp-registry/worker/reader/layout"
)

// Tier is a shared registry tier. On a name clash app beats user beats private.
type Tier = layout.Tier

// The shared tiers, and the pseudo-tier of a user's private registry.
const (
	TierApp     = layout.TierApp
	TierUser    = layout.TierUser
	TierPrivate = layout.TierPrivate
)

// SharedTiers lists the shared tiers in precedence order.
var SharedTiers = layout.SharedTiers

// TierFor chooses the shared tier of a server from its config: `user` when it
// has "requiresOAuth": true or "startup": false, else `app` (CONTRACT section 4).
// Only those two keys are read, matched exactly as LibreChat does (encoding/json
// would also accept "RequiresOAuth"), and only the JSON literals count:
// "startup": 0 or "false" is not false.
func TierFor(config json.RawMessage) Tier {
	var c map[string]json.RawMessage
	_ = json.Unmarshal(config, &c) // a non-object config has neither key
	if string(c["requiresOAuth"]) == "true" || string(c["startup"]) == "false" {
		return TierUser
	}
	return TierApp
}
