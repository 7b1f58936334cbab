package serverdb

import "go.mongodb.org/mongo-driver/v2/bson"

// tenantFilter is the condition that keeps a find inside tenant: documents
// whose tenantId is tenant, or, for the default tenant "", documents without
// tenantId. A tenantId that is null or not a string is in no tenant: no
// filter matches it.
func tenantFilter(tenant string) bson.E {
	if tenant == "" {
		return bson.E{Key: fieldTenantID, Value: bson.D{{Key: "$exists", Value: false}}}
	}
	return bson.E{Key: fieldTenantID, Value: tenant}
}

// readTenant reads a users document's tenantId: ok is false when it is
// present but not a string (null included), which puts the user in no
// tenant.
func readTenant(v bson.RawValue) (tenant string, ok bool) {
	if v.Type == 0 {
		return "", true
	}
	return v.StringValueOK()
}
