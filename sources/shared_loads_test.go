package sources

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"testing"
)

// Shared loads.
//
// Loading the large shipped UNHCR files takes seconds each; several tests
// only query what one of them loads. Those tests share one load per input,
// made the first time a test asks for it, in its own in-memory database
// that lives as long as the test binary: they only read it (temporary
// tables of their own aside, which are connection-local and replaced on
// each use). A test that loads an edited or a synthetic file keeps its own
// database (unhcrLoad, openTestDB).

// sharedLoad is one load, made once.
type sharedLoad struct {
	once  sync.Once
	conn  *sql.Conn
	stats map[string]Stats // per source name
	err   error
}

// sharedLoads are the shared loads of this test binary, by key.
var sharedLoads struct {
	mu sync.Mutex
	m  map[string]*sharedLoad
}

// loadShared loads srcs, in order, into one database the first time key is
// asked for, and returns its connection and each source's stats.
func loadShared(t testing.TB, key string, srcs func() []Source) (*sql.Conn, map[string]Stats) {
	t.Helper()
	sharedLoads.mu.Lock()
	if sharedLoads.m == nil {
		sharedLoads.m = map[string]*sharedLoad{}
	}
	l, ok := sharedLoads.m[key]
	if !ok {
		l = &sharedLoad{}
		sharedLoads.m[key] = l
	}
	sharedLoads.mu.Unlock()
	l.once.Do(func() {
		ctx := context.Background()
		db, err := sql.Open("duckdb", "")
		if err != nil {
			l.err = err
			return
		}
		// Never closed: the database lives as long as the test binary.
		if l.conn, l.err = db.Conn(ctx); l.err != nil {
			return
		}
		l.stats = map[string]Stats{}
		for _, src := range srcs() {
			st, err := src.Load(ctx, l.conn)
			if err != nil {
				l.err = fmt.Errorf("shared load %s: source %s: %w", key, src.Name(), err)
				return
			}
			l.stats[src.Name()] = st
		}
	})
	if l.err != nil {
		t.Fatal(l.err)
	}
	return l.conn, l.stats
}

// unhcrShipped is unhcrLoad of one shipped file, loaded once for every
// test that reads it. Read only.
func unhcrShipped(t testing.TB, path string) (*sql.Conn, Stats) {
	t.Helper()
	conn, st := loadShared(t, "unhcr "+path, func() []Source {
		return []Source{NewUNHCR(UNHCRConfig{Paths: []string{path}})}
	})
	return conn, st["unhcr"]
}

// shippedUNHCRAndMFA is the unhcr and ru_mfa_published sources of
// shippedConfig (every shipped UNHCR input and the RU MFA file) loaded
// once into one database. Read only.
func shippedUNHCRAndMFA(t testing.TB) (*sql.Conn, map[string]Stats) {
	t.Helper()
	return loadShared(t, "shipped unhcr and ru_mfa_published", func() []Source {
		var out []Source
		for _, src := range All(shippedConfig()) {
			if src.Name() == "unhcr" || src.Name() == "ru_mfa_published" {
				out = append(out, src)
			}
		}
		return out
	})
}

// sharedSheet is one shipped EC workbook, read once.
type sharedSheet struct {
	once sync.Once
	sh   *ECSheet
	err  error
}

// sharedSheets are the shipped EC workbooks read so far, by path.
var sharedSheets struct {
	mu sync.Mutex
	m  map[string]*sharedSheet
}

// shippedECSheet is ReadECWorkbook of a shipped, unedited workbook, read
// once for every test that reads it. Read only.
func shippedECSheet(t testing.TB, path string) *ECSheet {
	t.Helper()
	sharedSheets.mu.Lock()
	if sharedSheets.m == nil {
		sharedSheets.m = map[string]*sharedSheet{}
	}
	s, ok := sharedSheets.m[path]
	if !ok {
		s = &sharedSheet{}
		sharedSheets.m[path] = s
	}
	sharedSheets.mu.Unlock()
	s.once.Do(func() { s.sh, s.err = readECSheet(t, path) })
	if s.err != nil {
		t.Fatalf("read %s: %v", path, s.err)
	}
	return s.sh
}

// testLayouts are the shipped EC workbook layouts (data/reference).
func testLayouts(t testing.TB) *ECLayouts {
	t.Helper()
	l, err := ReadECLayouts(esCodeLists)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// readECSheet reads an EC workbook with the shipped layouts and returns
// its sheet of the Schengen States.
func readECSheet(t testing.TB, path string) (*ECSheet, error) {
	t.Helper()
	wb, err := ReadECWorkbook(path, testLayouts(t))
	if err != nil {
		return nil, err
	}
	return wb.Data(), nil
}
