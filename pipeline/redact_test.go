package pipeline

import (
	"testing"

	"github.com/visastats/visastats/pipeline/snapshot"
)

// TestRedactURL checks what RedactURL hides of a URL; TestNightlyScenarios
// checks that the secrets of a fetched URL are published nowhere.
func TestRedactURL(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"https://ec.europa.eu/files/2023.xlsx", "https://ec.europa.eu/files/2023.xlsx"},
		{"https://user:pw@host.example/f.csv?year=2023", "https://REDACTED@host.example/f.csv?year=2023"},
		{"https://host.example/f.csv?token=abc&year=2023&api_key=k", "https://host.example/f.csv?token=REDACTED&year=2023&api_key=REDACTED"},
		{"https://b.s3.amazonaws.com/f.xlsx?X-Amz-Credential=AKIA%2F1&X-Amz-Signature=ff&X-Amz-Expires=60", "https://b.s3.amazonaws.com/f.xlsx?X-Amz-Credential=REDACTED&X-Amz-Signature=REDACTED&X-Amz-Expires=REDACTED"},
		{"https://host.example/f.csv?sig=1&Password=2&client_secret=3#frag", "https://host.example/f.csv?sig=REDACTED&Password=REDACTED&client_secret=REDACTED"},
		{"http://[bad", snapshot.Redacted},
	} {
		if got := snapshot.RedactURL(tc.in); got != tc.want {
			t.Errorf("RedactURL(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
