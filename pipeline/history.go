package pipeline

import (
	"github.com/visastats/visastats/output/release"

	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/visastats/visastats/pipeline/snapshot"
	"github.com/visastats/visastats/sources"
	vsql "github.com/visastats/visastats/sql"
)

// versions lists what built a release: visastats, Go, and the libraries
// whose behaviour shapes the outputs.
func versions() map[string]string {
	v := map[string]string{"visastats": Version, "go": runtime.Version()}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			switch d.Path {
			case "github.com/marcboeker/go-duckdb", "github.com/apache/arrow/go/v17", "github.com/xuri/excelize/v2":
				v[d.Path] = d.Version
			}
		}
	}
	return v
}

// fingerprint identifies what a release is built from: every input's
// content, the configuration, and the program itself (the hash of the
// running executable, so any change of code or embedded SQL counts).
func fingerprint(cfg Config, inputs []release.Input) (string, error) {
	h := sha256.New()
	for _, in := range inputs {
		fmt.Fprintf(h, "input %s %s %s\n", in.Source, in.Path, in.SHA256)
	}
	cfg.Publish = nil // where releases are copied does not change what they hold
	c, err := json.Marshal(cfg)
	if err != nil {
		return "", fmt.Errorf("fingerprint config: %w", err)
	}
	fmt.Fprintf(h, "config %s\n", c)
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("fingerprint program: %w", err)
	}
	f, err := os.Open(exe)
	if err != nil {
		return "", fmt.Errorf("fingerprint program: %w", err)
	}
	defer f.Close()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("fingerprint program: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// snapshotInputs lists every source's inputs and keeps a content-addressed
// copy of each with its provenance, so a release can be rebuilt exactly.
// Local inputs are hashed once, by the store while it copies them; fetched
// ones are in the store already, with their URL.
func snapshotInputs(ctx context.Context, store *snapshot.Store, srcs []sources.Source) ([]release.Input, error) {
	fetched := filepath.Join(store.Dir(), "current") + string(filepath.Separator)
	return listInputs(ctx, srcs, func(ctx context.Context, source, path string) (int64, string, error) {
		if strings.HasPrefix(path, fetched) {
			return sources.FileDigest(path)
		}
		rec, err := store.PutFile(ctx, path, snapshot.Provenance{Source: source, Name: filepath.Base(path)})
		if err != nil {
			return 0, "", fmt.Errorf("snapshot %s: %w", path, err)
		}
		return rec.Size, rec.SHA256, nil
	})
}

// Runs lists past runs, published, skipped and failed, oldest first. A
// skipped run's Release is the release it kept.
func Runs(cfg Config) ([]release.Run, error) {
	return release.Layout{Dir: cfg.Output.Dir}.History()
}

// tableCounts returns the exact rows of every table and view of the
// database (observations is a view).
func tableCounts(ctx context.Context, conn *sql.Conn) (map[string]int64, error) {
	rows, err := conn.QueryContext(ctx, `SELECT table_name FROM duckdb_tables() WHERE NOT temporary
		UNION ALL SELECT view_name FROM duckdb_views() WHERE NOT internal AND NOT temporary
		ORDER BY 1`)
	if err != nil {
		return nil, fmt.Errorf("count tables: %w", err)
	}
	var names []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return nil, fmt.Errorf("count tables: %w", err)
		}
		names = append(names, name)
	}
	rows.Close()
	out := map[string]int64{}
	for _, name := range names {
		var n int64
		if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM "+vsql.QuoteIdent(name)).Scan(&n); err != nil {
			return nil, fmt.Errorf("count %s: %w", name, err)
		}
		out[name] = n
	}
	return out, nil
}
