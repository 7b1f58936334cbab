package lockstatus

import (
	"github.com/redis/go-redis/v9"
	"go.uber.org/fx"
)

// Module provides a *Locker from a redis.UniversalClient and a Config.
var Module = fx.Module("lockstatus",
	fx.Provide(func(client redis.UniversalClient, cfg Config) *Locker { return New(client, cfg) }),
)
