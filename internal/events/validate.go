package events

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// MaxIDBytes bounds userId, serverName and each allowedUserIds element.
const MaxIDBytes = 256

// MaxEventIDBytes bounds the payload's eventId.
const MaxEventIDBytes = 256

// ValidateID checks one id (userId, serverName, allowedUserIds element) per
// CONTRACT section 2: at most MaxIDBytes bytes, valid UTF-8, not empty after
// trimming white space, no control character. Any other byte is legal: the
// raw value is the id.
func ValidateID(s string) error {
	if len(s) > MaxIDBytes {
		return fmt.Errorf("is %d bytes, more than the limit of %d", len(s), MaxIDBytes)
	}
	if !utf8.ValidString(s) {
		return errors.New("is not valid UTF-8")
	}
	if strings.TrimSpace(s) == "" {
		return errors.New("is empty or only white space")
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return errors.New("contains a control character")
		}
	}
	return nil
}

// parseID reads the id field name from its raw JSON value.
func parseID(name string, raw []byte) (string, error) {
	if t := jsonType(raw); t != "string" {
		return "", fmt.Errorf("field %q: must be a string, got %s", name, t)
	}
	s, err := unquote(raw)
	if err == nil {
		err = ValidateID(s)
	}
	if err != nil {
		return "", fmt.Errorf("field %q: %w", name, err)
	}
	return s, nil
}

// parseIDList reads an array of ids; the result is sorted, de-duplicated and
// never nil. raw must be well-formed JSON (the payload was scanned).
func parseIDList(name string, raw []byte) ([]string, error) {
	if t := jsonType(raw); t != "array" {
		return nil, fmt.Errorf("field %q: must be an array of strings, got %s", name, t)
	}
	ids := []string{}
	i := skipSpace(raw, 1)
	if i < len(raw) && raw[i] == ']' {
		return ids, nil
	}
	for n := 0; ; n++ {
		i = skipSpace(raw, i)
		if i >= len(raw) || raw[i] != '"' {
			return nil, fmt.Errorf("field %q[%d]: must be a string, got %s", name, n, jsonType(raw[min(i, len(raw)):]))
		}
		end := stringEnd(raw, i)
		if end < 0 {
			return nil, fmt.Errorf("field %q[%d]: unterminated string", name, n)
		}
		s, err := unquote(raw[i:end])
		if err == nil {
			err = ValidateID(s)
		}
		if err != nil {
			return nil, fmt.Errorf("field %q[%d]: %w", name, n, err)
		}
		ids = append(ids, s)
		i = skipSpace(raw, end)
		if i < len(raw) && raw[i] == ']' {
			break
		}
		if i >= len(raw) || raw[i] != ',' {
			return nil, fmt.Errorf("field %q: malformed array", name)
		}
		i++
	}
	slices.Sort(ids)
	return slices.Compact(ids), nil
}

// parseConfig checks that raw is a JSON object and returns it compacted.
func parseConfig(name string, raw []byte) (json.RawMessage, error) {
	if t := jsonType(raw); t != "object" {
		return nil, fmt.Errorf("field %q: must be a JSON object, got %s", name, t)
	}
	if !utf8.Valid(raw) {
		return nil, fmt.Errorf("field %q: is not valid UTF-8", name)
	}
	var buf bytes.Buffer
	buf.Grow(len(raw))
	if err := json.Compact(&buf, raw); err != nil {
		return nil, fmt.Errorf("field %q: %w", name, err)
	}
	return json.RawMessage(buf.Bytes()), nil
}

// parseVersion reads a JSON integer > 0 that fits in an int64. Fractions and
// exponents are refused even when their value is whole (1.0, 1e3).
func parseVersion(name string, raw []byte) (int64, error) {
	if t := jsonType(raw); t != "number" {
		return 0, fmt.Errorf("field %q: must be an integer, got %s", name, t)
	}
	if bytes.ContainsAny(raw, ".eE") {
		return 0, fmt.Errorf("field %q: must be an integer, got %s", name, clip(raw))
	}
	v, err := strconv.ParseInt(string(raw), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("field %q: %s does not fit in a 64-bit integer", name, clip(raw))
	}
	if v <= 0 {
		return 0, fmt.Errorf("field %q: must be greater than 0, got %d", name, v)
	}
	return v, nil
}

// parseEventID reads a string of valid UTF-8 of at most MaxEventIDBytes.
func parseEventID(name string, raw []byte) (string, error) {
	if t := jsonType(raw); t != "string" {
		return "", fmt.Errorf("field %q: must be a string, got %s", name, t)
	}
	s, err := unquote(raw)
	if err != nil {
		return "", fmt.Errorf("field %q: %w", name, err)
	}
	if len(s) > MaxEventIDBytes {
		return "", fmt.Errorf("field %q: is %d bytes, more than the limit of %d", name, len(s), MaxEventIDBytes)
	}
	return s, nil
}

// parseTime reads an RFC 3339 time string and returns it in UTC.
func parseTime(name string, raw []byte) (time.Time, error) {
	if t := jsonType(raw); t != "string" {
		return time.Time{}, fmt.Errorf("field %q: must be an RFC 3339 time string, got %s", name, t)
	}
	s, err := unquote(raw)
	if err != nil {
		return time.Time{}, fmt.Errorf("field %q: %w", name, err)
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("field %q: is not an RFC 3339 time", name)
	}
	return t.UTC(), nil
}

// clip shortens a raw value quoted in an error message.
func clip(raw []byte) string {
	const limit = 32
	if len(raw) > limit {
		return string(raw[:limit]) + "..."
	}
	return string(raw)
}

// jsonType names the type of the JSON value that raw starts with.
func jsonType(raw []byte) string {
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '"':
		return "string"
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
}

// tokenType names the type of a json.Decoder token that starts a value.
func tokenType(tok json.Token) string {
	switch tok := tok.(type) {
	case json.Delim:
		if tok == '[' {
			return "array"
		}
		return "object"
	case string:
		return "string"
	case bool:
		return "boolean"
	case nil:
		return "null"
	}
	return "number"
}

func skipSpace(raw []byte, i int) int {
	for i < len(raw) && (raw[i] == ' ' || raw[i] == '\t' || raw[i] == '\n' || raw[i] == '\r') {
		i++
	}
	return i
}

// stringEnd returns the index just after the JSON string starting at
// raw[start] (a quote), or -1 when it does not end.
func stringEnd(raw []byte, start int) int {
	for i := start + 1; i < len(raw); i++ {
		switch raw[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return -1
}

var (
	errInvalidUTF8 = errors.New("is not valid UTF-8")
	errSurrogate   = errors.New("is not valid UTF-8: unpaired surrogate escape")
	errBadString   = errors.New("is not a well-formed JSON string")
)

// unquote decodes the JSON string literal raw (quotes included). Unlike
// encoding/json it refuses invalid UTF-8 and unpaired surrogate escapes
// instead of replacing them with U+FFFD, so a value round-trips exactly or
// is rejected.
func unquote(raw []byte) (string, error) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return "", errBadString
	}
	s := raw[1 : len(raw)-1]
	if !utf8.Valid(s) {
		return "", errInvalidUTF8
	}
	if bytes.IndexByte(s, '\\') < 0 {
		return string(s), nil
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); {
		c := s[i]
		if c != '\\' {
			b = append(b, c)
			i++
			continue
		}
		if i+1 >= len(s) {
			return "", errBadString
		}
		switch e := s[i+1]; e {
		case '"', '\\', '/':
			b = append(b, e)
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			r, n, err := unquoteRune(s[i:])
			if err != nil {
				return "", err
			}
			b = utf8.AppendRune(b, r)
			i += n
			continue
		default:
			return "", errBadString
		}
		i += 2
	}
	return string(b), nil
}

// unquoteRune decodes the \uXXXX escape (or surrogate pair of escapes) that
// s starts with and returns the rune and the bytes read.
func unquoteRune(s []byte) (rune, int, error) {
	r, ok := hex4(s)
	if !ok {
		return 0, 0, errBadString
	}
	if !utf16.IsSurrogate(r) {
		return r, 6, nil
	}
	if r2, ok := hex4(s[6:]); ok {
		if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
			return d, 12, nil
		}
	}
	return 0, 0, errSurrogate
}

// hex4 decodes `\uXXXX` at the start of s.
func hex4(s []byte) (rune, bool) {
	if len(s) < 6 || s[0] != '\\' || s[1] != 'u' {
		return 0, false
	}
	var r rune
	for _, c := range s[2:6] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}
