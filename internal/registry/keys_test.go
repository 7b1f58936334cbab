package registry_test

import (
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
	for _, id := range keyIDs {
		for part, key := range map[string]string{
			"UserRegistry": k.UserRegistry(id), "UserLoaded": k.UserLoaded(id), "UserPending": k.UserPending(id),
			"UserRevs": k.UserRevs(id), "UserLock": k.UserLock(id),
			"ServerRecord": k.ServerRecord(id), "ServerAllowed": k.ServerAllowed(id),
			"ServerCachedBy": k.ServerCachedBy(id), "ServerLock": k.ServerLock(id),
		} {
			add(key, part+"("+id+")")
		}
	}
	for _, tier := range []registry.Tier{registry.TierApp, registry.TierUser} {
		add(k.Tier(tier), "Tier("+string(tier)+")")
	}
	add(k.TierRevs(), "TierRevs")
	assert.Len(t, seen, len(keyIDs)*9+3)
}

func TestKeysShareOneSlotPerUserAndServer(t *testing.T) {
	t.Parallel()
	k := registry.NewKeys("mcp:")
	tags := map[string]string{}
	for _, id := range keyIDs {
		t.Run("id="+id, func(t *testing.T) {
			userKeys := []string{k.UserRegistry(id), k.UserLoaded(id), k.UserPending(id), k.UserRevs(id), k.UserLock(id)}
			for _, key := range userKeys {
				assert.True(t, strings.HasPrefix(key, "mcp:"), key)
				assert.Equal(t, "u:"+registry.EscapeID(id), slotTag(key), key)
			}
			serverKeys := []string{k.ServerRecord(id), k.ServerAllowed(id), k.ServerCachedBy(id), k.ServerLock(id)}
			for _, key := range serverKeys {
				assert.Equal(t, "s:"+registry.EscapeID(id), slotTag(key), key)
			}
		})
		for _, tag := range []string{slotTag(k.UserRegistry(id)), slotTag(k.ServerRecord(id))} {
			if prev, dup := tags[tag]; dup {
				t.Errorf("ids %q and %q share the slot tag %q", prev, id, tag)
			}
			tags[tag] = id
		}
	}
	for _, key := range []string{k.Tier(registry.TierApp), k.Tier(registry.TierUser), k.TierRevs()} {
		assert.Equal(t, "shared", slotTag(key), key)
	}
}
