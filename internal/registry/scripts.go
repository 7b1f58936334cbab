package registry

import (
	_ "embed"

	"github.com/redis/go-redis/v9"
)

// The Lua scripts, one file each under lua/, each headed by its KEYS, ARGV and
// return values. They are called only through the typed wrappers of this package.
var (
	//go:embed lua/begin_load.lua
	beginLoadSrc string
	//go:embed lua/commit_load.lua
	commitLoadSrc string
	//go:embed lua/apply_user.lua
	applyUserSrc string
	//go:embed lua/apply_record.lua
	applyRecordSrc string
	//go:embed lua/put_value.lua
	putValueSrc string
	//go:embed lua/adopt_value.lua
	adoptValueSrc string
	//go:embed lua/finish_fanout.lua
	finishFanoutSrc string
	//go:embed lua/put_tier.lua
	putTierSrc string
	//go:embed lua/mark_fanout.lua
	markFanoutSrc string
	//go:embed lua/invalidate.lua
	invalidateSrc string
	//go:embed lua/settle_server_ttl.lua
	settleServerTTLSrc string

	beginLoadScript    = redis.NewScript(beginLoadSrc)
	commitLoadScript   = redis.NewScript(commitLoadSrc)
	applyUserScript    = redis.NewScript(applyUserSrc)
	applyRecordScript  = redis.NewScript(applyRecordSrc)
	putValueScript     = redis.NewScript(putValueSrc)
	adoptValueScript   = redis.NewScript(adoptValueSrc)
	finishFanoutScript = redis.NewScript(finishFanoutSrc)
	putTierScript      = redis.NewScript(putTierSrc)
	markFanoutScript   = redis.NewScript(markFanoutSrc)
	invalidateScript   = redis.NewScript(invalidateSrc)
	settleTTLScript    = redis.NewScript(settleServerTTLSrc)
)

// ScriptNames maps each script's SHA1 (as EVALSHA sends it) to its file name
// without .lua, so instrumentation can label a script call by name.
func ScriptNames() map[string]string {
	return map[string]string{
		beginLoadScript.Hash():    "begin_load",
		commitLoadScript.Hash():   "commit_load",
		applyUserScript.Hash():    "apply_user",
		applyRecordScript.Hash():  "apply_record",
		putValueScript.Hash():     "put_value",
		adoptValueScript.Hash():   "adopt_value",
		finishFanoutScript.Hash(): "finish_fanout",
		putTierScript.Hash():      "put_tier",
		markFanoutScript.Hash():   "mark_fanout",
		invalidateScript.Hash():   "invalidate",
		settleTTLScript.Hash():    "settle_server_ttl",
	}
}
