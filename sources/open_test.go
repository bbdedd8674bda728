package sources

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestNonUTF8FileNames: a file whose name is not valid UTF-8 (copied from
// an old Windows or Latin-1 system) cannot be named in the database, the
// release or a message as it is. Every source that lists files refuses it
// up front with a message that says so, and the name escaped.
func TestNonUTF8FileNames(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	copyAs := func(src, name string) string {
		t.Helper()
		sub := filepath.Join(dir, strings.NewReplacer("/", "_", "\xe9", "_").Replace(name))
		if err := os.MkdirAll(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		return unhcrWriteTempIn(t, sub, name, unhcrReadFixture(t, src))
	}
	eurostatFile := copyAs(filepath.Join(esTestdata, "migr_asyappctzm_fixture_api.tsv"), "migr_asyappctzm_donn\xe9es.tsv")
	unhcrFile := copyAs(unhcrApplicationsCSV, "demandes_d'asile_\xe9t\xe9.csv")
	mfaFile := copyAs(ruMFACSV, "visas_d\xe9livr\xe9s.csv")
	claimsFile := copyAs("testdata/claims/claims.csv", "affirmations_v\xe9rifi\xe9es.csv")
	for _, tc := range []struct {
		name string
		src  Source
	}{
		{"eurostat file", NewEurostat(EurostatConfig{Paths: []string{eurostatFile}, CodeLists: esCodeLists})},
		{"eurostat directory", NewEurostat(EurostatConfig{Paths: []string{filepath.Dir(eurostatFile)}, CodeLists: esCodeLists})},
		{"unhcr file", NewUNHCR(UNHCRConfig{Paths: []string{unhcrFile}})},
		{"unhcr directory", NewUNHCR(UNHCRConfig{Paths: []string{filepath.Dir(unhcrFile)}})},
		{"ru mfa", NewRUMFA(RUMFAConfig{Path: mfaFile})},
		{"claims", NewClaims(ClaimsConfig{Path: claimsFile})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, step := range []struct {
				name string
				run  func() error
			}{
				{"inputs", func() error { _, err := tc.src.Inputs(ctx); return err }},
				{"load", func() error { _, err := tc.src.Load(ctx, openTestDB(t)); return err }},
			} {
				err := step.run()
				if !errors.Is(err, ErrFileNameNotUTF8) {
					t.Errorf("%s: err = %v, want ErrFileNameNotUTF8", step.name, err)
					continue
				}
				if msg := err.Error(); !strings.Contains(msg, "file name is not valid UTF-8") || !strings.Contains(msg, `\xe9`) || !utf8.ValidString(msg) {
					t.Errorf("%s: message %q, want one that says the name is not UTF-8 and shows it escaped", step.name, msg)
				}
			}
		})
	}
}
