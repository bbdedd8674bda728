package pipeline

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
)

// ErrLocked reports that another run holds the output directory or the
// database.
var ErrLocked = errors.New("another visastats run is in progress")

// runLock holds exclusive advisory locks on everything a run writes: the
// output directory (<output.dir>/.lock) and the database (<database>.lock
// beside it), each found by its canonical path, so that two configurations
// that share either cannot interleave. The kernel releases the locks when
// the process dies, so a killed run never blocks the next.
type runLock struct {
	files []*os.File
}

// lockRun takes the run's locks, in the order of their canonical paths,
// and fails with ErrLocked, naming the holder, when another run has one.
// The database's lock is beside the file a symbolic link names
// (resolveDatabase), so that a link and its target share one lock.
func lockRun(outDir, database string) (*runLock, error) {
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return nil, fmt.Errorf("lock %s: %w", outDir, err)
	}
	out, err := canonicalPath(outDir)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", outDir, err)
	}
	target, err := followLinks(database)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", database, err)
	}
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return nil, fmt.Errorf("create database directory: %w", err)
	}
	db, err := resolveDatabase(database)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", database, err)
	}
	paths := []string{filepath.Join(out, ".lock"), db + ".lock"}
	sort.Strings(paths)
	l := &runLock{}
	for _, p := range paths {
		f, err := lockFile(p)
		if err != nil {
			l.release()
			return nil, err
		}
		l.files = append(l.files, f)
	}
	return l, nil
}

// canonicalPath returns the absolute path of p with symbolic links in its
// directory resolved (p itself need not exist yet).
func canonicalPath(p string) (string, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	dir, err := filepath.EvalSymlinks(filepath.Dir(abs))
	if err != nil {
		return "", err
	}
	base := filepath.Base(abs)
	if t, err := filepath.EvalSymlinks(abs); err == nil {
		return t, nil
	}
	return filepath.Join(dir, base), nil
}

// resolveDatabase returns the canonical path of the database file that
// path names: a symbolic link is followed to the file it names, even when
// that file does not exist yet (a first run creates it there), and links
// in the folder of that file are resolved when it exists. A run writes the
// file there, so a configured link stays a link.
func resolveDatabase(path string) (string, error) {
	p, err := followLinks(path)
	if err != nil {
		return "", err
	}
	dir, err := filepath.EvalSymlinks(filepath.Dir(p))
	if errors.Is(err, os.ErrNotExist) {
		return p, nil
	}
	if err != nil {
		return "", fmt.Errorf("resolve %s: %w", path, err)
	}
	return filepath.Join(dir, filepath.Base(p)), nil
}

// followLinks returns the absolute path of the file path names, following
// path while it is a symbolic link, whether or not its last target exists.
func followLinks(path string) (string, error) {
	p, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	for i := 0; ; i++ {
		st, err := os.Lstat(p)
		if err != nil || st.Mode()&os.ModeSymlink == 0 {
			return p, nil
		}
		if i == 40 {
			return "", fmt.Errorf("resolve %s: too many symbolic links", path)
		}
		target, err := os.Readlink(p)
		if err != nil {
			return "", fmt.Errorf("resolve %s: %w", path, err)
		}
		if !filepath.IsAbs(target) {
			target = filepath.Join(filepath.Dir(p), target)
		}
		p = target
	}
}

// ErrDatabaseInUse reports that another program has the published
// database open read-write: what it writes would be replayed onto the
// database a run publishes.
var ErrDatabaseInUse = errors.New("the database is open read-write in another program")

// leftoverSuffixes name what DuckDB keeps beside a database file opened
// read-write: its write-ahead log, replayed onto whatever file has the
// database's name when it is next opened, and its spill folder.
var leftoverSuffixes = []string{".wal", ".tmp"}

// clearLeftovers removes what another program's DuckDB session left beside
// the published database (database, the resolved file, and configured,
// the path as configured, which differs when it is a link): a
// write-ahead log that is not the run's own would otherwise be replayed
// onto the database the run publishes, on every open. It returns what it
// removed. When a process holds a write lock on the database, the session
// is alive and writes the log still: nothing is removed and the error
// wraps ErrDatabaseInUse. The caller holds the run lock.
func clearLeftovers(database, configured string) ([]string, error) {
	var found []string
	for _, base := range uniq(database, configured) {
		for _, suffix := range leftoverSuffixes {
			if _, err := os.Lstat(base + suffix); err == nil {
				found = append(found, base+suffix)
			}
		}
	}
	if len(found) == 0 {
		return nil, nil
	}
	pid, write, err := lockHolder(database)
	if err != nil {
		return nil, err
	}
	if write {
		return nil, fmt.Errorf("%w (pid %d holds %s, and %s is its write-ahead log): its changes would be replayed onto the new database; close that program, or open the database read-only (duckdb -readonly), and rerun",
			ErrDatabaseInUse, pid, database, found[0])
	}
	var removed []string
	for _, f := range found {
		if pid != 0 && strings.HasSuffix(f, ".tmp") {
			continue // a reader's spill folder, in use
		}
		if err := os.RemoveAll(f); err != nil {
			return removed, fmt.Errorf("remove %s: %w", f, err)
		}
		removed = append(removed, f)
	}
	return removed, nil
}

// walBeside returns the write-ahead log found beside the database
// (resolved file or configured path), "" when there is none.
func walBeside(database, configured string) string {
	for _, base := range uniq(database, configured) {
		if _, err := os.Lstat(base + ".wal"); err == nil {
			return base + ".wal"
		}
	}
	return ""
}

func uniq(a, b string) []string {
	if a == b {
		return []string{a}
	}
	return []string{a, b}
}

// lockHolder returns the process that holds a DuckDB lock on the file at
// path (DuckDB takes a POSIX record lock, shared when read-only, exclusive
// when read-write) and whether it is a write lock; pid 0 when there is
// none or no file. Locks of this process do not show, and closing the
// descriptor it opens releases this process's own locks on the file: the
// caller must not have the database open.
func lockHolder(path string) (pid int, write bool, err error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("probe %s: %w", path, err)
	}
	defer f.Close()
	lk := syscall.Flock_t{Type: syscall.F_WRLCK, Whence: io.SeekStart}
	if err := syscall.FcntlFlock(f.Fd(), syscall.F_GETLK, &lk); err != nil {
		return 0, false, fmt.Errorf("probe %s: %w", path, err)
	}
	if lk.Type == syscall.F_UNLCK {
		return 0, false, nil
	}
	return int(lk.Pid), lk.Type == syscall.F_WRLCK, nil
}

// lockFile takes an exclusive lock on path without waiting and writes the
// process id into it, for the message of the run that finds it taken.
func lockFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		b, _ := os.ReadFile(path)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			holder := strings.TrimSpace(string(b))
			return nil, fmt.Errorf("%w (pid %s holds %s); wait for it to finish", ErrLocked, holder, path)
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return f, nil
}

func (l *runLock) release() {
	for _, f := range l.files {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}
}
