package registry

import "errors"

// ErrFenced says a write was refused because the caller's lock token is no
// longer the lock's value: its lock expired or was taken over.
var ErrFenced = errors.New("write refused: lock no longer held")

// ErrSuperseded says a login load was refused because the user's registry was
// invalidated, or another load began, while it ran. Retrying reloads.
var ErrSuperseded = errors.New("load superseded by an invalidation or a newer load")
