package main

import "strings"

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
		params := strings.Split(query, "&")
		for i, p := range params {
			key, _, _ := strings.Cut(p, "=")
			if secretParam(key) {
				params[i] = key + "=" + masked
			}
		}
		rest = base + "?" + strings.Join(params, "&")
	}
	if ok {
		return scheme + "://" + rest
	}
	return rest
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
