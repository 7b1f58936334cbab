package serverdb

import "errors"

// ErrNoTenant reports a users document whose tenantId is present but not a
// string (null included): the user belongs to no tenant and is granted
// nothing.
var ErrNoTenant = errors.New("tenantId is not a string")
