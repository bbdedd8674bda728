package objstore_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/visastats/visastats/output/objstore"
	"github.com/visastats/visastats/output/objstore/s3server"
)

// shippedRelease is a real release folder (kept as the server's fixture).
const shippedRelease = "../serve/testdata/release/20261125T175458Z"

// copyRelease copies the shipped release into a folder named id.
func copyRelease(t *testing.T, id string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), id)
	if err := os.CopyFS(dst, os.DirFS(shippedRelease)); err != nil {
		t.Fatal(err)
	}
	return dst
}

func newBucket(t *testing.T, c *minio.Client, name string) {
	t.Helper()
	if err := c.MakeBucket(context.Background(), name, minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
}

func get(t *testing.T, c *minio.Client, bucket, key string) []byte {
	t.Helper()
	obj, err := c.GetObject(context.Background(), bucket, key, minio.GetObjectOptions{})
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

func pointer(t *testing.T, c *minio.Client, bucket, key string) objstore.Pointer {
	t.Helper()
	var p objstore.Pointer
	if err := json.Unmarshal(get(t, c, bucket, key), &p); err != nil {
		t.Fatal(err)
	}
	return p
}

func keys(t *testing.T, c *minio.Client, bucket, prefix string) []string {
	t.Helper()
	var out []string
	for o := range c.ListObjects(context.Background(), bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		out = append(out, o.Key)
	}
	return out
}

// checkRelease reads every object of the release latest.json names and
// compares it with the local file.
func checkRelease(t *testing.T, c *minio.Client, bucket, prefix, dir string) objstore.Pointer {
	t.Helper()
	p := pointer(t, c, bucket, prefix+"/latest.json")
	if p.Release != filepath.Base(dir) || p.Prefix != "releases/"+p.Release+"/" {
		t.Fatalf("latest.json names %s at %s, want %s", p.Release, p.Prefix, filepath.Base(dir))
	}
	want, err := objstore.Manifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(p.Files, want) {
		t.Errorf("latest.json files %v, want %v", p.Files, want)
	}
	for _, o := range want {
		b := get(t, c, bucket, prefix+"/"+p.Prefix+o.Name)
		sum := sha256.Sum256(b)
		if int64(len(b)) != o.Size || hex.EncodeToString(sum[:]) != o.SHA256 {
			t.Errorf("%s: %d bytes sha256 %x, want %d %s", o.Name, len(b), sum, o.Size, o.SHA256)
		}
	}
	return p
}

func TestPublish(t *testing.T) {
	srv := s3server.Start(t)
	srv.Env(t)
	c := srv.Client(t)
	newBucket(t, c, "releases-test")
	ctx := context.Background()
	target := objstore.Target{URL: "s3://releases-test/visastats", Endpoint: srv.Endpoint, PathStyle: true, Keep: 1, PartSize: objstore.MinPartSize}
	opts := objstore.Options{Backoff: objstore.Backoff{Retries: 2, Wait: func(int) time.Duration { return 10 * time.Millisecond }}}

	first := copyRelease(t, "20261125T175458Z")
	// A file of three parts, so that the multipart upload is exercised.
	var big []byte
	obs, err := os.ReadFile(filepath.Join(first, "observations.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	for len(big) < 2*objstore.MinPartSize+1<<20 {
		big = append(big, obs...)
	}
	if err := os.WriteFile(filepath.Join(first, "observations-large.parquet"), big, 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := objstore.Publish(ctx, target, first, "20261125T175458Z", opts)
	if err != nil {
		t.Fatal(err)
	}
	if res.Uploaded != 6 || res.Skipped != 0 || res.Previous != "" {
		t.Errorf("first publish: %+v", res)
	}
	checkRelease(t, c, "releases-test", "visastats", first)
	info, err := c.StatObject(ctx, "releases-test", "visastats/releases/20261125T175458Z/observations-large.parquet", minio.StatObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(info.ETag, "-3") {
		t.Errorf("observations-large.parquet ETag %q: want a three-part upload", info.ETag)
	}

	t.Run("rerun skips what is there", func(t *testing.T) {
		res, err := objstore.Publish(ctx, target, first, "20261125T175458Z", opts)
		if err != nil {
			t.Fatal(err)
		}
		if res.Uploaded != 0 || res.Skipped != 6 {
			t.Errorf("rerun: %+v", res)
		}
	})

	second := copyRelease(t, "20261126T080000Z")
	// What a publish killed in the middle of a multipart upload leaves:
	// an upload begun with one part sent, never completed.
	core := minio.Core{Client: c}
	partial := "visastats/releases/20261126T080000Z/observations.parquet"
	uploadID, err := core.NewMultipartUpload(ctx, "releases-test", partial, minio.PutObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := core.PutObjectPart(ctx, "releases-test", partial, uploadID, 1, bytes.NewReader(obs[:1000]), 1000, minio.PutObjectPartOptions{}); err != nil {
		t.Fatal(err)
	}
	if u := <-c.ListIncompleteUploads(ctx, "releases-test", "visastats/", true); u.UploadID != uploadID {
		t.Fatalf("the begun upload is not listed: %+v", u)
	}
	t.Run("stopped mid-upload leaves latest.json", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		n := 0
		o := opts
		o.Uploaded = func(string) {
			if n++; n == 2 {
				cancel()
			}
		}
		_, err := objstore.Publish(cctx, target, second, "20261126T080000Z", o)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("stopped publish: %v", err)
		}
		checkRelease(t, c, "releases-test", "visastats", first)
		res, err := objstore.Publish(ctx, target, second, "20261126T080000Z", opts)
		if err != nil {
			t.Fatal(err)
		}
		if res.Skipped != 2 || res.Uploaded != 3 || res.Previous != "20261125T175458Z" {
			t.Errorf("resumed publish: %+v", res)
		}
		checkRelease(t, c, "releases-test", "visastats", second)
		for u := range c.ListIncompleteUploads(ctx, "releases-test", "visastats/", true) {
			t.Errorf("incomplete upload left: %s %s %v", u.Key, u.UploadID, u.Err)
		}
		if !slices.Equal(res.Pruned, []string{"20261125T175458Z"}) {
			t.Errorf("pruned %v, want the first release", res.Pruned)
		}
		if left := keys(t, c, "releases-test", "visastats/releases/20261125T175458Z/"); len(left) > 0 {
			t.Errorf("pruned release left %v", left)
		}
	})

	t.Run("a file that differs from run.json is not published", func(t *testing.T) {
		bad := copyRelease(t, "20261127T080000Z")
		if err := os.WriteFile(filepath.Join(bad, "schengen_state_year.parquet"), []byte("not the file"), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := objstore.Publish(ctx, target, bad, "20261127T080000Z", opts)
		if err == nil || !strings.Contains(err.Error(), "schengen_state_year.parquet is 12 bytes") {
			t.Fatalf("publish of a damaged release: %v", err)
		}
		checkRelease(t, c, "releases-test", "visastats", second)
		if left := keys(t, c, "releases-test", "visastats/releases/20261127T080000Z/"); len(left) > 0 {
			t.Errorf("damaged release uploaded %v", left)
		}
	})

	t.Run("wrong credentials", func(t *testing.T) {
		t.Setenv("AWS_SECRET_ACCESS_KEY", "wrong")
		t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
		_, err := objstore.Publish(ctx, target, second, "20261126T080000Z", opts)
		if err == nil || strings.Contains(err.Error(), "wrong") {
			t.Fatalf("publish with a wrong secret: %v", err)
		}
		t.Log(err)
	})
}

func TestTargetValidate(t *testing.T) {
	for _, tt := range []struct {
		name string
		t    objstore.Target
		want string
	}{
		{"ok", objstore.Target{URL: "s3://bucket/a/b", Endpoint: "http://127.0.0.1:9000"}, ""},
		{"scheme", objstore.Target{URL: "https://bucket/a"}, "must look like s3://bucket/prefix"},
		{"bucket", objstore.Target{URL: "s3://B_ad/a"}, "not a valid bucket name"},
		{"dots", objstore.Target{URL: "s3://bucket/a/../b"}, "must not contain"},
		{"secret in endpoint", objstore.Target{URL: "s3://bucket/a", Endpoint: "https://key:hunter2@s3.example.org"}, "must not carry credentials"},
		{"part size", objstore.Target{URL: "s3://bucket/a", PartSize: 1 << 20}, "part_size 1048576"},
		{"keep", objstore.Target{URL: "s3://bucket/a", Keep: -1}, "keep must be"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.t.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Fatal(err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("got %v, want %q", err, tt.want)
			case err != nil && strings.Contains(err.Error(), "hunter2"):
				t.Fatalf("error shows the secret: %v", err)
			}
		})
	}
}

// TestPublishRetries sends every request to a port where nothing listens:
// each is retried with the backoff policy, then the publish fails naming
// the operation and the number of attempts, and nothing is published.
func TestPublishRetries(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "k")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "s")
	dir := copyRelease(t, "20261125T175458Z")
	target := objstore.Target{URL: "s3://releases-test/visastats", Endpoint: "http://127.0.0.1:1", PathStyle: true}
	_, err := objstore.Publish(context.Background(), target, dir, "20261125T175458Z",
		objstore.Options{Backoff: objstore.Backoff{Retries: 2, Wait: func(int) time.Duration { return time.Millisecond }}})
	if err == nil || !strings.Contains(err.Error(), "read visastats/latest.json: giving up after 3 attempts") {
		t.Fatalf("publish to a closed port: %v", err)
	}
}

// TestLatestNeverMovesBack: release ids are build times, and a bucket's
// latest.json only ever moves to a newer one. A publish of an older
// release (a skipped run on a machine behind another, a restored output
// folder) uploads nothing and leaves latest.json as it is, saying so in
// its result; so does one that finds, just before it would switch, that
// another machine has published a newer release while it uploaded.
func TestLatestNeverMovesBack(t *testing.T) {
	srv := s3server.Start(t)
	srv.Env(t)
	c := srv.Client(t)
	newBucket(t, c, "never-back")
	ctx := context.Background()
	target := objstore.Target{URL: "s3://never-back/visastats", Endpoint: srv.Endpoint, PathStyle: true}
	opts := objstore.Options{Backoff: objstore.Backoff{Retries: 2, Wait: func(int) time.Duration { return 10 * time.Millisecond }}}
	const oldest, older, newer = "20261120T000000Z", "20261124T000000Z", "20261125T000000Z-2"

	oldestDir := copyRelease(t, oldest)
	if _, err := objstore.Publish(ctx, target, oldestDir, oldest, opts); err != nil {
		t.Fatal(err)
	}
	newerDir := copyRelease(t, newer)

	t.Run("a newer release published while an older one uploads", func(t *testing.T) {
		o := opts
		published := false
		o.Uploaded = func(string) {
			if published {
				return
			}
			published = true
			if _, err := objstore.Publish(ctx, target, newerDir, newer, opts); err != nil {
				t.Fatal(err)
			}
		}
		res, err := objstore.Publish(ctx, target, copyRelease(t, older), older, o)
		if err != nil {
			t.Fatal(err)
		}
		if !res.Older || res.Release != newer {
			t.Errorf("result %+v: want Older, with latest.json naming %s", res, newer)
		}
		checkRelease(t, c, "never-back", "visastats", newerDir)
	})

	t.Run("an older release", func(t *testing.T) {
		const id = "20261125T000000Z" // same second as newer, without its suffix
		res, err := objstore.Publish(ctx, target, copyRelease(t, id), id, opts)
		if err != nil {
			t.Fatal(err)
		}
		if !res.Older || res.Release != newer || res.Uploaded != 0 {
			t.Errorf("result %+v: want Older, nothing uploaded, latest.json naming %s", res, newer)
		}
		checkRelease(t, c, "never-back", "visastats", newerDir)
		if left := keys(t, c, "never-back", "visastats/releases/"+id+"/"); len(left) > 0 {
			t.Errorf("the older release was uploaded: %v", left)
		}
	})

	t.Run("the same release again", func(t *testing.T) {
		res, err := objstore.Publish(ctx, target, newerDir, newer, opts)
		if err != nil {
			t.Fatal(err)
		}
		if res.Older || res.Release != newer || res.Skipped != res.Objects {
			t.Errorf("republish of the release latest.json names: %+v", res)
		}
	})
}
