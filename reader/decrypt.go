package reader

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Decrypter decrypts the config fields LibreChat stores encrypted with
// CREDS_KEY: AES-256-CBC, random IV, PKCS#7 padding, text "<iv hex>:<ciphertext hex>".
type Decrypter struct {
	block cipher.Block
}

// NewDecrypter returns a Decrypter for credsKey, LibreChat's CREDS_KEY (64 hex
// characters: a 32-byte key).
func NewDecrypter(credsKey string) (*Decrypter, error) {
	key, err := hex.DecodeString(credsKey)
	if err != nil || len(key) != 32 {
		return nil, errors.New("creds key must be 64 hex characters (32 bytes)")
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("creds key: %w", err)
	}
	return &Decrypter{block: block}, nil
}

// Decrypt returns the plaintext of text. A text without ':' is plain (stored
// unencrypted) and comes back as it is.
func (d *Decrypter) Decrypt(text string) (string, error) {
	ivHex, ctHex, ok := strings.Cut(text, ":")
	if !ok {
		return text, nil
	}
	iv, err := hex.DecodeString(ivHex)
	if err != nil || len(iv) != aes.BlockSize {
		return "", errors.New("decrypt: iv is not 16 bytes of hex")
	}
	ct, err := hex.DecodeString(ctHex)
	if err != nil || len(ct) == 0 || len(ct)%aes.BlockSize != 0 {
		return "", errors.New("decrypt: ciphertext is not whole blocks of hex")
	}
	out := make([]byte, len(ct))
	cipher.NewCBCDecrypter(d.block, iv).CryptBlocks(out, ct)
	n := int(out[len(out)-1])
	if n == 0 || n > aes.BlockSize || !bytes.Equal(out[len(out)-n:], bytes.Repeat([]byte{byte(n)}, n)) {
		return "", errors.New("decrypt: bad padding (wrong key?)")
	}
	return string(out[:len(out)-n]), nil
}

// encryptedFields are the config paths LibreChat encrypts: an object key,
// then the string field inside it.
var encryptedFields = [][2]string{{"oauth", "client_secret"}, {"apiKey", "key"}}

// DecryptValue returns value with its encrypted fields decrypted. A field
// that does not decrypt (wrong key, not LibreChat's format) is left as stored:
// a reader never fails a whole view over one field. Keys come out sorted.
func (d *Decrypter) DecryptValue(value json.RawMessage) json.RawMessage {
	if d == nil {
		return value
	}
	var top map[string]json.RawMessage
	if json.Unmarshal(value, &top) != nil {
		return value
	}
	changed := false
	for _, f := range encryptedFields {
		var inner map[string]json.RawMessage
		if json.Unmarshal(top[f[0]], &inner) != nil || inner == nil {
			continue
		}
		var text string
		if json.Unmarshal(inner[f[1]], &text) != nil {
			continue
		}
		plain, err := d.Decrypt(text)
		if err != nil || plain == text {
			continue
		}
		inner[f[1]], _ = json.Marshal(plain)
		top[f[0]], _ = json.Marshal(inner)
		changed = true
	}
	if !changed {
		return value
	}
	out, err := json.Marshal(top)
	if err != nil {
		return value
	}
	return out
}
