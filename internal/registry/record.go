package registry

import (
	"encoding/json"
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
	fieldFanout        = "fanout"
)

// Record is a server's record: what the events applied so far say about it.
// The zero Record is a server no event has touched.
type Record struct {
	Name  string
	Scope Scope
	Tier  Tier // set while Scope is public
	// Config is the canonical (newest) config, empty when no config event applied.
	Config        json.RawMessage
	ConfigVersion int64
	AccessVersion int64
	ScopeVersion  int64
	// Rev grows by one with every applied change; user writes carry it so that
	// a change recorded during a login load is ordered against the snapshot.
	Rev  int64
	DBID string // MongoDB _id hex, learned from login loads
	// AccessChangedAtMs is Redis's clock when the scope or allowed set last
	// changed; a login load started before it must not trust MongoDB over it.
	AccessChangedAtMs int64
	// Fanout is the mask of aspects whose change has not reached every
	// registry yet (a flow crashed or failed midway); 0 when none.
	Fanout Aspects
}

// Version is the newest version applied to any aspect of the server.
func (r Record) Version() int64 { return max(r.ConfigVersion, r.AccessVersion, r.ScopeVersion) }

var recordFields = []string{
	fieldScope, fieldTier, fieldConfig, fieldConfigVersion,
	fieldAccessVersion, fieldScopeVersion, fieldRev, fieldDBID, fieldAccessChanged, fieldFanout,
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
	str := func(i int) string { return fields[recordFields[i]] }
	num := func(i int) int64 {
		n, _ := strconv.ParseInt(str(i), 10, 64)
		return n
	}
	rec := Record{
		Name: name, Scope: Scope(str(0)), Tier: Tier(str(1)),
		ConfigVersion: num(3), AccessVersion: num(4), ScopeVersion: num(5), Rev: num(6), DBID: str(7),
		AccessChangedAtMs: num(8), Fanout: Aspects(num(9)),
	}
	if c := str(2); c != "" {
		rec.Config = json.RawMessage(c)
	}
	return rec
}
