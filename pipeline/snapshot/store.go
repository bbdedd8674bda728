package snapshot

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// ErrNoRecord is returned (wrapped) by Store.Latest when an input has never
// been stored. An offline run that meets it has no snapshot to work from.
var ErrNoRecord = errors.New("no snapshot recorded")

// Provenance says where an input came from. It is what a caller knows
// before the content is read; Store fills in the size and hash.
type Provenance struct {
	// Source is the source the input belongs to, e.g. "ec_schengen_consulates".
	Source string
	// Name is the input's logical name within the source, stable across
	// runs, e.g. "2023". Source and Name become path components of the
	// index, so they must be plain names without separators.
	Name string
	// URL is the address the input was fetched from, as requested (the
	// record keeps it redacted, and its SHA-256); empty for local files.
	URL string
	// Path is the local file the input was read from; empty for fetched files.
	Path string
	// RetrievedAt is when the content was read; Store uses the current time
	// when it is zero.
	RetrievedAt time.Time
	// ETag, LastModified and ContentType are the response headers as the
	// server sent them (LastModified is the file's modification time for
	// local files); they are kept for conditional requests and for people.
	ETag         string
	LastModified string
	ContentType  string
}

// Record is the provenance of one stored input: what it is, where and when
// it came from, and the object that holds its bytes. Its fields mean what
// they mean in Provenance; Size and SHA256 describe the stored bytes, and
// SHA256 (lower-case hex) names the object. URLSHA256 is the SHA-256 of the
// URL exactly as requested: URL is redacted, so two addresses that differ
// only in a value redaction hides (a token, but also code= or key=) read
// the same there; the hash tells them apart without keeping the secret.
type Record struct {
	Source       string    `json:"source"`
	Name         string    `json:"name"`
	URL          string    `json:"url,omitempty"`
	URLSHA256    string    `json:"url_sha256,omitempty"`
	Path         string    `json:"path,omitempty"`
	RetrievedAt  time.Time `json:"retrieved_at"`
	Size         int64     `json:"size"`
	SHA256       string    `json:"sha256"`
	ETag         string    `json:"etag,omitempty"`
	LastModified string    `json:"last_modified,omitempty"`
	ContentType  string    `json:"content_type,omitempty"`
}

// Store is a content-addressed store of input files with a provenance index
// per input. It holds no open files; its methods are safe for concurrent
// use, also by several processes sharing the directory.
type Store struct {
	dir string
}

// Open opens the store in dir, creating its directories when missing.
func Open(dir string) (*Store, error) {
	if dir == "" {
		return nil, errors.New("open snapshot store: empty directory name")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("open snapshot store %s: %w", dir, err)
	}
	for _, sub := range []string{"objects/sha256", "index", "tmp"} {
		if err := os.MkdirAll(filepath.Join(abs, filepath.FromSlash(sub)), 0o755); err != nil {
			return nil, fmt.Errorf("open snapshot store %s: %w", dir, err)
		}
	}
	return &Store{dir: abs}, nil
}

// Dir returns the store's absolute directory.
func (s *Store) Dir() string { return s.dir }

// Put stores the content read from r and records meta as its provenance.
// Content already in the store is not written again, but a new record is
// added either way. On error nothing is stored or recorded.
func (s *Store) Put(ctx context.Context, r io.Reader, meta Provenance) (Record, error) {
	op := "put " + meta.Source + "/" + meta.Name
	if err := checkNames(meta.Source, meta.Name); err != nil {
		return Record{}, fmt.Errorf("%s: %w", op, err)
	}
	tmp, err := s.newTemp()
	if err != nil {
		return Record{}, fmt.Errorf("%s: %w", op, err)
	}
	defer tmp.discard()
	if err := copyContext(ctx, tmp, r); err != nil {
		return Record{}, fmt.Errorf("%s: read content: %w", op, err)
	}
	rec, err := s.commit(ctx, tmp, meta)
	if err != nil {
		return Record{}, fmt.Errorf("%s: %w", op, err)
	}
	return rec, nil
}

// PutFile stores the local file at path, recording its absolute path and
// modification time as provenance (meta.Path and meta.LastModified are set
// from the file; meta.URL must be empty).
func (s *Store) PutFile(ctx context.Context, path string, meta Provenance) (Record, error) {
	if meta.URL != "" {
		return Record{}, fmt.Errorf("put file %s: provenance has URL %q; local inputs have none", path, meta.URL)
	}
	f, err := os.Open(path)
	if err != nil {
		return Record{}, fmt.Errorf("put file %s: %w", path, err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return Record{}, fmt.Errorf("put file %s: %w", path, err)
	}
	if !info.Mode().IsRegular() {
		return Record{}, fmt.Errorf("put file %s: not a regular file (%s)", path, info.Mode().Type())
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return Record{}, fmt.Errorf("put file %s: %w", path, err)
	}
	meta.Path = abs
	meta.LastModified = info.ModTime().UTC().Format(http.TimeFormat)
	rec, err := s.Put(ctx, f, meta)
	if err != nil {
		return Record{}, fmt.Errorf("put file %s: %w", path, err)
	}
	return rec, nil
}

// Path returns the file path of the object with the given hex SHA-256, so
// that parsers needing a file name or random access can read it. The file
// is read-only and must not be modified. It returns an error wrapping
// fs.ErrNotExist when the object is not in the store.
func (s *Store) Path(sha string) (string, error) {
	p, err := s.objectPath(sha)
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("object %s: %w", sha, err)
	}
	return p, nil
}

// Open opens the object with the given hex SHA-256 for reading. The caller
// closes the file. It returns an error wrapping fs.ErrNotExist when the
// object is not in the store.
func (s *Store) Open(sha string) (*os.File, error) {
	p, err := s.objectPath(sha)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("open object %s: %w", sha, err)
	}
	return f, nil
}

// Verify rehashes the object with the given hex SHA-256 and returns an
// error when its content no longer matches its name.
func (s *Store) Verify(sha string) error {
	f, err := s.Open(sha)
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return fmt.Errorf("verify object %s: %w", sha, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != sha {
		return fmt.Errorf("verify object %s: content hashes to %s; the store is damaged", sha, got)
	}
	return nil
}

// Latest returns the last record stored for the input source/name. It
// returns an error wrapping ErrNoRecord when there is none.
func (s *Store) Latest(source, name string) (Record, error) {
	op := "latest " + source + "/" + name
	if err := checkNames(source, name); err != nil {
		return Record{}, fmt.Errorf("%s: %w", op, err)
	}
	p := s.indexPath(source, name, ".json")
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return Record{}, fmt.Errorf("%s in %s: %w", op, s.dir, ErrNoRecord)
	}
	if err != nil {
		return Record{}, fmt.Errorf("%s: %w", op, err)
	}
	var rec Record
	if err := json.Unmarshal(b, &rec); err != nil {
		return Record{}, fmt.Errorf("%s: read %s: %w", op, p, err)
	}
	return rec, nil
}

// LatestFrom returns the last record stored for the input source/name
// that was fetched from exactly rawURL and whose object is still in the
// store: the snapshot a conditional request to rawURL may stand on, and
// the one an offline run uses. A record made before records kept the
// URL's hash matches only a URL with nothing to redact, equal to its own.
// It returns an error wrapping ErrNoRecord when there is none.
func (s *Store) LatestFrom(source, name, rawURL string) (Record, error) {
	op := "latest " + source + "/" + name + " from " + RedactURL(rawURL)
	latest, err := s.Latest(source, name)
	if err != nil {
		return Record{}, err
	}
	if fromURL(latest, rawURL) && s.has(latest.SHA256) {
		return latest, nil
	}
	hist, err := s.History(source, name)
	if err != nil {
		return Record{}, err
	}
	for i := len(hist) - 1; i >= 0; i-- {
		if fromURL(hist[i], rawURL) && s.has(hist[i].SHA256) {
			return hist[i], nil
		}
	}
	return Record{}, fmt.Errorf("%s in %s: %w", op, s.dir, ErrNoRecord)
}

// Restore makes rec, an earlier record of its input, the latest again (a
// conditional request found it current): it is appended to the history
// as it was and replaces the latest record. Its object must be in the
// store.
func (s *Store) Restore(rec Record) error {
	if err := checkNames(rec.Source, rec.Name); err != nil {
		return fmt.Errorf("restore %s/%s: %w", rec.Source, rec.Name, err)
	}
	if !s.has(rec.SHA256) {
		return fmt.Errorf("restore %s/%s: object %s is not in the store", rec.Source, rec.Name, rec.SHA256)
	}
	return s.record(rec)
}

// fromURL says whether rec was fetched from exactly rawURL.
func fromURL(rec Record, rawURL string) bool {
	if rec.URLSHA256 != "" {
		return rec.URLSHA256 == urlSHA256(rawURL)
	}
	shown := RedactURL(rawURL)
	return rec.URL != "" && rec.URL == shown && shown == rawURL
}

// urlSHA256 is the hex SHA-256 of a URL as requested, "" for none.
func urlSHA256(rawURL string) string {
	if rawURL == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(rawURL))
	return hex.EncodeToString(sum[:])
}

// has says whether the object with the given hex SHA-256 is in the store.
func (s *Store) has(sha string) bool {
	_, err := s.Path(sha)
	return err == nil
}

// History returns every record stored for the input source/name, oldest
// first, or an empty slice when there is none. A last line left incomplete
// by a crash is ignored; any other unreadable line is an error.
func (s *Store) History(source, name string) ([]Record, error) {
	op := "history " + source + "/" + name
	if err := checkNames(source, name); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	p := s.indexPath(source, name, ".jsonl")
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return []Record{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	lines := bytes.Split(b, []byte("\n"))
	// The element after the final newline is empty, or the fragment of an
	// append cut short by a crash; neither is a record.
	lines = lines[:len(lines)-1]
	recs := make([]Record, 0, len(lines))
	for i, line := range lines {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var rec Record
		if err := json.Unmarshal(line, &rec); err != nil {
			return nil, fmt.Errorf("%s: read %s line %d: %w", op, p, i+1, err)
		}
		recs = append(recs, rec)
	}
	return recs, nil
}

// tempObject is content being written to the store's tmp directory,
// hashed and counted as it is written.
type tempObject struct {
	f    *os.File
	h    hash.Hash
	size int64
	done bool
}

func (s *Store) newTemp() (*tempObject, error) {
	f, err := os.CreateTemp(filepath.Join(s.dir, "tmp"), "object-*")
	if err != nil {
		return nil, fmt.Errorf("create temporary object: %w", err)
	}
	return &tempObject{f: f, h: sha256.New()}, nil
}

func (t *tempObject) Write(p []byte) (int, error) {
	n, err := t.f.Write(p)
	t.h.Write(p[:n])
	t.size += int64(n)
	return n, err
}

func (t *tempObject) sum() string { return hex.EncodeToString(t.h.Sum(nil)) }

// discard removes the temporary file unless it was committed. It is safe
// to call more than once.
func (t *tempObject) discard() {
	if t.done {
		return
	}
	t.done = true
	t.f.Close()
	os.Remove(t.f.Name())
}

// commit moves a completely written temporary object into place under its
// hash and records meta as its provenance. The object is synced and made
// read-only before the rename, and the rename is synced before the record
// is written, so neither a half-written object nor a record of a missing
// object can be seen, even after a crash.
func (s *Store) commit(ctx context.Context, t *tempObject, meta Provenance) (Record, error) {
	if err := ctx.Err(); err != nil {
		return Record{}, err
	}
	sha := t.sum()
	name := t.f.Name()
	if err := t.f.Sync(); err != nil {
		return Record{}, fmt.Errorf("sync %s: %w", name, err)
	}
	if err := t.f.Chmod(0o444); err != nil {
		return Record{}, fmt.Errorf("make %s read-only: %w", name, err)
	}
	if err := t.f.Close(); err != nil {
		return Record{}, fmt.Errorf("close %s: %w", name, err)
	}
	dst, err := s.objectPath(sha)
	if err != nil {
		return Record{}, err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return Record{}, fmt.Errorf("store object %s: %w", sha, err)
	}
	if info, err := os.Stat(dst); err == nil && info.Size() == t.size {
		// Identical content is already stored; keep the existing file.
		os.Remove(name)
	} else if err := os.Rename(name, dst); err != nil {
		// Another process may have renamed the same content into place
		// first (where renaming onto an existing file is refused).
		if _, statErr := os.Stat(dst); statErr != nil {
			return Record{}, fmt.Errorf("store object %s: %w", sha, err)
		}
		os.Remove(name)
	}
	t.done = true
	if err := syncDir(filepath.Dir(dst)); err != nil {
		return Record{}, fmt.Errorf("store object %s: %w", sha, err)
	}

	rec := Record{
		Source:       meta.Source,
		Name:         meta.Name,
		URL:          RedactURL(meta.URL),
		URLSHA256:    urlSHA256(meta.URL),
		Path:         meta.Path,
		RetrievedAt:  meta.RetrievedAt.UTC(),
		Size:         t.size,
		SHA256:       sha,
		ETag:         meta.ETag,
		LastModified: meta.LastModified,
		ContentType:  meta.ContentType,
	}
	if meta.RetrievedAt.IsZero() {
		rec.RetrievedAt = time.Now().UTC()
	}
	if err := s.record(rec); err != nil {
		return Record{}, err
	}
	return rec, nil
}

// record appends rec to the input's history and makes it the latest
// record. The history line is one write to a file opened for appending, so
// concurrent writers do not interleave within a line; the latest record is
// replaced by an atomic rename, so it is always one complete record.
func (s *Store) record(rec Record) error {
	line, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("record %s/%s: %w", rec.Source, rec.Name, err)
	}
	dir := filepath.Join(s.dir, "index", rec.Source)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("record %s/%s: %w", rec.Source, rec.Name, err)
	}
	if err := appendLine(s.indexPath(rec.Source, rec.Name, ".jsonl"), line); err != nil {
		return fmt.Errorf("record %s/%s: %w", rec.Source, rec.Name, err)
	}
	if err := s.replaceFile(s.indexPath(rec.Source, rec.Name, ".json"), append(line, '\n')); err != nil {
		return fmt.Errorf("record %s/%s: %w", rec.Source, rec.Name, err)
	}
	return nil
}

func appendLine(path string, line []byte) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	buf := make([]byte, 0, len(line)+2)
	// After a crash mid-append the file may end inside a line; start on a
	// fresh one so the cut line stays one unreadable line and does not
	// swallow this record.
	if info, err := f.Stat(); err == nil && info.Size() > 0 {
		last := make([]byte, 1)
		if _, err := f.ReadAt(last, info.Size()-1); err == nil && last[0] != '\n' {
			buf = append(buf, '\n')
		}
	}
	buf = append(buf, line...)
	buf = append(buf, '\n')
	if _, err := f.Write(buf); err != nil {
		return fmt.Errorf("append to %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", path, err)
	}
	return f.Close()
}

// replaceFile writes b to path through a synced temporary file and a
// rename, so readers see the old content or the new, never a mix.
func (s *Store) replaceFile(path string, b []byte) error {
	f, err := os.CreateTemp(filepath.Join(s.dir, "tmp"), "index-*")
	if err != nil {
		return fmt.Errorf("replace %s: %w", path, err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	if _, err := f.Write(b); err != nil {
		return fmt.Errorf("replace %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("replace %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("replace %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("replace %s: %w", path, err)
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		return fmt.Errorf("replace %s: %w", path, err)
	}
	return nil
}

// syncDir makes a rename in dir durable. Some systems cannot sync a
// directory; the rename itself is still atomic there, so that is not an
// error.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, errors.ErrUnsupported) && !errors.Is(err, os.ErrInvalid) {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}

func (s *Store) objectPath(sha string) (string, error) {
	if !isHexSHA256(sha) {
		return "", fmt.Errorf("object %q: not a lower-case hex SHA-256", sha)
	}
	return filepath.Join(s.dir, "objects", "sha256", sha[:2], sha), nil
}

func (s *Store) indexPath(source, name, ext string) string {
	return filepath.Join(s.dir, "index", source, name+ext)
}

func isHexSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// checkNames rejects a source or input name that could not serve as one
// path component of the index.
func checkNames(source, name string) error {
	for _, f := range []struct{ what, v string }{{"source", source}, {"name", name}} {
		switch {
		case f.v == "":
			return fmt.Errorf("empty %s", f.what)
		case strings.HasPrefix(f.v, "."):
			return fmt.Errorf("%s %q starts with a dot", f.what, f.v)
		case strings.ContainsAny(f.v, "/\\\x00"):
			return fmt.Errorf("%s %q contains a path separator or NUL", f.what, f.v)
		case !filepath.IsLocal(f.v):
			return fmt.Errorf("%s %q is not a plain file name", f.what, f.v)
		}
	}
	return nil
}

// copyContext copies src to dst, stopping when ctx is done.
func copyContext(ctx context.Context, dst io.Writer, src io.Reader) error {
	buf := make([]byte, 256<<10)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, err := src.Read(buf)
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return werr
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}
