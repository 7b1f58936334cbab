package reader

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/mcp-registry/worker/reader/layout"
)

// Options configure a Reader.
type Options struct {
	// KeyPrefix is the worker's --key-prefix (default "mcp:" there; "" is a
	// valid prefix, so nothing is defaulted here).
	KeyPrefix string
	// CredsKey is LibreChat's CREDS_KEY (64 hex characters); when set, the
	// encrypted config fields come back decrypted. Empty: values as stored.
	CredsKey string
}

// Reader reads the registry. Safe for concurrent use; it does not own the
// client (close it yourself).
type Reader struct {
	rdb     redis.UniversalClient
	keys    layout.Keys
	decrypt *Decrypter
}

// New returns a Reader on client (single, failover or cluster).
func New(client redis.UniversalClient, opts Options) (*Reader, error) {
	r := &Reader{rdb: client, keys: layout.NewKeys(opts.KeyPrefix)}
	if opts.CredsKey != "" {
		d, err := NewDecrypter(opts.CredsKey)
		if err != nil {
			return nil, err
		}
		r.decrypt = d
	}
	return r, nil
}

// Tier is where a server of a user's effective view comes from.
type Tier = layout.Tier

// The tiers, in precedence order on a name clash.
const (
	TierApp     = layout.TierApp
	TierUser    = layout.TierUser
	TierPrivate = layout.TierPrivate
)

// Entry is one server of an effective view: its tier and its value (the
// server's config plus dbId, updatedAt and lastUpdatedAt).
type Entry struct {
	Tier   Tier            `json:"tier"`
	Config json.RawMessage `json:"config"`
}

// View is a user's registry as chat nodes use it.
type View struct {
	UserID string `json:"userId"`
	// Loaded says the worker has loaded the user; when false, Private and
	// Effective are empty (the user's tenant, which picks the shared tiers,
	// is known only once loaded).
	Loaded      bool                       `json:"loaded"`
	ExpiresInMs int64                      `json:"expiresInMs"`
	Private     map[string]json.RawMessage `json:"private"`
	Effective   map[string]Entry           `json:"effective"`
}

// Effective reads userID's effective view in two round trips (one per step
// of the read algorithm in docs/redis-layout.md): the user's members hash with
// its TTL and both tiers, then the value of every server named there. A
// private member shows when its server has a value and no tier names it; on a
// name clash app beats user beats private.
func (r *Reader) Effective(ctx context.Context, userID string) (View, error) {
	k := r.keys
	var pttl *redis.DurationCmd
	var members *redis.MapStringStringCmd
	tiers := make([]*redis.MapStringStringCmd, len(layout.SharedTiers))
	_, err := r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		pttl = p.PTTL(ctx, k.UserMembers(userID))
		members = p.HGetAll(ctx, k.UserMembers(userID))
		for i, t := range layout.SharedTiers {
			tiers[i] = p.HGetAll(ctx, k.Tier(t))
		}
		return nil
	})
	if err != nil {
		return View{}, fmt.Errorf("read registry of %s: %w", userID, err)
	}
	v := View{UserID: userID, Private: map[string]json.RawMessage{}, Effective: map[string]Entry{}}
	if d := pttl.Val(); d > 0 {
		v.Loaded, v.ExpiresInMs = true, d.Milliseconds()
	}
	if !v.Loaded {
		// The user's tenant is unknown until a load notes it: show nothing
		// rather than another tenant's shared servers. Publish user.login.
		return v, nil
	}
	// Names in Redis are qualified by tenant; the user's tenant is in the
	// members hash. Only the user's tenant's tier entries count.
	tenant := members.Val()[layout.TenantField]
	tierOf := map[string]Tier{}
	for i := len(layout.SharedTiers) - 1; i >= 0; i-- { // lowest precedence first
		for name := range tiers[i].Val() {
			if t, _ := layout.Unqualify(name); t == tenant {
				tierOf[name] = layout.SharedTiers[i]
			}
		}
	}
	names := make([]string, 0, len(tierOf)+len(members.Val()))
	for name := range tierOf {
		names = append(names, name)
	}
	consumeOnly := map[string]bool{}
	for name, rev := range members.Val() {
		if _, shared := tierOf[name]; !shared && IsMember(name, rev) {
			names = append(names, name)
			consumeOnly[name] = IsConsumeOnly(rev)
		}
	}
	values, err := r.values(ctx, names)
	if err != nil {
		return View{}, fmt.Errorf("read registry of %s: %w", userID, err)
	}
	for qualified, val := range values {
		_, name := layout.Unqualify(qualified)
		if t, shared := tierOf[qualified]; shared {
			v.Effective[name] = Entry{Tier: t, Config: val}
			continue
		}
		if consumeOnly[qualified] {
			val = withConsumeOnly(val)
		}
		v.Private[name] = val
		v.Effective[name] = Entry{Tier: TierPrivate, Config: val}
	}
	return v, nil
}

// Private returns userID's private registry (server name -> value) and
// whether the user is loaded. Same reads as Effective.
func (r *Reader) Private(ctx context.Context, userID string) (map[string]json.RawMessage, bool, error) {
	v, err := r.Effective(ctx, userID)
	return v.Private, v.Loaded, err
}

// Server returns a server's value (found false when the server is deleted
// or unknown). name is the server's name in the default tenant, or
// layout.Qualify(tenant, name). One round trip.
func (r *Reader) Server(ctx context.Context, name string) (json.RawMessage, bool, error) {
	val, err := r.rdb.Get(ctx, r.keys.ServerValue(name)).Result()
	if errors.Is(err, redis.Nil) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("read server %s: %w", name, err)
	}
	return r.decrypt.DecryptValue(json.RawMessage(val)), true, nil
}

// Lookup returns the server userID sees under name, with the precedence of
// Effective. One pipelined round trip for a user of the default tenant; a
// user of another tenant (the same round trip tells) costs a second one.
func (r *Reader) Lookup(ctx context.Context, userID, name string) (Entry, bool, error) {
	if t, _ := layout.Unqualify(name); t != "" {
		return Entry{}, false, nil // a plain server name never holds the tenant separator
	}
	e, ok, tenant, err := r.lookup(ctx, userID, name)
	if err == nil && tenant != "" {
		e, ok, _, err = r.lookup(ctx, userID, layout.Qualify(tenant, name))
	}
	return e, ok, err
}

// lookup reads the qualified name for userID and returns the user's tenant.
func (r *Reader) lookup(ctx context.Context, userID, name string) (Entry, bool, string, error) {
	k := r.keys
	inTier := make([]*redis.BoolCmd, len(layout.SharedTiers))
	var member, value, tenant, loaded *redis.StringCmd
	_, err := r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, t := range layout.SharedTiers {
			inTier[i] = p.HExists(ctx, k.Tier(t), name)
		}
		member = p.HGet(ctx, k.UserMembers(userID), name)
		tenant = p.HGet(ctx, k.UserMembers(userID), layout.TenantField)
		loaded = p.HGet(ctx, k.UserMembers(userID), layout.LoadedField)
		value = p.Get(ctx, k.ServerValue(name))
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return Entry{}, false, "", fmt.Errorf("lookup %s for %s: %w", name, userID, err)
	}
	if loaded.Val() == "" {
		return Entry{}, false, "", nil // not loaded: tenant unknown, nothing shown (as Effective)
	}
	if t, _ := layout.Unqualify(name); t != tenant.Val() {
		return Entry{}, false, tenant.Val(), nil // the caller retries qualified
	}
	val, err := value.Result()
	if err != nil {
		return Entry{}, false, tenant.Val(), nil
	}
	config := r.decrypt.DecryptValue(json.RawMessage(val))
	for i, c := range inTier {
		if c.Val() {
			return Entry{Tier: layout.SharedTiers[i], Config: config}, true, tenant.Val(), nil
		}
	}
	if IsMember(name, member.Val()) {
		if IsConsumeOnly(member.Val()) {
			config = withConsumeOnly(config)
		}
		return Entry{Tier: TierPrivate, Config: config}, true, tenant.Val(), nil
	}
	return Entry{}, false, tenant.Val(), nil
}

// Loaded reports whether userID is loaded and how long until the registry
// expires. One round trip.
func (r *Reader) Loaded(ctx context.Context, userID string) (bool, time.Duration, error) {
	d, err := r.rdb.PTTL(ctx, r.keys.UserMembers(userID)).Result()
	if err != nil {
		return false, 0, fmt.Errorf("loaded state of %s: %w", userID, err)
	}
	if d <= 0 {
		return false, 0, nil
	}
	return true, d, nil
}

// values reads the value of each named server in one pipelined round trip
// (on Cluster go-redis sends each node its part at once), decrypted. Servers
// without a value (deleted, or not valued yet) are left out.
func (r *Reader) values(ctx context.Context, names []string) (map[string]json.RawMessage, error) {
	out := make(map[string]json.RawMessage, len(names))
	if len(names) == 0 {
		return out, nil
	}
	cmds := make([]*redis.StringCmd, len(names))
	_, err := r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, name := range names {
			cmds[i] = p.Get(ctx, r.keys.ServerValue(name))
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("read server values: %w", err)
	}
	for i, c := range cmds {
		if val, err := c.Result(); err == nil {
			out[names[i]] = r.decrypt.DecryptValue(json.RawMessage(val))
		}
	}
	return out, nil
}

// IsMember reports whether a field of a user's members hash is a server the
// user holds: not the loaded mark, not a tombstone ('-' value).
func IsMember(field, value string) bool {
	return !layout.IsReserved(field) && value != "" && value[0] != '-'
}

// IsConsumeOnly reports whether a membership value marks a server the user
// reaches only through an agent (a trailing 'c': LibreChat's consumeOnly).
func IsConsumeOnly(value string) bool { return strings.HasSuffix(value, "c") }

// withConsumeOnly returns value with "consumeOnly": true (keys sorted).
func withConsumeOnly(value json.RawMessage) json.RawMessage {
	var m map[string]json.RawMessage
	if json.Unmarshal(value, &m) != nil || m == nil {
		return value
	}
	m["consumeOnly"] = json.RawMessage("true")
	out, err := json.Marshal(m)
	if err != nil {
		return value
	}
	return out
}
