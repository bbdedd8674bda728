// Package redact removes credentials from addresses before they are
// logged, recorded or published. It is a leaf: the snapshot store and the
// sources that fetch from the network both use it, so that there is one
// rule for what counts as a secret in a URL. It must not import anything of
// visastats.
package redact

import (
	"net/url"
	"strings"
)

// Redacted replaces a secret in what URL returns.
const Redacted = "REDACTED"

// credentialParams are parts of query parameter names that carry
// credentials in the addresses of file hosts and object stores (API keys,
// access tokens, presigned-URL signatures such as X-Amz-Signature and
// X-Goog-Credential). A parameter whose lower-cased name contains one has
// its value redacted.
var credentialParams = []string{
	"token", "key", "secret", "pass", "pwd", "sig", "auth", "credential", "session", "x-amz-", "x-goog-", "code",
}

// URL returns raw fit to be logged, recorded in the snapshot index
// and published: user information (user:password@) and the values of query
// parameters whose names look like credentials are replaced by Redacted,
// and the fragment is dropped. Other parameters and their order are kept
// so that the address still says which file it was. A raw that does not
// parse as a URL is replaced whole, since it cannot be told apart.
func URL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return Redacted
	}
	if u.User != nil {
		u.User = url.User(Redacted)
	}
	u.Fragment, u.RawFragment = "", ""
	if u.RawQuery != "" {
		parts := strings.Split(u.RawQuery, "&")
		for i, p := range parts {
			name, _, hasValue := strings.Cut(p, "=")
			n, err := url.QueryUnescape(name)
			if err != nil {
				n = name
			}
			if hasValue && credentialParam(n) {
				parts[i] = name + "=" + Redacted
			}
		}
		u.RawQuery = strings.Join(parts, "&")
	}
	return u.String()
}

func credentialParam(name string) bool {
	n := strings.ToLower(name)
	for _, c := range credentialParams {
		if strings.Contains(n, c) {
			return true
		}
	}
	return false
}
