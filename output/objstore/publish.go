package objstore

import (
	"github.com/visastats/visastats/output/release"

	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/visastats/visastats/sources/redact"
)

// PointerName is the object, directly under a target's prefix, that names
// the published release; readers start from it.
const PointerName = "latest.json"

// sha256Meta is the user metadata key (x-amz-meta-sha256) that carries an
// object's SHA-256, so that a rerun can tell an uploaded file from a
// missing or partial one without reading it.
const sha256Meta = "Sha256"

// Object is one file of a release as stored: its name inside the release,
// its size and its SHA-256 (hex).
type Object struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Pointer is latest.json: the release readers should use, and its files.
type Pointer struct {
	Release     string    `json:"release"`
	PublishedAt time.Time `json:"published_at"`
	// Prefix is the release's folder relative to latest.json,
	// releases/<id>/.
	Prefix string   `json:"prefix"`
	Files  []Object `json:"files"`
}

// Result is what one publish did.
type Result struct {
	Target   string   // s3://bucket/prefix
	Release  string   // the release latest.json names now
	Previous string   // the release it named before ("" for none)
	Objects  int      // files of the release
	Bytes    int64    // their total size
	Uploaded int      // objects uploaded by this publish
	Skipped  int      // objects already present with the right size and SHA-256
	Sent     int64    // bytes uploaded by this publish
	Pruned   []string // releases removed by retention
	// Older is set when latest.json names a newer release than the one
	// given: latest.json was left on it (Release) and retention did not
	// run. Readers are never moved back to an older release.
	Older    bool
	Duration time.Duration
}

// Options are the per-call choices of a publish.
type Options struct {
	Backoff Backoff
	// Uploaded, when set, is called after each object is uploaded or found
	// present, with the object's name.
	Uploaded func(name string)
}

// Publish uploads the release folder dir (named id) to t: every file
// under <prefix>/releases/<id>/, each read back and checked against the
// manifest, then <prefix>/latest.json, then retention. A failure at any
// step leaves latest.json naming the release it named before.
//
// latest.json never moves back: when it names a release newer than id (by
// release.CompareIDs: ids are build times), before the upload or when it
// is read again just before the switch, Publish leaves it as it is and
// returns with Result.Older set and no error. Before the upload nothing is
// uploaded; after it, the files stay under releases/<id>/ for retention.
// Between that last read and the switch a publish from another machine
// can still come in: the window is one request long.
func Publish(ctx context.Context, t Target, dir, id string, opts Options) (Result, error) {
	start := time.Now()
	loc, err := ParseURL(t.URL)
	if err != nil {
		return Result{}, err
	}
	res := Result{Target: loc.String(), Release: id}
	fail := func(err error) (Result, error) {
		res.Duration = time.Since(start)
		return res, fmt.Errorf("publish %s to %s: %w", id, loc, err)
	}
	objects, err := Manifest(dir)
	if err != nil {
		return fail(err)
	}
	res.Objects = len(objects)
	for _, o := range objects {
		res.Bytes += o.Size
	}
	c, err := newClient(t)
	if err != nil {
		return fail(err)
	}
	s := &store{c: c, loc: loc, backoff: opts.Backoff}
	prev, err := s.pointer(ctx)
	if err != nil {
		return fail(err)
	}
	res.Previous = prev.Release
	older := func(current string) (Result, error) {
		res.Release, res.Older = current, true
		res.Duration = time.Since(start)
		return res, nil
	}
	if newer(prev.Release, id) {
		return older(prev.Release)
	}
	relPrefix := "releases/" + id + "/"
	if err := s.abortIncomplete(ctx, loc.Key(relPrefix)); err != nil {
		return fail(err)
	}
	partSize := uint64(t.PartSize)
	if partSize == 0 {
		partSize = DefaultPartSize
	}
	for _, o := range objects {
		key := loc.Key(relPrefix + o.Name)
		present, err := s.present(ctx, key, o)
		if err != nil {
			return fail(err)
		}
		if present {
			res.Skipped++
		} else {
			if err := s.upload(ctx, key, filepath.Join(dir, filepath.FromSlash(o.Name)), o, partSize); err != nil {
				return fail(err)
			}
			res.Uploaded++
			res.Sent += o.Size
		}
		if opts.Uploaded != nil {
			opts.Uploaded(o.Name)
		}
	}
	// Every object is read back whole and hashed, not only stat'ed: what
	// readers get is what the manifest says.
	for _, o := range objects {
		if err := s.verify(ctx, loc.Key(relPrefix+o.Name), o); err != nil {
			return fail(err)
		}
	}
	// Another machine may have published while this one uploaded.
	now, err := s.pointer(ctx)
	if err != nil {
		return fail(err)
	}
	if newer(now.Release, id) {
		return older(now.Release)
	}
	ptr := Pointer{Release: id, PublishedAt: time.Now().UTC(), Prefix: relPrefix, Files: objects}
	body, err := json.MarshalIndent(ptr, "", "  ")
	if err != nil {
		return fail(err)
	}
	body = append(body, '\n')
	if err := s.put(ctx, loc.Key(PointerName), body); err != nil {
		return fail(fmt.Errorf("switch %s: %w", PointerName, err))
	}
	if t.Keep > 0 {
		pruned, err := s.prune(ctx, t.Keep)
		res.Pruned = pruned
		if err != nil {
			return fail(err)
		}
	}
	res.Duration = time.Since(start)
	return res, nil
}

// newer says whether the release a pointer names is newer than id. A
// pointer that names no release, or something not shaped like a release
// id (not written by Publish), is not.
func newer(named, id string) bool {
	return release.ValidID(named) && release.CompareIDs(named, id) > 0
}

// Manifest lists every regular file under dir, by slash-separated name,
// with its size and SHA-256, and checks them against the files run.json
// lists: a file that differs from its record, or a recorded file that is
// missing, stops the publish. Symlinks and other non-regular files are
// refused.
func Manifest(dir string) ([]Object, error) {
	var objs []Object
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		if !d.Type().IsRegular() {
			return fmt.Errorf("release file %s is not a regular file", p)
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		size, sum, err := digest(p)
		if err != nil {
			return err
		}
		objs = append(objs, Object{Name: filepath.ToSlash(rel), Size: size, SHA256: sum})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read release %s: %w", dir, err)
	}
	report, err := release.ReadReport(filepath.Join(dir, release.ReportName))
	if err != nil {
		return nil, fmt.Errorf("read release manifest: %w", err)
	}
	byName := map[string]Object{}
	for _, o := range objs {
		byName[o.Name] = o
	}
	for _, f := range report.Files {
		got, ok := byName[f.Name]
		switch {
		case !ok:
			return nil, fmt.Errorf("release %s: run.json lists %s, which is not in the folder", dir, f.Name)
		case got.Size != f.Size || (f.SHA256 != "" && got.SHA256 != f.SHA256):
			return nil, fmt.Errorf("release %s: %s is %d bytes with SHA-256 %s, run.json says %d bytes with %s", dir, f.Name, got.Size, got.SHA256, f.Size, f.SHA256)
		}
	}
	return objs, nil
}

func digest(p string) (int64, string, error) {
	f, err := os.Open(p)
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return 0, "", fmt.Errorf("hash %s: %w", p, err)
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}

// newClient connects to the target's endpoint with credentials from the
// environment or the shared credentials file, in that order. The client's
// own retries are turned off: Backoff retries whole operations, with the
// policy of the fetcher.
func newClient(t Target) (*minio.Client, error) {
	host, secure := "s3.amazonaws.com", true
	if t.Endpoint != "" {
		u, err := url.Parse(t.Endpoint)
		if err != nil {
			return nil, fmt.Errorf("endpoint %s: %w", redact.URL(t.Endpoint), err)
		}
		host, secure = u.Host, u.Scheme == "https"
	}
	lookup := minio.BucketLookupAuto
	if t.PathStyle {
		lookup = minio.BucketLookupPath
	}
	creds := credentials.NewChainCredentials([]credentials.Provider{
		&credentials.EnvAWS{},
		&credentials.FileAWSCredentials{},
	})
	region := t.Region
	if region == "" {
		region = "us-east-1"
	}
	c, err := minio.New(host, &minio.Options{Creds: creds, Secure: secure, Region: region, BucketLookup: lookup, MaxRetries: 1})
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", redact.URL(t.Endpoint), err)
	}
	return c, nil
}

// store is one target's bucket and prefix.
type store struct {
	c       *minio.Client
	loc     Location
	backoff Backoff
}

// pointer reads latest.json; a missing one is the zero Pointer.
func (s *store) pointer(ctx context.Context) (Pointer, error) {
	var p Pointer
	key := s.loc.Key(PointerName)
	err := s.backoff.Do(ctx, "read "+key, func() error {
		obj, err := s.c.GetObject(ctx, s.loc.Bucket, key, minio.GetObjectOptions{})
		if err != nil {
			return err
		}
		defer obj.Close()
		b, err := io.ReadAll(io.LimitReader(obj, 64<<20))
		if err != nil {
			return err
		}
		if err := json.Unmarshal(b, &p); err != nil {
			return permanent(fmt.Errorf("%s is not a release pointer: %w", key, err))
		}
		return nil
	})
	if isNotFound(err) {
		return Pointer{}, nil
	}
	if err != nil {
		return Pointer{}, err
	}
	return p, nil
}

// present reports whether key holds o already: the same size and the
// SHA-256 recorded when it was uploaded.
func (s *store) present(ctx context.Context, key string, o Object) (bool, error) {
	var info minio.ObjectInfo
	err := s.backoff.Do(ctx, "inspect "+key, func() error {
		var err error
		info, err = s.c.StatObject(ctx, s.loc.Bucket, key, minio.StatObjectOptions{})
		return err
	})
	if isNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return info.Size == o.Size && strings.EqualFold(info.UserMetadata[sha256Meta], o.SHA256), nil
}

func contentType(name string) string {
	if t := mime.TypeByExtension(path.Ext(name)); t != "" {
		return t
	}
	switch path.Ext(name) {
	case ".parquet":
		return "application/vnd.apache.parquet"
	case ".cff":
		return "text/plain; charset=utf-8"
	case ".xlsx":
		return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	}
	return "application/octet-stream"
}

// upload puts one file, in parts when it is larger than one part.
func (s *store) upload(ctx context.Context, key, file string, o Object, partSize uint64) error {
	return s.backoff.Do(ctx, "upload "+key, func() error {
		f, err := os.Open(file)
		if err != nil {
			return permanent(err)
		}
		defer f.Close()
		_, err = s.c.PutObject(ctx, s.loc.Bucket, key, f, o.Size, minio.PutObjectOptions{
			UserMetadata: map[string]string{sha256Meta: o.SHA256},
			ContentType:  contentType(o.Name),
			CacheControl: "public, max-age=31536000, immutable",
			PartSize:     partSize,
		})
		return err
	})
}

// put writes a small object in one request.
func (s *store) put(ctx context.Context, key string, body []byte) error {
	sum := sha256.Sum256(body)
	o := Object{Name: PointerName, Size: int64(len(body)), SHA256: hex.EncodeToString(sum[:])}
	if err := s.backoff.Do(ctx, "upload "+key, func() error {
		_, err := s.c.PutObject(ctx, s.loc.Bucket, key, bytes.NewReader(body), int64(len(body)), minio.PutObjectOptions{
			UserMetadata: map[string]string{sha256Meta: o.SHA256},
			ContentType:  "application/json",
			CacheControl: "no-cache",
		})
		return err
	}); err != nil {
		return err
	}
	return s.verify(ctx, key, o)
}

// verify reads key back whole and compares its size and SHA-256 with o.
func (s *store) verify(ctx context.Context, key string, o Object) error {
	return s.backoff.Do(ctx, "verify "+key, func() error {
		obj, err := s.c.GetObject(ctx, s.loc.Bucket, key, minio.GetObjectOptions{})
		if err != nil {
			return err
		}
		defer obj.Close()
		h := sha256.New()
		n, err := io.Copy(h, obj)
		if err != nil {
			return err
		}
		if sum := hex.EncodeToString(h.Sum(nil)); n != o.Size || sum != o.SHA256 {
			// A wrong object is uploaded again on the next run (its
			// metadata is not trusted alone); it is not retried here.
			return permanent(fmt.Errorf("verify %s: read back %d bytes with SHA-256 %s, the manifest says %d bytes with %s", key, n, sum, o.Size, o.SHA256))
		}
		return nil
	})
}

// abortIncomplete removes the parts of multipart uploads under prefix that
// a killed publish left behind.
func (s *store) abortIncomplete(ctx context.Context, prefix string) error {
	var keys []string
	for u := range s.c.ListIncompleteUploads(ctx, s.loc.Bucket, prefix, true) {
		if u.Err != nil {
			if isNotImplemented(u.Err) {
				return nil
			}
			return fmt.Errorf("list incomplete uploads under %s: %w", prefix, u.Err)
		}
		keys = append(keys, u.Key)
	}
	slices.Sort(keys)
	for _, k := range slices.Compact(keys) {
		if err := s.backoff.Do(ctx, "abort upload "+k, func() error {
			return s.c.RemoveIncompleteUpload(ctx, s.loc.Bucket, k)
		}); err != nil {
			return err
		}
	}
	return nil
}

// Releases lists the release ids under the target's releases/, oldest
// first.
func (s *store) releases(ctx context.Context) ([]string, error) {
	prefix := s.loc.Key("releases/")
	var ids []string
	for o := range s.c.ListObjects(ctx, s.loc.Bucket, minio.ListObjectsOptions{Prefix: prefix}) {
		if o.Err != nil {
			return nil, fmt.Errorf("list %s: %w", prefix, o.Err)
		}
		if id := strings.TrimSuffix(strings.TrimPrefix(o.Key, prefix), "/"); id != "" && strings.HasSuffix(o.Key, "/") {
			ids = append(ids, id)
		}
	}
	slices.SortFunc(ids, release.CompareIDs)
	return ids, nil
}

// prune keeps the newest keep releases. It reads latest.json again first
// and never removes the release it names, whatever the count.
func (s *store) prune(ctx context.Context, keep int) ([]string, error) {
	ptr, err := s.pointer(ctx)
	if err != nil {
		return nil, err
	}
	if ptr.Release == "" {
		return nil, errors.New("prune: latest.json is missing; nothing is removed")
	}
	ids, err := s.releases(ctx)
	if err != nil {
		return nil, err
	}
	if len(ids) <= keep {
		return nil, nil
	}
	var pruned []string
	for _, id := range ids[:len(ids)-keep] {
		if id == ptr.Release {
			continue
		}
		if err := s.removePrefix(ctx, s.loc.Key("releases/"+id+"/")); err != nil {
			return pruned, err
		}
		pruned = append(pruned, id)
	}
	return pruned, nil
}

func (s *store) removePrefix(ctx context.Context, prefix string) error {
	objs := s.c.ListObjects(ctx, s.loc.Bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true})
	for r := range s.c.RemoveObjects(ctx, s.loc.Bucket, objs, minio.RemoveObjectsOptions{}) {
		if r.Err != nil {
			return fmt.Errorf("remove %s: %w", r.ObjectName, r.Err)
		}
	}
	return nil
}

func isNotFound(err error) bool {
	var er minio.ErrorResponse
	return errors.As(err, &er) && (er.Code == "NoSuchKey" || (er.StatusCode == 404 && er.Code != "NoSuchBucket"))
}

func isNotImplemented(err error) bool {
	var er minio.ErrorResponse
	return errors.As(err, &er) && (er.Code == "NotImplemented" || er.StatusCode == 501)
}
