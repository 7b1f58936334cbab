package registry

import (
	"github.com/redis/go-redis/v9"
	"go.uber.org/fx"
)

// Module provides a *Registry from a redis.UniversalClient and a Config.
var Module = fx.Module("registry",
	fx.Provide(func(client redis.UniversalClient, cfg Config) (*Registry, error) {
		if err := cfg.Validate(); err != nil {
			return nil, err
		}
		return New(client, cfg), nil
	}),
)
