package sources

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"fmt"
	"io"
	"os"

	"github.com/marcboeker/go-duckdb"
)

// Source is one upstream publication family that visastats can load.
type Source interface {
	// Name is the stable identifier of the source, used in config, logs and
	// the observations' dataset column.
	Name() string
	// Inputs lists the files the source would read, resolved from its
	// configuration. It returns an error when a configured path cannot be
	// read or a file's metadata (such as its year) cannot be determined.
	Inputs(ctx context.Context) ([]Input, error)
	// Load reads every input and writes the source's raw tables through
	// conn, replacing earlier contents. It returns the rows written per
	// table. On error nothing is guaranteed about the raw tables; the caller
	// runs Load inside a transaction or discards the database.
	Load(ctx context.Context, conn *sql.Conn) (Stats, error)
}

// Input is one file a source reads.
type Input struct {
	// Path is the file's path as configured (relative to the working
	// directory or absolute).
	Path string
	// Year is the reference year of the file when the source has one per
	// file, otherwise 0.
	Year int
}

// Stats reports what a Load wrote: rows per raw table.
type Stats struct {
	Tables map[string]int64
}

// Rows is the total number of rows written across tables.
func (s Stats) Rows() int64 {
	var n int64
	for _, v := range s.Tables {
		n += v
	}
	return n
}

func (s *Stats) add(table string, n int64) {
	if s.Tables == nil {
		s.Tables = map[string]int64{}
	}
	s.Tables[table] += n
}

// Config holds the typed configuration of every source.
type Config struct {
	Reference  ReferenceConfig
	ECSchengen ECSchengenConfig
	Eurostat   EurostatConfig
	UNHCR      UNHCRConfig
	RUMFA      RUMFAConfig
	Claims     ClaimsConfig
	Coverage   PeriodCoverageConfig
	// UpstreamIssues is read by the sources whose loaders find upstream
	// discrepancies (the EC workbooks).
	UpstreamIssues UpstreamIssuesConfig
}

// All returns every source in load order. Adding one means a file, its
// testdata, and a line here.
func All(cfg Config) []Source {
	return []Source{
		NewReference(cfg.Reference),
		NewECSchengen(cfg.ECSchengen, cfg.UpstreamIssues),
		NewEurostat(cfg.Eurostat),
		NewUNHCR(cfg.UNHCR),
		NewRUMFA(cfg.RUMFA),
		NewClaims(cfg.Claims),
		NewPeriodCoverage(cfg.Coverage),
	}
}

// FileDigest returns the size and the hex SHA-256 of the file at path.
func FileDigest(path string) (int64, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, "", fmt.Errorf("hash %s: %w", path, err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return 0, "", fmt.Errorf("hash %s: %w", path, err)
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}

// appendRows streams rows into an existing DuckDB table through the
// appender, the fastest way to bulk-load from Go. The fill function calls
// add once per row with values in the table's column order.
func appendRows(ctx context.Context, conn *sql.Conn, table string, fill func(add func(vals ...driver.Value) error) error) (int64, error) {
	var n int64
	err := conn.Raw(func(dc any) error {
		c, ok := dc.(driver.Conn)
		if !ok {
			return fmt.Errorf("append to %s: connection is %T, not a DuckDB connection", table, dc)
		}
		app, err := duckdb.NewAppenderFromConn(c, "", table)
		if err != nil {
			return fmt.Errorf("append to %s: %w", table, err)
		}
		fillErr := fill(func(vals ...driver.Value) error {
			if n%8192 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			n++
			return app.AppendRow(vals...)
		})
		closeErr := app.Close()
		if fillErr != nil {
			return fillErr
		}
		if closeErr != nil {
			return fmt.Errorf("append to %s: %w", table, closeErr)
		}
		return nil
	})
	return n, err
}
