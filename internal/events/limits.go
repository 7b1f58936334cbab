package events

// Limits bound what one event may make the worker store (besides MaxPayload):
// an event over them is refused as permanent, so it is dead-lettered with the
// reason. Zero turns a limit off.
type Limits struct {
	// MaxAllowedUsers bounds allowedUserIds of server.access and
	// server.unshared (--max-allowed-users).
	MaxAllowedUsers int
	// MaxConfigBytes bounds the compacted config (--max-config-bytes).
	MaxConfigBytes int
}

// Check returns a permanent error naming the subject, the field and the
// limit when ev exceeds one.
func (l Limits) Check(ev Event) error {
	if n := len(ev.AllowedUserIDs); l.MaxAllowedUsers > 0 && n > l.MaxAllowedUsers {
		return Permanentf(`invalid %s event: field "allowedUserIds": %d users, more than the limit of %d (--max-allowed-users)`,
			ev.Subject, n, l.MaxAllowedUsers)
	}
	if n := len(ev.Config); l.MaxConfigBytes > 0 && n > l.MaxConfigBytes {
		return Permanentf(`invalid %s event: field "config": %d bytes, more than the limit of %d (--max-config-bytes)`,
			ev.Subject, n, l.MaxConfigBytes)
	}
	return nil
}
