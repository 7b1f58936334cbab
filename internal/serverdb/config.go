package serverdb

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Defaults used for the zero values of Config.
const (
	DefaultDatabase     = "LibreChat"
	DefaultQueryTimeout = 10 * time.Second
)

// Config says where LibreChat's collections live and how long one lookup may
// take. A zero field means its default.
type Config struct {
	// Database holding users, groups, aclentries and mcpservers.
	Database string
	// QueryTimeout bounds one whole AccessibleServers call (all its queries)
	// and one Ping.
	QueryTimeout time.Duration
}

// withDefaults returns c with zero fields set to their defaults.
func (c Config) withDefaults() Config {
	if c.Database == "" {
		c.Database = DefaultDatabase
	}
	if c.QueryTimeout == 0 {
		c.QueryTimeout = DefaultQueryTimeout
	}
	return c
}

// Validate reports a database name MongoDB would refuse or a negative timeout.
func (c Config) Validate() error {
	c = c.withDefaults()
	var errs []error
	if len(c.Database) >= 64 {
		errs = append(errs, fmt.Errorf("database name %q: longer than 63 bytes", c.Database))
	}
	if strings.ContainsAny(c.Database, "/\\. \"$\x00") {
		errs = append(errs, fmt.Errorf("database name %q: contains one of / \\ . space \" $ NUL", c.Database))
	}
	if c.QueryTimeout < 0 {
		errs = append(errs, fmt.Errorf("query timeout %s: negative", c.QueryTimeout))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("serverdb config: %w", err)
	}
	return nil
}
