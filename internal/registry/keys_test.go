package registry_test

import (
	"fmt"
	"hash/fnv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcp-registry/worker/internal/registry"
)

func TestEscapeIDEscapesOnlyReservedBytes(t *testing.T) {
	t.Parallel()
	want := map[byte]string{'%': "%25", '{': "%7B", '}': "%7D", ':': "%3A"}
	for b := range 256 {
		in := string([]byte{byte(b)})
		exp, reserved := want[byte(b)]
		if !reserved {
			exp = in
		}
		assert.Equal(t, exp, registry.EscapeID(in), "byte %#x", b)
	}
}

func TestEscapeID(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"", ""},
		{"user-1", "user-1"},
		{"a}:reg", "a%7D%3Areg"},
		{"a%7D:reg", "a%257D%3Areg"},
		{"{", "%7B"},
		{"%", "%25"},
		{"ünï cødé/é", "ünï cødé/é"},
		{"x{y}z", "x%7By%7Dz"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, registry.EscapeID(tt.in))
		})
	}
}

// unescapeID inverts EscapeID; a round trip proves EscapeID is injective.
func unescapeID(s string) string {
	return strings.NewReplacer("%25", "%", "%7B", "{", "%7D", "}", "%3A", ":").Replace(s)
}

func FuzzEscapeIDInjective(f *testing.F) {
	for _, s := range []string{"", "a}:reg", "a%7D:reg", "{", "%", "%25", "%%7B", "}{", ":::", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		esc := registry.EscapeID(id)
		require.Equal(t, id, unescapeID(esc))
		require.False(t, strings.ContainsAny(esc, "{}:"), "escaped %q is %q", id, esc)
		if utf8.ValidString(id) {
			require.True(t, utf8.ValidString(esc))
		}
	})
}

// keyIDs are ids built to collide if escaping were wrong or partial.
var keyIDs = []string{
	"a", "a}:reg", "a%7D:reg", "a%7D%3Areg", "{", "%", "%25", "%7B", "}", ":", "a:b", "a%3Ab",
	"", "{u:a}", "u:a", "a}", "a%7D", "s:a", "{}", "%7B%7D",
}

// idKeys are every key built from one id, by builder name.
func idKeys(k registry.Keys, id string) (user, server map[string]string) {
	user = map[string]string{
		"UserMembers": k.UserMembers(id), "UserPending": k.UserPending(id), "UserLock": k.UserLock(id),
	}
	server = map[string]string{
		"ServerRecord": k.ServerRecord(id), "ServerValue": k.ServerValue(id),
		"ServerAllowed": k.ServerAllowed(id), "ServerRevoke": k.ServerRevoke(id),
		"ServerAllowedNext": k.ServerAllowedNext(id), "ServerLock": k.ServerLock(id),
		"ServerHolders(0)": k.ServerHolders(id, 0), "ServerHolders(1)": k.ServerHolders(id, 1),
		"ServerHolders(127)": k.ServerHolders(id, registry.HolderBuckets-1),
	}
	return user, server
}

func TestKeysDistinctIDsNeverShareAKey(t *testing.T) {
	t.Parallel()
	k := registry.NewKeys("mcp:")
	seen := map[string]string{}
	add := func(key, what string) {
		if prev, dup := seen[key]; dup {
			t.Errorf("key %q built for both %s and %s", key, prev, what)
		}
		seen[key] = what
	}
	perID := 0
	for _, id := range keyIDs {
		user, server := idKeys(k, id)
		perID = len(user) + len(server)
		for part, key := range user {
			add(key, part+"("+id+")")
		}
		for part, key := range server {
			add(key, part+"("+id+")")
		}
	}
	for _, tier := range []registry.Tier{registry.TierApp, registry.TierUser} {
		add(k.Tier(tier), "Tier("+string(tier)+")")
		add(k.LegacyTier(tier), "LegacyTier("+string(tier)+")")
	}
	add(k.TierRevs(), "TierRevs")
	add(k.Layout(), "Layout")
	assert.Len(t, seen, len(keyIDs)*perID+6)
}

func TestKeysLayout2Names(t *testing.T) {
	t.Parallel()
	k := registry.NewKeys("mcp:")
	tests := []struct{ got, want string }{
		{k.Layout(), "mcp:layout"},
		{k.UserMembers("a:b"), "mcp:{u:a%3Ab}:m"},
		{k.UserPending("u1"), "mcp:{u:u1}:pending"},
		{k.UserLock("u1"), "mcp:{u:u1}:lock"},
		{k.ServerRecord("team{x}"), "mcp:{s:team%7Bx%7D}:rec"},
		{k.ServerValue("50%"), "mcp:{s:50%25}:val"},
		{k.ServerAllowed("s"), "mcp:{s:s}:allowed"},
		{k.ServerRevoke("s"), "mcp:{s:s}:revoke"},
		{k.ServerAllowedNext("s"), "mcp:{s:s}:allowed:next"},
		{k.ServerHolders("s", 0), "mcp:{s:s}:h:0"},
		{k.ServerHolders("s", 127), "mcp:{s:s}:h:127"},
		{k.ServerLock("s"), "mcp:{s:s}:lock"},
		{k.Tier(registry.TierApp), "mcp:{shared}:app"},
		{k.Tier(registry.TierUser), "mcp:{shared}:user"},
		{k.TierRevs(), "mcp:{shared}:revs"},
		{k.LegacyTier(registry.TierApp), "mcp:{shared}:tier:app"},
		{registry.NewKeys("").UserMembers("u"), "{u:u}:m"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, tt.got)
		})
	}
}

func TestKeysShareOneSlotPerUserAndServer(t *testing.T) {
	t.Parallel()
	k := registry.NewKeys("mcp:")
	tags := map[string]string{}
	for _, id := range keyIDs {
		t.Run("id="+id, func(t *testing.T) {
			user, server := idKeys(k, id)
			for _, key := range user {
				assert.True(t, strings.HasPrefix(key, "mcp:"), key)
				assert.Equal(t, "u:"+registry.EscapeID(id), slotTag(key), key)
			}
			for _, key := range server {
				assert.True(t, strings.HasPrefix(key, "mcp:"), key)
				assert.Equal(t, "s:"+registry.EscapeID(id), slotTag(key), key)
			}
		})
		for _, tag := range []string{slotTag(k.UserMembers(id)), slotTag(k.ServerRecord(id))} {
			if prev, dup := tags[tag]; dup {
				t.Errorf("ids %q and %q share the slot tag %q", prev, id, tag)
			}
			tags[tag] = id
		}
	}
	for _, key := range []string{
		k.Tier(registry.TierApp), k.Tier(registry.TierUser), k.TierRevs(),
		k.LegacyTier(registry.TierApp), k.LegacyTier(registry.TierUser),
	} {
		assert.Equal(t, "shared", slotTag(key), key)
	}
}

func TestHolderBucket(t *testing.T) {
	t.Parallel()
	counts := make([]int, registry.HolderBuckets)
	for i := range 20000 {
		user := fmt.Sprintf("user-%d", i)
		b := registry.HolderBucket(user)
		require.GreaterOrEqual(t, b, 0)
		require.Less(t, b, registry.HolderBuckets)
		h := fnv.New32a()
		_, _ = h.Write([]byte(user))
		require.Equal(t, int(h.Sum32()%registry.HolderBuckets), b, "FNV-1a of %q", user)
		require.Equal(t, b, registry.HolderBucket(user), "stable")
		counts[b]++
	}
	for b, n := range counts {
		assert.Greater(t, n, 20000/registry.HolderBuckets/2, "bucket %d is not starved", b)
	}
	assert.Equal(t, registry.HolderBucket(""), int(uint32(2166136261)%registry.HolderBuckets))
}

func TestLoadedFieldCannotBeAServerName(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "\x00loaded", registry.LoadedField)
	assert.Equal(t, registry.LoadedField, registry.EscapeID(registry.LoadedField), "kept as is")
}
