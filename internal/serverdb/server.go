package serverdb

import (
	"encoding/json"
	"fmt"
	"math"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Server is one mcpservers document as the worker caches it.
type Server struct {
	// Name is serverName, or mcp_id for older documents.
	Name string
	// DBID is the document's _id as hex (an _id that is not an ObjectId is
	// rendered by its extended JSON form).
	DBID string
	// Config is the config sub-document as a plain JSON object ({} when absent
	// or not an object). It holds secrets: never log it.
	Config json.RawMessage
	// UpdatedAtMs is updatedAt in Unix milliseconds (0 when absent).
	UpdatedAtMs int64
	// Tenant is the tenantId of the server and of the user it was read for
	// ("" is the default tenant: documents without tenantId).
	Tenant string
	// ConsumeOnly is true when the user reaches the server only through an
	// agent it may VIEW (agents.mcpServerNames), not through its own ACL.
	ConsumeOnly bool
}

// serverDoc is the projection of an mcpservers document that the login load
// reads. Raw values keep odd documents (a number where a string belongs)
// from failing the whole load.
type serverDoc struct {
	ID         bson.RawValue `bson:"_id"`
	ServerName bson.RawValue `bson:"serverName"`
	MCPID      bson.RawValue `bson:"mcp_id"`
	Config     bson.RawValue `bson:"config"`
	Options    bson.RawValue `bson:"options"` // legacy config, with Title
	Title      bson.RawValue `bson:"title"`
	UpdatedAt  bson.RawValue `bson:"updatedAt"`
}

var emptyConfig = json.RawMessage("{}")

// toServer converts d; ok is false when d has neither a non-empty serverName
// nor a non-empty mcp_id.
func (d serverDoc) toServer() (srv Server, ok bool, err error) {
	name := d.name()
	if name == "" {
		return Server{}, false, nil
	}
	cfg, err := configJSON(d.configDoc())
	if err != nil {
		return Server{}, false, fmt.Errorf("config of server %q: %w", name, err)
	}
	return Server{Name: name, DBID: idString(d.ID), Config: cfg, UpdatedAtMs: unixMillis(d.UpdatedAt)}, true, nil
}

// name is serverName, else mcp_id, else "" (neither is a non-empty string).
func (d serverDoc) name() string {
	if name, ok := d.ServerName.StringValueOK(); ok && name != "" {
		return name
	}
	name, _ := d.MCPID.StringValueOK()
	return name
}

// configDoc is the document to render as the config: config, or, for a
// legacy document without config (missing or null) whose options is an
// object, options with the top-level string title added when options has no
// title of its own.
func (d serverDoc) configDoc() bson.RawValue {
	if d.Config.Type != 0 && d.Config.Type != bson.TypeNull {
		return d.Config
	}
	opts, ok := d.Options.DocumentOK()
	if !ok {
		return d.Config
	}
	title, ok := d.Title.StringValueOK()
	if !ok {
		return d.Options
	}
	if _, err := opts.LookupErr(fieldTitle); err == nil {
		return d.Options // its own title wins
	}
	elems, err := opts.Elements()
	if err != nil {
		return d.Options // malformed: configJSON reports it
	}
	merged := make(bson.D, 0, len(elems)+1)
	for _, e := range elems {
		merged = append(merged, bson.E{Key: e.Key(), Value: e.Value()})
	}
	merged = append(merged, bson.E{Key: fieldTitle, Value: title})
	typ, data, err := bson.MarshalValue(merged)
	if err != nil {
		return d.Options
	}
	return bson.RawValue{Type: typ, Value: data}
}

// configJSON renders a config sub-document as relaxed extended JSON: strings,
// numbers, bools, null, arrays and objects come out as plain JSON in stored
// field order; BSON-only types (dates, ObjectIds, binary, decimals, NaN) as
// their $-wrapped extended JSON form.
func configJSON(v bson.RawValue) (json.RawMessage, error) {
	doc, ok := v.DocumentOK()
	if !ok {
		return emptyConfig, nil
	}
	b, err := bson.MarshalExtJSON(doc, false, false)
	if err != nil {
		return nil, err
	}
	return json.RawMessage(b), nil
}

// idString renders an _id: ObjectId as hex, a string as itself, anything else
// as its extended JSON.
func idString(v bson.RawValue) string {
	if oid, ok := v.ObjectIDOK(); ok {
		return oid.Hex()
	}
	if s, ok := v.StringValueOK(); ok {
		return s
	}
	return v.String()
}

// unixMillis reads updatedAt: a BSON date (what Mongoose writes), or a number
// of milliseconds; anything else is 0.
func unixMillis(v bson.RawValue) int64 {
	if ms, ok := v.DateTimeOK(); ok {
		return ms
	}
	if i, ok := v.Int64OK(); ok {
		return i
	}
	if i, ok := v.Int32OK(); ok {
		return int64(i)
	}
	if f, ok := v.DoubleOK(); ok && !math.IsNaN(f) && !math.IsInf(f, 0) {
		return int64(f)
	}
	return 0
}
