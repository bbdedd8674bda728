package pipeline

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"

	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/marcboeker/go-duckdb"
)

// openDB opens (or creates) the DuckDB database at path; "" opens an
// in-memory database.
func openDB(path string, readOnly bool) (*sql.DB, error) {
	dsn := path
	if readOnly {
		dsn += "?access_mode=READ_ONLY"
	}
	db, err := sql.Open("duckdb", dsn)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	if err := db.Ping(); err != nil {
		db.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	return db, nil
}

// queryArrow runs query on conn and passes its result, as Arrow record
// batches, to fn. The reader is only valid inside fn.
func queryArrow(ctx context.Context, conn *sql.Conn, query string, fn func(array.RecordReader) error, args ...any) error {
	return conn.Raw(func(dc any) error {
		c, ok := dc.(driver.Conn)
		if !ok {
			return fmt.Errorf("arrow query: connection is %T, not a DuckDB connection", dc)
		}
		ar, err := duckdb.NewArrowFromConn(c)
		if err != nil {
			return fmt.Errorf("arrow query: %w", err)
		}
		rdr, err := ar.QueryContext(ctx, query, args...)
		if err != nil {
			return fmt.Errorf("arrow query: %w", err)
		}
		defer rdr.Release()
		return fn(rdr)
	})
}
