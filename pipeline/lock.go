package pipeline

import (
	"errors"
	"fmt"
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
func lockRun(outDir, database string) (*runLock, error) {
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return nil, fmt.Errorf("lock %s: %w", outDir, err)
	}
	if err := os.MkdirAll(filepath.Dir(database), 0o755); err != nil {
		return nil, fmt.Errorf("create database directory: %w", err)
	}
	out, err := canonicalPath(outDir)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", outDir, err)
	}
	db, err := canonicalPath(database)
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
