package serverdb

import (
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.uber.org/fx"
)

// Module provides a *Store built from the application's *mongo.Client and a
// serverdb Config, after validating the Config. The client belongs to the
// composition root, which also closes it.
var Module = fx.Module("serverdb", fx.Provide(provideStore))

func provideStore(client *mongo.Client, cfg Config) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return New(client, cfg), nil
}
