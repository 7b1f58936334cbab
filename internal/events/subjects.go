package events

import (
	"encoding/base64"
	"strings"
)

// Kind names an event type: the subject without the prefix.
type Kind string

// The event kinds of the contract (CONTRACT section 2).
const (
	KindUserLogin      Kind = "user.login"
	KindUserInvalidate Kind = "user.invalidate"
	KindServerCreated  Kind = "server.created"
	KindServerUpdated  Kind = "server.updated"
	KindServerAccess   Kind = "server.access"
	KindServerShared   Kind = "server.shared"
	KindServerUnshared Kind = "server.unshared"
	KindServerDeleted  Kind = "server.deleted"
	KindUserRefresh    Kind = "user.refresh"
	KindGroupChanged   Kind = "group.changed"
)

// Kinds lists every kind the worker handles.
var Kinds = []Kind{
	KindUserLogin, KindUserInvalidate,
	KindServerCreated, KindServerUpdated, KindServerAccess,
	KindServerShared, KindServerUnshared, KindServerDeleted,
	KindUserRefresh, KindGroupChanged,
}

// Header names the worker reads or writes.
const (
	HeaderMsgID        = "Nats-Msg-Id"
	HeaderNotify       = "Mcp-Notify"
	HeaderDLQReason    = "Mcp-Dlq-Reason"
	HeaderDLQSubject   = "Mcp-Dlq-Subject"
	HeaderDLQDelivered = "Mcp-Dlq-Delivered"
	HeaderDLQStreamSeq = "Mcp-Dlq-Stream-Seq"
	HeaderDLQTime      = "Mcp-Dlq-Time"
	// HeaderDLQHeaders holds the original message's headers as JSON data
	// ({"name":["value",...]}), size-bounded; never as headers of the dead
	// letter, where Nats-* ones would steer its own publish.
	HeaderDLQHeaders = "Mcp-Dlq-Headers"
	// HeaderDLQHeadersDropped says how many bytes of original headers did
	// not fit in HeaderDLQHeaders.
	HeaderDLQHeadersDropped = "Mcp-Dlq-Headers-Dropped"
)

// Default names (flags --stream and --subject-prefix; the consumer name).
const (
	DefaultStream    = "MCP_REGISTRY"
	DefaultDLQStream = DefaultStream + "_DLQ" // DLQStreamFor(DefaultStream)
	// DefaultAuditStream is AuditStreamFor(DefaultStream).
	DefaultAuditStream = DefaultStream + "_AUDIT"
	DefaultPrefix      = "mcp"
	DefaultConsumer    = "mcp-registry-worker"
)

// Subjects builds every subject name from the configured prefix. It is the
// only place subject strings are made.
type Subjects struct {
	Prefix string
}

// For returns the subject of an event kind, e.g. "mcp.user.login".
func (s Subjects) For(k Kind) string { return s.Prefix + "." + string(k) }

// StreamSubjects are the subjects the main stream captures: the event
// families (CONTRACT section 2), never "<prefix>.>", which would overlap the
// dead-letter stream's "<prefix>.dlq.>" (JetStream refuses overlapping
// streams); every contract subject (and any unknown verb in a family, which
// is dead-lettered) falls in them.
func (s Subjects) StreamSubjects() []string {
	return []string{s.Prefix + ".user.>", s.Prefix + ".server.>", s.Prefix + ".group.>"}
}

// DLQSubjects are the subjects of the dead-letter stream.
func (s Subjects) DLQSubjects() []string { return []string{s.Prefix + ".dlq.>"} }

// AuditSubjects are the subjects of the audit stream.
func (s Subjects) AuditSubjects() []string { return []string{s.Prefix + ".audit.>"} }

// auditAll is the user token of an audit record that concerns every user of
// a server: one character, which no token of an id (at least two base64
// characters) can be.
const auditAll = "_"

// AuditToken is the subject token of a user id or a qualified server name in
// audit subjects: unpadded base64url, so that ids with '.', '*', '>', spaces
// or any byte stay one literal token.
func AuditToken(id string) string { return base64.RawURLEncoding.EncodeToString([]byte(id)) }

// Audit returns the subject of an audit record of user (allUsers: every user)
// and server (qualified): <prefix>.audit.<user token>.<server token>.
func (s Subjects) Audit(user string, allUsers bool, server string) string {
	u := auditAll
	if !allUsers {
		u = AuditToken(user)
	}
	return s.Prefix + ".audit." + u + "." + AuditToken(server)
}

// AuditFilter is the subject filter of the audit records of one user (or, with
// allUsers, of the records for every user) and/or one server; an empty side
// matches any.
func (s Subjects) AuditFilter(user string, allUsers bool, server string) string {
	u, srv := "*", "*"
	switch {
	case allUsers:
		u = auditAll
	case user != "":
		u = AuditToken(user)
	}
	if server != "" {
		srv = AuditToken(server)
	}
	return s.Prefix + ".audit." + u + "." + srv
}

// DLQ returns the dead-letter subject for a message first published on subject.
func (s Subjects) DLQ(subject string) string {
	return s.Prefix + ".dlq." + strings.TrimPrefix(subject, s.Prefix+".")
}

// KindOf returns the kind of subject and whether it is one the worker handles.
func (s Subjects) KindOf(subject string) (Kind, bool) {
	rest, ok := strings.CutPrefix(subject, s.Prefix+".")
	if !ok {
		return "", false
	}
	for _, k := range Kinds {
		if string(k) == rest {
			return k, true
		}
	}
	return Kind(rest), false
}

// IsServer reports whether k is one of the server.* kinds.
func (k Kind) IsServer() bool { return strings.HasPrefix(string(k), "server.") }

// DLQStreamFor is the default dead-letter stream of a main stream:
// "<stream>_DLQ" (CONTRACT section 2), so that deployments with different
// streams on one account never share a dead-letter stream.
func DLQStreamFor(stream string) string { return stream + "_DLQ" }

// AuditStreamFor is the default audit stream of a main stream:
// "<stream>_AUDIT" (MCP_REGISTRY_AUDIT by default, CONTRACT section 5).
func AuditStreamFor(stream string) string { return stream + "_AUDIT" }
