package pipeline

import (
	"context"
	"strconv"
	"testing"

	"github.com/apache/arrow/go/v17/arrow/array"
)

// TestSlicedReader reads a result in slices smaller than the result and
// batches: every row arrives once, in order, whatever the slice borders.
func TestSlicedReader(t *testing.T) {
	db := openDuck(t)
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	const n = 250_001
	q := `SELECT range AS i, 'row ' || range AS s FROM range(250001) ORDER BY i`
	for _, slice := range []int64{n + 10, 100_000, 77_777} {
		sr := &slicedReader{ctx: ctx, conn: conn, query: q, total: n, slice: slice}
		if err := sr.open(); err != nil {
			t.Fatal(err)
		}
		var next int64
		for sr.Next() {
			rec := sr.Record()
			ids := rec.Column(0).(*array.Int64)
			strs := rec.Column(1).(*array.String)
			for i := 0; i < ids.Len(); i++ {
				if ids.Value(i) != next || strs.Value(i) != "row "+strconv.FormatInt(next, 10) {
					t.Fatalf("slice %d: row %d is %d %q", slice, next, ids.Value(i), strs.Value(i))
				}
				next++
			}
		}
		if sr.Err() != nil || next != n {
			t.Fatalf("slice %d: read %d rows, err %v", slice, next, sr.Err())
		}
		sr.Release()
	}
}
