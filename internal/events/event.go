package events

import (
	"encoding/json"
	"time"
)

// Event is one validated event. Which fields are set depends on Kind (see
// docs/events.md); the decoder guarantees the ones a kind requires.
type Event struct {
	Kind    Kind
	Subject string
	// EventID is the payload's eventId, or the Nats-Msg-Id header, or empty.
	EventID    string
	OccurredAt time.Time // zero when absent

	UserID     string // user.login, user.invalidate, server.created
	ServerName string // every server.* kind
	// AllowedUserIDs is the complete, de-duplicated list of users allowed to
	// use the server privately (server.access, server.unshared). Never nil for
	// those kinds; empty means nobody.
	AllowedUserIDs []string
	// Config is the server's config, a compact JSON object (server.created,
	// updated, access, shared, unshared). Opaque: never log it.
	Config json.RawMessage
	// Version orders the changes of one server: the payload's version, or the
	// JetStream stream sequence when the payload has none.
	Version int64
	// DBID is the server document's _id hex when the publisher sent it
	// (server.* kinds; optional): the worker resolves it otherwise.
	DBID string
	// UpdatedAtMs is the config's last change in Unix ms when the publisher
	// sent it (server.* kinds; optional, 0 when absent).
	UpdatedAtMs int64

	// TenantID is the payload's tenantId ("" = the default tenant).
	TenantID string
	// DeriveAccess says a server.access or server.unshared event carries no
	// allowedUserIds: the allowed users come from MongoDB's ACL.
	DeriveAccess bool
	// GroupID is group.changed's group (_id hex or idOnTheSource).
	GroupID string
	// AddedMemberIDs and RemovedMemberIDs are group.changed's optional lists
	// (user ids); both nil: the members are read from MongoDB.
	AddedMemberIDs, RemovedMemberIDs []string

	// Delivery facts, set by the consume loop.
	StreamSeq uint64
	Delivered uint64
}
