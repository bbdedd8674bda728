package pipeline

import (
	"bytes"
	"context"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/visastats/visastats/pipeline/snapshot"
)

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

// TestSecretsNotPublished fetches the real 2023 workbook from a URL with a
// password and credential-like query values, once failing (404) and once
// published, and checks that no secret reaches the log, run.json, the
// failed-run record or the snapshot index, and that run.json names no
// absolute local path.
func TestSecretsNotPublished(t *testing.T) {
	body, err := os.ReadFile(ecFile(t, "2023"))
	if err != nil {
		t.Fatal(err)
	}
	up, srv := newUpstream(t, body)
	secrets := []string{"hunter2pw", "tok3nSecretValue", "S1gnatureValue"}
	cfg := nightlyConfig(t, strings.Replace(srv.URL, "http://", "http://analyst:hunter2pw@", 1))
	cfg.Fetch[0].URL += "?token=tok3nSecretValue&X-Amz-Signature=S1gnatureValue&edition=2023"
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	ctx := context.Background()

	up.mode.Store("404")
	if _, err := Run(ctx, cfg, log, fastRetries); err == nil {
		t.Fatal("run against a 404 succeeded")
	} else {
		logs.WriteString(err.Error()) // what the CLI prints
	}
	up.mode.Store("ok")
	rep, err := Run(ctx, cfg, log, fastRetries)
	if err != nil {
		t.Fatal(err)
	}
	if up.requests.Load() < 2 {
		t.Fatalf("upstream saw %d requests", up.requests.Load())
	}

	texts := map[string][]byte{"log": logs.Bytes()}
	for _, dir := range []string{cfg.Output.Dir, filepath.Dir(cfg.Database)} {
		filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() && (strings.HasSuffix(p, ".json") || strings.HasSuffix(p, ".jsonl") || strings.Contains(p, "index")) {
				b, _ := os.ReadFile(p)
				texts[p] = b
			}
			return nil
		})
	}
	runJSON := filepath.Join(cfg.Output.Dir, "releases", rep.Release, "run.json")
	if _, ok := texts[runJSON]; !ok {
		t.Fatalf("no run.json among %d files read", len(texts))
	}
	indexed := false
	for p := range texts {
		if strings.Contains(p, "snapshot") {
			indexed = true
		}
	}
	if !indexed {
		t.Errorf("no snapshot index file read")
	}
	for p, b := range texts {
		for _, s := range secrets {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("%s contains the secret %q", p, s)
			}
		}
	}
	if !bytes.Contains(texts[runJSON], []byte("REDACTED")) || !bytes.Contains(texts[runJSON], []byte("edition=2023")) {
		t.Errorf("run.json lacks the redacted URL:\n%s", texts[runJSON])
	}
	abs, _ := filepath.Abs(filepath.Dir(cfg.Output.Dir))
	wd, _ := os.Getwd()
	for p, b := range texts {
		if strings.HasSuffix(p, "run.json") || strings.HasSuffix(p, "-failed.json") {
			if bytes.Contains(b, []byte(abs)) || bytes.Contains(b, []byte(wd)) {
				t.Errorf("%s names an absolute local path (%s or %s)", p, abs, wd)
			}
		}
	}
	if !filepath.IsAbs(rep.Latest) && !strings.HasPrefix(rep.Latest, cfg.Output.Dir) {
		t.Errorf("the report returned to the CLI lost its path: %q", rep.Latest)
	}
}
