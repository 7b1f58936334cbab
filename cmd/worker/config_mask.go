package main

import (
	"slices"
	"strings"
)

// show renders a value for a log or an error message.
func show(m masking, v string) string {
	switch {
	case m == secret && v != "":
		return masked
	case m == uri:
		return maskURL(v)
	case m == urls:
		return maskList(v)
	}
	return v
}

// maskList masks each URL of a comma-separated list. A comma inside a
// password splits one URL into parts, only the last of which holds the '@':
// the parts before it are hidden whole.
func maskList(v string) string {
	parts := splitList(v)
	out := make([]string, len(parts))
	for i, p := range parts {
		out[i] = maskURL(p)
		if strings.Contains(p, "@") {
			continue
		}
		for _, next := range parts[i+1:] {
			if strings.Contains(next, "://") {
				break
			}
			if strings.Contains(next, "@") {
				scheme, _, ok := strings.Cut(p, "://")
				out[i] = masked
				if ok {
					out[i] = scheme + "://" + masked
				}
				break
			}
		}
	}
	return strings.Join(out, ",")
}

// maskURL hides a URL's userinfo (keeping a user name followed by a
// password) and the values of query parameters that may hold secrets. It errs
// towards hiding too much when the URL is malformed.
func maskURL(s string) string {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		scheme, rest = "", s
	}
	if at := strings.LastIndex(rest, "@"); at >= 0 {
		user, _, hasPassword := strings.Cut(rest[:at], ":")
		if hasPassword && user != "" {
			rest = user + ":" + masked + rest[at:]
		} else {
			rest = masked + rest[at:]
		}
	}
	if base, query, ok := strings.Cut(rest, "?"); ok {
		rest = base + "?" + maskQuery(query)
	}
	if ok {
		return scheme + "://" + rest
	}
	return rest
}

// maskQuery hides secret values of a URL query whose parameters are
// separated by '&' or ';' (the MongoDB driver accepts both), keeping the
// separators as they were.
func maskQuery(query string) string {
	var b strings.Builder
	for query != "" {
		end := strings.IndexAny(query, "&;")
		param, sep := query, ""
		if end >= 0 {
			param, sep, query = query[:end], query[end:end+1], query[end+1:]
		} else {
			query = ""
		}
		if key, _, _ := strings.Cut(param, "="); secretParam(key) {
			param = key + "=" + masked
		}
		b.WriteString(param + sep)
	}
	return b.String()
}

// secretValues returns the secrets of a URL, to scrub them from error text:
// the userinfo's password and the values of secret query parameters (and
// their ',' and ':' separated parts), each of at least 3 bytes.
func secretValues(s string) []string {
	_, rest, ok := strings.Cut(s, "://")
	if !ok {
		rest = s
	}
	var out []string
	add := func(v string) {
		for _, part := range append([]string{v}, strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ':' })...) {
			if len(part) >= 3 {
				out = append(out, part)
			}
		}
	}
	if at := strings.LastIndex(rest, "@"); at >= 0 {
		if _, pw, has := strings.Cut(rest[:at], ":"); has {
			add(pw)
		} else {
			add(rest[:at])
		}
	}
	if _, query, ok := strings.Cut(rest, "?"); ok {
		for _, p := range strings.FieldsFunc(query, func(r rune) bool { return r == '&' || r == ';' }) {
			if key, v, _ := strings.Cut(p, "="); secretParam(key) {
				add(v)
			}
		}
	}
	// Longest first, so that a part never leaves the rest of a whole value.
	slices.SortFunc(out, func(a, b string) int { return len(b) - len(a) })
	return out
}

func secretParam(key string) bool {
	key = strings.ToLower(key)
	for _, s := range []string{"password", "secret", "token", "authmechanismproperties"} {
		if strings.Contains(key, s) {
			return true
		}
	}
	return false
}
