package pipeline

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"

	"github.com/visastats/visastats/output/release"
	"github.com/visastats/visastats/sources"
)

// Inputs lists every source's inputs with sizes and hashes, without loading
// anything.
func Inputs(ctx context.Context, cfg Config) ([]release.Input, error) {
	return describeInputs(ctx, sources.All(cfg.SourceConfig()))
}

// describeInputs lists every source's inputs with their sizes and hashes.
func describeInputs(ctx context.Context, srcs []sources.Source) ([]release.Input, error) {
	return listInputs(ctx, srcs, func(_ context.Context, _, path string) (int64, string, error) {
		return sources.FileDigest(path)
	})
}

// listInputs lists every source's inputs, with the size and hex SHA-256
// that digest returns for each.
func listInputs(ctx context.Context, srcs []sources.Source, digest func(ctx context.Context, source, path string) (int64, string, error)) ([]release.Input, error) {
	var out []release.Input
	for _, src := range srcs {
		ins, err := src.Inputs(ctx)
		if err != nil {
			return nil, fmt.Errorf("source %s: %w", src.Name(), err)
		}
		for _, in := range ins {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			size, sum, err := digest(ctx, src.Name(), in.Path)
			if err != nil {
				return nil, fmt.Errorf("source %s: %w", src.Name(), err)
			}
			out = append(out, release.Input{Source: src.Name(), Path: in.Path, Year: in.Year, Size: size, SHA256: sum})
		}
	}
	return out, nil
}

// recordInputs writes the inputs table that observations' release column
// refers to, with each input's content digest: that of its decompressed
// bytes when it is gzip-compressed, its file digest otherwise. Curated
// statements about a publication (the UNHCR releases file, the coverage
// file) match either, so that a compressed copy is known as the
// publication. limits bound the decompressed content as the sources'
// readers do.
func recordInputs(ctx context.Context, conn *sql.Conn, inputs []release.Input, limits sources.Limits) error {
	if _, err := conn.ExecContext(ctx, `CREATE OR REPLACE TABLE inputs (
		source VARCHAR NOT NULL, path VARCHAR NOT NULL, year INTEGER, size BIGINT NOT NULL, sha256 VARCHAR NOT NULL,
		content_sha256 VARCHAR NOT NULL)`); err != nil {
		return fmt.Errorf("create inputs table: %w", err)
	}
	stmt, err := conn.PrepareContext(ctx, `INSERT INTO inputs VALUES (?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return fmt.Errorf("record inputs: %w", err)
	}
	defer stmt.Close()
	for _, in := range inputs {
		var year driver.Value
		if in.Year != 0 {
			year = int32(in.Year)
		}
		content, compressed, err := sources.ContentDigest(in.Path, limits)
		if err != nil {
			return fmt.Errorf("source %s: %w", in.Source, err)
		}
		if !compressed {
			content = in.SHA256
		}
		if _, err := stmt.ExecContext(ctx, in.Source, in.Path, year, in.Size, in.SHA256, content); err != nil {
			return fmt.Errorf("record input %s: %w", in.Path, err)
		}
	}
	return nil
}
