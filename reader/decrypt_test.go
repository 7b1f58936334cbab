package reader_test

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcp-registry/worker/reader"
)

// nodeEncrypt encrypts text the way LibreChat does (Node's crypto,
// AES-256-CBC, random IV, "<iv hex>:<ct hex>"), by running node.
func nodeEncrypt(t *testing.T, credsKey, text string) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("node is required under CI: %v", err)
		}
		t.Skip("node not installed")
	}
	const script = `const c=require('crypto');const k=Buffer.from(process.argv[1],'hex');const iv=c.randomBytes(16);` +
		`const x=c.createCipheriv('aes-256-cbc',k,iv);` +
		`process.stdout.write(iv.toString('hex')+':'+x.update(process.argv[2],'utf8','hex')+x.final('hex'))`
	out, err := exec.Command(node, "-e", script, credsKey, text).Output()
	require.NoError(t, err)
	return strings.TrimSpace(string(out))
}

func TestDecryptLibreChatVectorsFromNode(t *testing.T) {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	credsKey := hex.EncodeToString(key)
	d, err := reader.NewDecrypter(credsKey)
	require.NoError(t, err)
	for _, plain := range []string{"s", "exactly-16-bytes", "client-secret-with-ünïcødé-and-a-longer-tail-0123456789", ""} {
		enc := nodeEncrypt(t, credsKey, plain)
		require.Contains(t, enc, ":")
		got, err := d.Decrypt(enc)
		require.NoError(t, err)
		assert.Equal(t, plain, got)
	}

	secret, apiKey := nodeEncrypt(t, credsKey, "oauth-secret"), nodeEncrypt(t, credsKey, "admin-key")
	value, _ := json.Marshal(map[string]any{
		"url": "https://x", "oauth": map[string]any{"client_id": "c", "client_secret": secret},
		"apiKey": map[string]any{"source": "admin", "key": apiKey},
	})
	assert.JSONEq(t, `{"url":"https://x","oauth":{"client_id":"c","client_secret":"oauth-secret"},"apiKey":{"source":"admin","key":"admin-key"}}`,
		string(d.DecryptValue(value)))

	other := make([]byte, 32)
	_, _ = rand.Read(other)
	wrong, err := reader.NewDecrypter(hex.EncodeToString(other))
	require.NoError(t, err)
	// A wrong key fails the padding check (and the field stays as stored),
	// except by a 1-in-256 chance per field of valid-looking padding: never
	// the plaintext either way.
	got := string(wrong.DecryptValue(value))
	assert.NotContains(t, got, "oauth-secret")
	assert.NotContains(t, got, "admin-key")
	plain := []byte(`{"oauth":{"client_secret":"no-colon-plain"}}`)
	assert.JSONEq(t, string(plain), string(d.DecryptValue(plain)), "a value without ':' is plain")
}

func TestNewDecrypterRefusesBadKeys(t *testing.T) {
	for _, k := range []string{"", "zz", strings.Repeat("a", 63), strings.Repeat("a", 66)} {
		_, err := reader.NewDecrypter(k)
		assert.Error(t, err, k)
	}
}
