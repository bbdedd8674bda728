package pipeline

import (
	"context"
	"errors"
	"fmt"
	"os"
)

// Query runs one SQL statement on the published database, opened read-only
// so that a query can never change it, and returns the column names and
// rows.
func Query(ctx context.Context, cfg Config, query string) ([]string, [][]any, error) {
	if _, err := os.Stat(cfg.Database); errors.Is(err, os.ErrNotExist) {
		return nil, nil, fmt.Errorf("database %s does not exist yet: run `visastats run` first", cfg.Database)
	}
	db, err := openDB(cfg.Database, true)
	if err != nil {
		return nil, nil, err
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, query)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, nil, err
	}
	var out [][]any
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, nil, err
		}
		out = append(out, vals)
	}
	return cols, out, rows.Err()
}
