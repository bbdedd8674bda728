package snapshot

import "github.com/visastats/visastats/sources/redact"

// Redacted replaces a secret in what RedactURL returns.
const Redacted = redact.Redacted

// RedactURL returns raw fit to be logged, recorded in the snapshot index
// and published (see redact.URL: user information and credential-like
// query values replaced, the fragment dropped).
func RedactURL(raw string) string { return redact.URL(raw) }
