package pipeline

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/visastats/visastats/output/browsertest"
	"github.com/visastats/visastats/output/objstore"
	"github.com/visastats/visastats/output/objstore/s3server"
	"github.com/visastats/visastats/output/release"
	"github.com/visastats/visastats/sources"
	"github.com/visastats/visastats/sources/ectest"
)

const testBucket = "visastats-releases"

func TestLoadConfigPublish(t *testing.T) {
	base := `database: db.duckdb
output: {dir: out}
sources:
  reference: {dir: ../data/reference}
  ec_schengen_consulates: {path: ../data/ec_schengen_consulates}
`
	for _, tt := range []struct {
		name, yaml, want string
	}{
		{"s3 target", "publish:\n  - {url: s3://bucket/visastats, endpoint: 'http://127.0.0.1:9000', path_style: true, keep: 3, part_size: 8388608}\n", ""},
		{"secret in the file", "publish:\n  - {url: s3://bucket/visastats, secret_access_key: hunter2}\n", "publish[0].secret_access_key: credentials are never read from the configuration file"},
		{"access key in the file", "publish:\n  - {url: s3://bucket/visastats, aws_access_key_id: AKIA}\n", "credentials are never read"},
		{"not s3", "publish:\n  - {url: /srv/www}\n", `publish[0]: url "/srv/www" must look like s3://bucket/prefix`},
		{"secret in the endpoint", "publish:\n  - {url: s3://bucket/x, endpoint: 'https://k:hunter2@s3.example.org'}\n", "must not carry credentials"},
		{"typo", "publish:\n  - {url: s3://bucket/x, pathstyle: true}\n", "publish[0].pathstyle"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "config.yaml")
			body := strings.ReplaceAll(base, "../data", mustAbs(t, "../data")) + tt.yaml
			if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
			cfg, err := LoadConfig(path)
			switch {
			case tt.want == "" && err != nil:
				t.Fatal(err)
			case tt.want == "":
				if len(cfg.Publish) != 1 || !cfg.Publish[0].PathStyle || cfg.Publish[0].Keep != 3 || cfg.Publish[0].PartSize != 8<<20 {
					t.Errorf("publish = %+v", cfg.Publish)
				}
			case err == nil || !strings.Contains(err.Error(), tt.want):
				t.Fatalf("got %v, want %q", err, tt.want)
			case strings.Contains(err.Error(), "hunter2"):
				t.Fatalf("the error shows the secret: %v", err)
			}
		})
	}
}

func mustAbs(t *testing.T, p string) string {
	t.Helper()
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func s3Get(t *testing.T, c *minio.Client, key string) []byte {
	t.Helper()
	obj, err := c.GetObject(context.Background(), testBucket, key, minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Close()
	b, err := io.ReadAll(obj)
	if err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	return b
}

// checkBucketRelease asserts that latest.json names id and that every
// object of the release is there with the size and SHA-256 that the
// local release folder has, and that run.json records for the files it
// lists. It returns the release's run.json files by name.
func checkBucketRelease(t *testing.T, c *minio.Client, id, dir string) map[string]release.File {
	t.Helper()
	var ptr objstore.Pointer
	if err := json.Unmarshal(s3Get(t, c, "visastats/latest.json"), &ptr); err != nil {
		t.Fatal(err)
	}
	if ptr.Release != id {
		t.Fatalf("latest.json names %q, want %q", ptr.Release, id)
	}
	var rep Report
	if err := json.Unmarshal(s3Get(t, c, "visastats/releases/"+id+"/run.json"), &rep); err != nil {
		t.Fatal(err)
	}
	listed := map[string]release.File{}
	for _, f := range rep.Files {
		listed[f.Name] = f
	}
	want, err := objstore.Manifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ptr.Files, want) {
		t.Fatalf("latest.json lists %d files, the release folder has %d", len(ptr.Files), len(want))
	}
	for _, o := range ptr.Files {
		b := s3Get(t, c, "visastats/releases/"+id+"/"+o.Name)
		sum := sha256.Sum256(b)
		got := hex.EncodeToString(sum[:])
		if int64(len(b)) != o.Size || got != o.SHA256 {
			t.Errorf("%s: %d bytes, sha256 %s; latest.json says %d, %s", o.Name, len(b), got, o.Size, o.SHA256)
		}
		if f, ok := listed[o.Name]; ok && (f.SHA256 != got || f.Size != o.Size) {
			t.Errorf("%s: sha256 %s, run.json says %s", o.Name, got, f.SHA256)
		}
	}
	for name := range listed {
		if !slices.ContainsFunc(ptr.Files, func(o objstore.Object) bool { return o.Name == name }) {
			t.Errorf("run.json lists %s, the bucket does not have it", name)
		}
	}
	return listed
}

// TestPublishS3 builds the shipped EC data of 2021-2023 (observations partitioned,
// as remote readers want them) and publishes it to a real S3 server
// (versitygw): a publish killed with SIGKILL leaves latest.json on the
// previous release, whole; the next run resumes and switches; retention
// keeps one release; DuckDB reads the partitioned observations from the
// bucket; Chromium opens the release's index.html from the bucket.
func TestPublishS3(t *testing.T) {
	if testing.Short() {
		t.Skip("a full build and an S3 server")
	}
	srv := s3server.Start(t)
	srv.Env(t)
	c := srv.Client(t)
	ctx := context.Background()
	if err := c.MakeBucket(ctx, testBucket, minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	// The EC years the queries below span (2021-2023); the smallest
	// Eurostat and UNHCR inputs, which the publish path treats alike.
	var years []sources.ECSchengenFile
	for _, y := range []int{2021, 2022, 2023} {
		years = append(years, sources.ECSchengenFile{Path: ectest.File(t, strconv.Itoa(y)), Year: y})
	}
	cfg := tinyConfig(t, sources.ECSchengenConfig{Files: years})
	cfg.Output.ObservationsLayout = LayoutPartitioned
	start := time.Now()
	rep, err := Run(ctx, cfg, quietLog(), RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("build of the EC years 2021-2023: %v", time.Since(start).Round(time.Second))
	local := filepath.Join(cfg.Output.Dir, "releases", rep.Release)

	// The bucket's previous release: the same files under an earlier id,
	// published first.
	const prevID = "20200101T000000Z"
	prevDir := filepath.Join(t.TempDir(), prevID)
	if err := os.CopyFS(prevDir, os.DirFS(local)); err != nil {
		t.Fatal(err)
	}
	target := PublishTarget{URL: "s3://" + testBucket + "/visastats", Endpoint: srv.Endpoint, PathStyle: true, Keep: 1, PartSize: objstore.MinPartSize}
	cfg.Publish = []PublishTarget{target}
	opts := RunOptions{BackoffBase: 10 * time.Millisecond}
	res, err := PublishRemote(ctx, cfg, opts, prevID, prevDir, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("published %d objects, %d bytes in %v", res[0].Objects, res[0].Bytes, res[0].Duration.Round(time.Millisecond))
	checkBucketRelease(t, c, prevID, prevDir)

	const pauseAfter = 5
	t.Run("killed mid-upload, then resumed", func(t *testing.T) {
		child := startChildPublish(t, cfg, pauseAfter)
		if err := child.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		child.Wait()
		uploaded := 0
		for o := range c.ListObjects(ctx, testBucket, minio.ListObjectsOptions{Prefix: "visastats/releases/" + rep.Release + "/", Recursive: true}) {
			if o.Err != nil {
				t.Fatal(o.Err)
			}
			uploaded++
		}
		if uploaded < pauseAfter {
			t.Fatalf("the killed run uploaded %d objects, want at least %d", uploaded, pauseAfter)
		}
		// Readers are still on the previous release, and it is whole.
		checkBucketRelease(t, c, prevID, prevDir)

		// The next run skips the build (nothing changed) and resumes.
		again, err := Run(ctx, cfg, quietLog(), opts)
		if err != nil {
			t.Fatal(err)
		}
		if again.Status != release.StatusSkipped || len(again.Remote) != 1 {
			t.Fatalf("rerun: status %s, remote %+v", again.Status, again.Remote)
		}
		r := again.Remote[0]
		if r.Skipped < pauseAfter || r.Uploaded+r.Skipped != r.Objects || r.Previous != prevID || r.Release != rep.Release {
			t.Errorf("resumed publish: %+v", r)
		}
		t.Logf("resumed: %d objects already there, %d uploaded (%d bytes) in %v", r.Skipped, r.Uploaded, r.Sent, r.Duration.Round(time.Millisecond))
		checkBucketRelease(t, c, rep.Release, local)
		if !slices.Equal(r.Pruned, []string{prevID}) {
			t.Errorf("keep 1 pruned %v, want %s", r.Pruned, prevID)
		}
		for o := range c.ListObjects(ctx, testBucket, minio.ListObjectsOptions{Prefix: "visastats/releases/", Recursive: true}) {
			if !strings.HasPrefix(o.Key, "visastats/releases/"+rep.Release+"/") {
				t.Errorf("after pruning to one release, %s is left", o.Key)
			}
		}
	})

	t.Run("DuckDB over the partitioned observations", func(t *testing.T) {
		db := openDuck(t)
		// DuckDB reads s3:// and http(s):// through its httpfs extension,
		// which it downloads on first use; where it cannot, the objects are
		// fetched with the S3 client and read from a folder.
		glob := ""
		if _, err := db.Exec(`LOAD httpfs`); err == nil {
			glob = srv.Endpoint + "/" + testBucket + "/visastats/releases/" + rep.Release + "/observations/*/*/*.parquet"
			t.Logf("httpfs loaded: reading %s", glob)
		} else {
			t.Logf("httpfs not available here (%v); downloading the objects", firstLine(err.Error()))
			dir := t.TempDir()
			prefix := "visastats/releases/" + rep.Release + "/"
			n := 0
			for o := range c.ListObjects(ctx, testBucket, minio.ListObjectsOptions{Prefix: prefix + "observations/", Recursive: true}) {
				if o.Err != nil {
					t.Fatal(o.Err)
				}
				if err := c.FGetObject(ctx, testBucket, o.Key, filepath.Join(dir, strings.TrimPrefix(o.Key, prefix)), minio.GetObjectOptions{}); err != nil {
					t.Fatal(err)
				}
				n++
			}
			t.Logf("downloaded %d partition files", n)
			glob = filepath.Join(dir, "observations", "*", "*", "*.parquet")
		}
		// Applications (airport transit and uniform) lodged at consulates
		// located in Russia in 2023: 520,402, the figure the EC's 2023
		// workbook gives.
		q := `SELECT count(*), count(DISTINCT dataset), sum(value) FILTER (WHERE dataset = 'ec_schengen_consulates' AND year = 2023
			AND partner = 'RU' AND indicator IN ('atv_applied', 'uniform_applied')) FROM read_parquet(?, hive_partitioning = true)`
		var rows, datasets int64
		var ru2023 *float64
		if err := db.QueryRow(q, glob).Scan(&rows, &datasets, &ru2023); err != nil {
			t.Fatal(err)
		}
		t.Logf("observations: %d rows in %d datasets; applications at consulates in RU, 2023: %v", rows, datasets, deref(ru2023))
		if ru2023 == nil || *ru2023 != 520402 {
			t.Errorf("applications at consulates in RU, 2023 = %v, want 520402", deref(ru2023))
		}
		if rows != rep.Tables["observations"] {
			t.Errorf("observations from the bucket: %d rows, the release has %d", rows, rep.Tables["observations"])
		}
		// Every partition file in key order.
		files, err := filepath.Glob(glob)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			checkKeyOrder(t, db, f)
		}
		// The README's DuckDB query, as written there, over the same files.
		readme, err := os.ReadFile("../README.md")
		if err != nil {
			t.Fatal(err)
		}
		m := regexp.MustCompile(`(?s)\nSELECT year, sum\(value\) AS applications\n.*?;\n`).Find(readme)
		if m == nil {
			t.Fatal("README.md has no DuckDB query over the bucket's observations")
		}
		readmeQuery := regexp.MustCompile(`'s3://[^']+'`).ReplaceAllLiteralString(string(m), "?")
		got := map[int64]float64{}
		qrows, err := db.Query(readmeQuery, glob)
		if err != nil {
			t.Fatalf("README query: %v\n%s", err, readmeQuery)
		}
		for qrows.Next() {
			var y int64
			var v float64
			if err := qrows.Scan(&y, &v); err != nil {
				t.Fatal(err)
			}
			got[y] = v
		}
		qrows.Close()
		for year, want := range map[int64]float64{2021: 536287, 2022: 687264, 2023: 520402} {
			if got[year] != want {
				t.Errorf("README query: %d = %v, want %v", year, got[year], want)
			}
		}
	})

	t.Run("index.html from the bucket in Chromium", func(t *testing.T) {
		browsertest.Require(t)
		policy := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["*"]},"Action":["s3:GetObject"],"Resource":["arn:aws:s3:::%s/*"]}]}`, testBucket)
		if err := c.SetBucketPolicy(ctx, testBucket, policy); err != nil {
			t.Fatal(err)
		}
		pageURL := srv.Endpoint + "/" + testBucket + "/visastats/releases/" + rep.Release + "/index.html"
		cctx, cancel := context.WithTimeout(ctx, 90*time.Second)
		defer cancel()
		dom := browsertest.Run(cctx, t, "--dump-dom", pageURL)
		for _, w := range []string{"520,402", "Release " + rep.Release, "<svg", `href="visastats.xlsx"`, `href="run.json"`} {
			if !strings.Contains(string(dom), w) {
				t.Errorf("page from the bucket lacks %q", w)
			}
		}
		if strings.Contains(string(dom), `href="/`) {
			t.Error("the static page has a link to the server's root")
		}
		base, _ := url.Parse(pageURL)
		links := regexp.MustCompile(`href="([^"#:]+)"`).FindAllStringSubmatch(string(dom), -1)
		if len(links) < 20 {
			t.Fatalf("only %d relative links on the page", len(links))
		}
		for _, m := range links {
			ref, err := url.Parse(strings.ReplaceAll(m[1], "&amp;", "&"))
			if err != nil {
				t.Errorf("link %q: %v", m[1], err)
				continue
			}
			resp, err := http.Get(base.ResolveReference(ref).String()) // anonymous, as a reader
			if err != nil {
				t.Fatal(err)
			}
			n, _ := io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || n == 0 {
				t.Errorf("link %s: %s, %d bytes", m[1], resp.Status, n)
			}
		}
		t.Logf("%d links on %s answered 200", len(links), pageURL)
		if shots := os.Getenv("VISASTATS_SCREENSHOT_DIR"); shots != "" {
			browsertest.Run(cctx, t, "--window-size=1280,1600", "--screenshot="+filepath.Join(shots, "bucket-index.png"), pageURL)
		}
	})
}

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// startChildPublish runs `Run` with cfg (its publish targets included) in
// a child process, this test binary re-executed, which stops after
// pauseAfter objects are uploaded and says so; it returns once the child
// has paused, to be killed.
func startChildPublish(t *testing.T, cfg Config, pauseAfter int) *exec.Cmd {
	t.Helper()
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestChildPublish$")
	cmd.Env = append(os.Environ(), "VISASTATS_TEST_PUBLISH_CONFIG="+string(b), "VISASTATS_TEST_PUBLISH_PAUSE="+strconv.Itoa(pauseAfter))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if sc.Text() == "PAUSED" {
			go io.Copy(io.Discard, out)
			return cmd
		}
	}
	cmd.Process.Kill()
	cmd.Wait()
	t.Fatal("the child publish ended before it paused")
	return nil
}

// TestChildPublish is the child side of startChildPublish; it does
// nothing in a normal test run.
func TestChildPublish(t *testing.T) {
	raw := os.Getenv("VISASTATS_TEST_PUBLISH_CONFIG")
	if raw == "" {
		t.Skip("runs only as a child process of TestPublishS3")
	}
	var cfg Config
	if err := json.Unmarshal([]byte(raw), &cfg); err != nil {
		t.Fatal(err)
	}
	pause, _ := strconv.Atoi(os.Getenv("VISASTATS_TEST_PUBLISH_PAUSE"))
	n := 0
	opts := RunOptions{Uploaded: func(string) {
		if n++; n == pause {
			fmt.Println("PAUSED")
			select {} // until killed
		}
	}}
	if _, err := Run(context.Background(), cfg, quietLog(), opts); err != nil {
		t.Fatal(err)
	}
}
