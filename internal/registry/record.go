package registry

import (
	"encoding/json"
	"fmt"
	"strconv"
)

// Scope is a server's sharing state in its record.
type Scope string

// Record scopes. The empty Scope means no scope event was applied yet.
const (
	ScopePrivate Scope = "private"
	ScopePublic  Scope = "public"
	ScopeDeleted Scope = "deleted"
)

// Fields of the server record hash ({s:<server>}:rec).
const (
	fieldScope         = "scope"
	fieldTier          = "tier"
	fieldConfig        = "config"
	fieldConfigVersion = "cfgVersion"
	fieldAccessVersion = "accessVersion"
	fieldScopeVersion  = "scopeVersion"
	fieldRev           = "rev"
	fieldDBID          = "dbId"
	fieldAccessChanged = "accessChangedAt"
	fieldConfigChanged = "cfgChangedAt"
	fieldUpdatedAt     = "updatedAt"
	fieldValueRev      = "valRev"
	fieldFanout        = "fanout"
)

// Record is a server's record: what the events (and logins) applied so far
// say about it. The zero Record is a server nothing has touched.
type Record struct {
	Name  string
	Scope Scope
	Tier  Tier // set while Scope is public
	// Config is the canonical (newest) config, empty when none is known.
	Config        json.RawMessage
	ConfigVersion int64
	AccessVersion int64
	ScopeVersion  int64
	// Rev grows by one with every applied change; membership writes carry it
	// so that a change recorded during a login load is ordered against the
	// snapshot, and a stale writer is refused.
	Rev  int64
	DBID string // MongoDB _id hex ("" until known)
	// AccessChangedAtMs is Redis's clock when the scope or allowed set last
	// changed; a login load started before it must not trust MongoDB over it.
	AccessChangedAtMs int64
	// ConfigChangedAtMs is Redis's clock when a config event last changed the
	// config; a login load started before it keeps the record's config.
	ConfigChangedAtMs int64
	// UpdatedAtMs is the time of the config's last change, as the value shows it.
	UpdatedAtMs int64
	// HasValue says the server's value key was written for this record (by a
	// flow or a login); false for a record no value was built from yet.
	HasValue bool
	// Fanout is the mask of aspects whose change has not reached every
	// registry yet (a flow crashed or failed midway); 0 when none.
	Fanout Aspects
}

// Version is the newest version applied to any aspect of the server.
func (r Record) Version() int64 { return max(r.ConfigVersion, r.AccessVersion, r.ScopeVersion) }

// Value is the server's one cached value built from the record.
func (r Record) Value() ([]byte, error) { return Value(r.Config, r.DBID, r.UpdatedAtMs) }

var recordFields = []string{
	fieldScope, fieldTier, fieldConfig, fieldConfigVersion, fieldAccessVersion, fieldScopeVersion,
	fieldRev, fieldDBID, fieldAccessChanged, fieldConfigChanged, fieldUpdatedAt, fieldValueRev, fieldFanout,
}

// parseRecord reads the HMGET reply for recordFields.
func parseRecord(name string, vals []any) Record {
	fields := make(map[string]string, len(recordFields))
	for i, f := range recordFields {
		if s, ok := vals[i].(string); ok {
			fields[f] = s
		}
	}
	return recordFromMap(name, fields)
}

// recordFromMap builds a Record from the record hash's fields.
func recordFromMap(name string, fields map[string]string) Record {
	num := func(f string) int64 {
		n, _ := strconv.ParseInt(fields[f], 10, 64)
		return n
	}
	_, hasValue := fields[fieldValueRev]
	rec := Record{
		Name: name, Scope: Scope(fields[fieldScope]), Tier: Tier(fields[fieldTier]),
		ConfigVersion: num(fieldConfigVersion), AccessVersion: num(fieldAccessVersion),
		ScopeVersion: num(fieldScopeVersion), Rev: num(fieldRev), DBID: fields[fieldDBID],
		AccessChangedAtMs: num(fieldAccessChanged), ConfigChangedAtMs: num(fieldConfigChanged),
		UpdatedAtMs: num(fieldUpdatedAt), HasValue: hasValue, Fanout: Aspects(num(fieldFanout)),
	}
	if c := fields[fieldConfig]; c != "" {
		rec.Config = json.RawMessage(c)
	}
	return rec
}

// versionArg renders a version as the fixed-width decimal string the record
// keeps, so that Lua compares versions exactly as strings.
func versionArg(v int64) string { return fmt.Sprintf("%020d", v) }
