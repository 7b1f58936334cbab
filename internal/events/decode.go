package events

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
)

// DefaultMaxPayload is the largest payload accepted (NATS's default max_payload).
const DefaultMaxPayload = 1 << 20

// Decoder turns a message into a validated Event.
type Decoder struct {
	Subjects Subjects
	// MaxPayload is the largest payload accepted, in bytes; 0 (or less)
	// means DefaultMaxPayload.
	MaxPayload int
}

// Decode validates subject and payload (CONTRACT section 2) and returns the
// event. msgID is the Nats-Msg-Id header (may be empty), used as EventID when
// the payload has no eventId (or an empty one). streamSeq is the JetStream
// stream sequence; when the payload has no version, Version is streamSeq (0
// when streamSeq is 0, e.g. publish-time validation). StreamSeq is set to
// streamSeq; Delivered is left to the caller.
//
// The payload must be one JSON object, nothing before or after it, of at most
// MaxPayload bytes. Keys match exactly (case-sensitive). Only the fields the
// kind uses are read: fields the kind does not use and unknown fields are
// ignored without any check, so publishers can add fields (forward
// compatible). A field the kind uses that appears twice is rejected; keys
// inside config are not checked. The optional fields version, eventId and
// occurredAt count as absent when null; a required field that is null is
// rejected. Ids keep their raw (untrimmed) value exactly; JSON escapes that
// encode no valid UTF-8 (an unpaired surrogate such as "\ud800") are rejected
// instead of being replaced with U+FFFD. allowedUserIds is returned
// de-duplicated and sorted bytewise, never nil. config is returned compacted
// with its key order kept. occurredAt is returned in UTC.
//
// Every error wraps ErrPermanent and names the subject and the field, e.g.
// `invalid mcp.server.access event: field "allowedUserIds"[3]: contains a
// control character`.
func (d Decoder) Decode(subject string, data []byte, msgID string, streamSeq uint64) (Event, error) {
	kind, ok := d.Subjects.KindOf(subject)
	if !ok {
		if kind == "" {
			return Event{}, Permanentf("unknown subject %q: not under prefix %q", subject, d.Subjects.Prefix)
		}
		return Event{}, Permanentf("unknown subject %q", subject)
	}
	ev, err := d.decode(kind, data, msgID, streamSeq)
	if err != nil {
		return Event{}, Permanentf("invalid %s event: %w", subject, err)
	}
	ev.Subject = subject
	return ev, nil
}

func (d Decoder) decode(kind Kind, data []byte, msgID string, streamSeq uint64) (Event, error) {
	limit := d.MaxPayload
	if limit <= 0 {
		limit = DefaultMaxPayload
	}
	if len(data) > limit {
		return Event{}, fmt.Errorf("payload is %d bytes, more than the limit of %d", len(data), limit)
	}
	want := fieldsOf(kind)
	var p rawPayload
	optional := fieldVersion | fieldEventID | fieldOccurredAt | fieldTenantID | optionalOf(kind)
	if err := p.scan(data, want|optional); err != nil {
		return Event{}, err
	}
	ev := Event{Kind: kind, StreamSeq: streamSeq}
	if err := p.fill(&ev, want); err != nil {
		return Event{}, err
	}
	if err := p.fillCommon(&ev, msgID, streamSeq); err != nil {
		return Event{}, err
	}
	return ev, nil
}

// field is a set of payload fields, one bit each.
type field uint16

const (
	fieldUserID field = 1 << iota
	fieldServerName
	fieldAllowedUserIDs
	fieldConfig
	fieldVersion
	fieldEventID
	fieldOccurredAt
	fieldDBID
	fieldUpdatedAt
	fieldTenantID
	fieldGroupID
	fieldAddedMemberIDs
	fieldRemovedMemberIDs
)

// serverOptional are the optional fields of every server.* kind.
const serverOptional = fieldDBID | fieldUpdatedAt

// optionalOf returns the optional fields kind k reads besides version,
// eventId, occurredAt and tenantId, which every kind may carry.
func optionalOf(k Kind) field {
	switch k {
	case KindServerAccess, KindServerUnshared:
		// Without allowedUserIds the allowed users are derived from MongoDB.
		return serverOptional | fieldAllowedUserIDs
	case KindGroupChanged:
		return fieldAddedMemberIDs | fieldRemovedMemberIDs
	}
	if k.IsServer() {
		return serverOptional
	}
	return 0
}

// fieldNames are the payload keys, in the order fields are checked.
var fieldNames = [...]struct {
	f    field
	name string
}{
	{fieldServerName, "serverName"},
	{fieldUserID, "userId"},
	{fieldAllowedUserIDs, "allowedUserIds"},
	{fieldConfig, "config"},
	{fieldVersion, "version"},
	{fieldEventID, "eventId"},
	{fieldOccurredAt, "occurredAt"},
	{fieldDBID, "dbId"},
	{fieldUpdatedAt, "updatedAt"},
	{fieldTenantID, "tenantId"},
	{fieldGroupID, "groupId"},
	{fieldAddedMemberIDs, "addedMemberIds"},
	{fieldRemovedMemberIDs, "removedMemberIds"},
}

func fieldByName(key string) field {
	for _, fn := range fieldNames {
		if fn.name == key {
			return fn.f
		}
	}
	return 0
}

func (f field) String() string {
	for _, fn := range fieldNames {
		if fn.f == f {
			return fn.name
		}
	}
	return fmt.Sprintf("field(%d)", uint16(f))
}

// fieldsOf returns the fields kind k requires; it reads no others besides
// the optional version, eventId and occurredAt.
func fieldsOf(k Kind) field {
	switch k {
	case KindUserLogin, KindUserInvalidate, KindUserRefresh:
		return fieldUserID
	case KindGroupChanged:
		return fieldGroupID
	case KindServerCreated:
		return fieldServerName | fieldUserID | fieldConfig
	case KindServerUpdated, KindServerShared:
		return fieldServerName | fieldConfig
	case KindServerAccess, KindServerUnshared:
		return fieldServerName | fieldConfig
	case KindServerDeleted:
		return fieldServerName
	}
	return 0
}

// rawPayload holds the raw JSON value of each field read, by field bit.
type rawPayload struct {
	seen field
	raw  [13][]byte
}

// slot returns where the raw value of the single field f is kept.
func (p *rawPayload) slot(f field) *[]byte { return &p.raw[bits.TrailingZeros16(uint16(f))] }

// get returns the raw value of f and whether it is present and not null.
func (p *rawPayload) get(f field) ([]byte, bool) {
	v := *p.slot(f)
	if v == nil || jsonType(v) == "null" {
		return nil, false
	}
	return v, true
}

// required returns the raw value of f, or an error when it is missing.
func (p *rawPayload) required(f field) ([]byte, error) {
	v := *p.slot(f)
	if v == nil {
		return nil, fmt.Errorf("field %q: required but missing", f)
	}
	return v, nil
}

// scan reads the top-level object of data, keeping the raw values of the
// fields in keep. It checks the whole payload is one well-formed JSON object.
func (p *rawPayload) scan(data []byte, keep field) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return errors.New("payload is empty")
		}
		return syntaxError(err)
	}
	if tok != json.Delim('{') {
		return fmt.Errorf("payload must be a JSON object, got %s", tokenType(tok))
	}
	var skip json.RawMessage // reused for values not kept
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return syntaxError(err)
		}
		key, _ := tok.(string)
		f := fieldByName(key) & keep
		if f == 0 {
			if err := dec.Decode(&skip); err != nil {
				return syntaxError(err)
			}
			continue
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return syntaxError(err)
		}
		if p.seen&f != 0 {
			return fmt.Errorf("field %q: given more than once", key)
		}
		p.seen |= f
		*p.slot(f) = raw
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return syntaxError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("payload is not valid JSON: trailing data after the object")
	}
	return nil
}

func syntaxError(err error) error {
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("payload is not valid JSON: %w", err)
}

// fill sets the kind's required fields of ev.
func (p *rawPayload) fill(ev *Event, want field) error {
	for _, fn := range fieldNames {
		if want&fn.f == 0 {
			continue
		}
		raw, err := p.required(fn.f)
		if err != nil {
			return err
		}
		switch fn.f {
		case fieldServerName:
			ev.ServerName, err = parseID(fn.name, raw)
		case fieldUserID:
			ev.UserID, err = parseID(fn.name, raw)
		case fieldAllowedUserIDs:
			ev.AllowedUserIDs, err = parseIDList(fn.name, raw)
		case fieldConfig:
			ev.Config, err = parseConfig(fn.name, raw)
		case fieldGroupID:
			ev.GroupID, err = parseID(fn.name, raw)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// fillCommon sets the optional fields every kind may carry.
func (p *rawPayload) fillCommon(ev *Event, msgID string, streamSeq uint64) error {
	var err error
	if raw, ok := p.get(fieldVersion); ok {
		if ev.Version, err = parseVersion("version", raw); err != nil {
			return err
		}
	} else {
		if streamSeq > math.MaxInt64 {
			return fmt.Errorf("no version and stream sequence %d does not fit in a 64-bit integer", streamSeq)
		}
		ev.Version = int64(streamSeq)
	}
	if raw, ok := p.get(fieldEventID); ok {
		if ev.EventID, err = parseEventID("eventId", raw); err != nil {
			return err
		}
	}
	if ev.EventID == "" {
		ev.EventID = msgID
	}
	if raw, ok := p.get(fieldOccurredAt); ok {
		if ev.OccurredAt, err = parseTime("occurredAt", raw); err != nil {
			return err
		}
	}
	if raw, ok := p.get(fieldDBID); ok {
		if ev.DBID, err = parseID("dbId", raw); err != nil {
			return err
		}
	}
	if raw, ok := p.get(fieldUpdatedAt); ok {
		if ev.UpdatedAtMs, err = parseVersion("updatedAt", raw); err != nil {
			return err
		}
	}
	if raw, ok := p.get(fieldTenantID); ok {
		if ev.TenantID, err = parseID("tenantId", raw); err != nil {
			return err
		}
	}
	return p.fillLists(ev)
}

// fillLists sets the optional id lists: allowedUserIds of server.access and
// server.unshared (absent or null: derive from MongoDB), and the member lists
// of group.changed.
func (p *rawPayload) fillLists(ev *Event) error {
	var err error
	switch ev.Kind {
	case KindServerAccess, KindServerUnshared:
		raw, ok := p.get(fieldAllowedUserIDs)
		if !ok {
			ev.DeriveAccess = true
			return nil
		}
		ev.AllowedUserIDs, err = parseIDList("allowedUserIds", raw)
	case KindGroupChanged:
		if raw, ok := p.get(fieldAddedMemberIDs); ok {
			if ev.AddedMemberIDs, err = parseIDList("addedMemberIds", raw); err != nil {
				return err
			}
		}
		if raw, ok := p.get(fieldRemovedMemberIDs); ok {
			ev.RemovedMemberIDs, err = parseIDList("removedMemberIds", raw)
		}
	}
	return err
}
