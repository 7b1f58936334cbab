package ops

import "errors"

// ErrAlreadyStarted is returned by Start when the listener is already running.
var ErrAlreadyStarted = errors.New("ops listener already started")
