package sources

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/bitutil"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/marcboeker/go-duckdb"
)

// The parsers hand cells to a batcher that builds Arrow record batches with
// dictionary-encoded string columns; DuckDB scans them as a view and one
// INSERT ... SELECT per file copies them into raw_eurostat_asylum. Parsing
// runs in its own goroutine, so Go parses the next batch while DuckDB
// stores the previous one. Columns that are constant in a file (dataset,
// file, format, coding) travel as query parameters, not per row.

// Dictionary-encoded columns of a batch, in record order after line.
const (
	esFreq = iota
	esUnit
	esCitizen
	esSex
	esAge
	esApplicant
	esDecision
	esGeo
	esPeriod
	esFlags
	esNDict
)

var esDictNames = [esNDict]string{"freq", "unit", "citizen", "sex", "age", "applicant", "decision", "geo", "period", "flags"}

// eurostatBatchRows is the number of cells per record batch: DuckDB's row
// group size, so that each batch fills one row group.
const eurostatBatchRows = 122880

// eurostatDictLimit bounds a column's dictionary; past it the dictionaries
// start afresh at the next batch, so that a file with many distinct labels
// costs memory per batch, not per file.
const eurostatDictLimit = 1 << 16

func eurostatSchema() *arrow.Schema {
	dict := &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}
	fields := []arrow.Field{{Name: "line", Type: arrow.PrimitiveTypes.Int64}}
	for k := 0; k < esNDict; k++ {
		if k == esFlags {
			fields = append(fields, arrow.Field{Name: "value", Type: arrow.PrimitiveTypes.Float64, Nullable: true})
		}
		fields = append(fields, arrow.Field{Name: esDictNames[k], Type: dict})
	}
	return arrow.NewSchema(fields, nil)
}

// eurostatDict interns the strings of one column.
type eurostatDict struct {
	index  map[string]int32
	values []string
	arr    arrow.Array // dictionary of values, rebuilt when values grew
}

func (d *eurostatDict) reset() {
	d.index = map[string]int32{}
	d.values = d.values[:0]
	if d.arr != nil {
		d.arr.Release()
		d.arr = nil
	}
}

// id returns the index of b, adding it when new. The map lookup with a
// converted []byte does not allocate.
func (d *eurostatDict) id(b []byte) int32 {
	if i, ok := d.index[string(b)]; ok {
		return i
	}
	return d.add(string(b))
}

func (d *eurostatDict) idString(s string) int32 {
	if i, ok := d.index[s]; ok {
		return i
	}
	return d.add(s)
}

func (d *eurostatDict) add(s string) int32 {
	i := int32(len(d.values))
	d.values = append(d.values, s)
	d.index[s] = i
	return i
}

func (d *eurostatDict) array() arrow.Array {
	if d.arr != nil && d.arr.Len() == len(d.values) {
		return d.arr
	}
	if d.arr != nil {
		d.arr.Release()
	}
	sb := array.NewStringBuilder(memory.DefaultAllocator)
	sb.AppendValues(d.values, nil)
	d.arr = sb.NewArray()
	sb.Release()
	return d.arr
}

// eurostatBatcher collects cells column-wise and emits a record batch when
// a line ends with at least size cells pending. Parsers keep
// dictionary ids between cells; gen changes when the dictionaries start
// afresh, and ids taken under an older gen must be taken again.
type eurostatBatcher struct {
	schema *arrow.Schema
	dicts  [esNDict]eurostatDict
	gen    int
	size   int // cells per batch
	emit   func(arrow.Record) error

	n     int
	nulls int
	line  []int64
	value []float64
	valid []byte
	idx   [esNDict][]int32
}

func newEurostatBatcher(size int, emit func(arrow.Record) error) *eurostatBatcher {
	b := &eurostatBatcher{schema: eurostatSchema(), size: size, emit: emit}
	for k := range b.dicts {
		b.dicts[k].reset()
	}
	b.alloc()
	return b
}

func (b *eurostatBatcher) alloc() {
	c := b.size + b.size/8
	b.line = make([]int64, 0, c)
	b.value = make([]float64, 0, c)
	b.valid = make([]byte, 0, bitutil.BytesForBits(int64(c)))
	for k := range b.idx {
		b.idx[k] = make([]int32, 0, c)
	}
	b.n, b.nulls = 0, 0
}

// add appends one cell; ok false means the value is not available.
func (b *eurostatBatcher) add(line int64, ids *[esNDict]int32, v float64, ok bool) {
	if b.n%8 == 0 {
		b.valid = append(b.valid, 0)
	}
	if ok {
		b.valid[b.n/8] |= 1 << (b.n % 8)
	} else {
		b.nulls++
		v = 0
	}
	b.line = append(b.line, line)
	b.value = append(b.value, v)
	for k := range ids {
		b.idx[k] = append(b.idx[k], ids[k])
	}
	b.n++
}

// endLine is called by parsers between lines: batches never split a line,
// so dictionary ids taken for a line stay valid for all its cells.
func (b *eurostatBatcher) endLine() error {
	if b.n < b.size {
		return nil
	}
	return b.flush()
}

// flush emits pending cells, if any.
func (b *eurostatBatcher) flush() error {
	if b.n == 0 {
		return nil
	}
	n := b.n
	cols := make([]arrow.Array, 0, esNDict+2)
	cols = append(cols, array.NewInt64Data(array.NewData(arrow.PrimitiveTypes.Int64, n,
		[]*memory.Buffer{nil, memory.NewBufferBytes(arrow.Int64Traits.CastToBytes(b.line))}, nil, 0, 0)))
	dictType := b.schema.Field(1).Type
	for k := 0; k < esNDict; k++ {
		if k == esFlags {
			var bitmap *memory.Buffer
			if b.nulls > 0 {
				bitmap = memory.NewBufferBytes(b.valid)
			}
			cols = append(cols, array.NewFloat64Data(array.NewData(arrow.PrimitiveTypes.Float64, n,
				[]*memory.Buffer{bitmap, memory.NewBufferBytes(arrow.Float64Traits.CastToBytes(b.value))}, nil, b.nulls, 0)))
		}
		indices := array.NewInt32Data(array.NewData(arrow.PrimitiveTypes.Int32, n,
			[]*memory.Buffer{nil, memory.NewBufferBytes(arrow.Int32Traits.CastToBytes(b.idx[k]))}, nil, 0, 0))
		cols = append(cols, array.NewDictionaryArray(dictType, indices, b.dicts[k].array()))
		indices.Release()
	}
	rec := array.NewRecord(b.schema, cols, int64(n))
	for _, c := range cols {
		c.Release()
	}
	b.alloc()
	big := false
	for k := range b.dicts {
		big = big || len(b.dicts[k].values) > eurostatDictLimit
	}
	if big {
		for k := range b.dicts {
			b.dicts[k].reset()
		}
		b.gen++
	}
	return b.emit(rec)
}

func (b *eurostatBatcher) release() {
	for k := range b.dicts {
		if b.dicts[k].arr != nil {
			b.dicts[k].arr.Release()
			b.dicts[k].arr = nil
		}
	}
}

// eurostatStream is the array.RecordReader DuckDB scans. Next blocks until
// the parser goroutine sends a batch or finishes.
type eurostatStream struct {
	refs   atomic.Int64
	schema *arrow.Schema
	ch     <-chan arrow.Record
	done   <-chan struct{}
	cur    arrow.Record
	mu     sync.Mutex
	err    error
}

func (s *eurostatStream) Retain()               { s.refs.Add(1) }
func (s *eurostatStream) Release()              { s.refs.Add(-1) }
func (s *eurostatStream) Schema() *arrow.Schema { return s.schema }
func (s *eurostatStream) Record() arrow.Record  { return s.cur }

func (s *eurostatStream) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

func (s *eurostatStream) setErr(err error) {
	s.mu.Lock()
	s.err = err
	s.mu.Unlock()
}

func (s *eurostatStream) Next() bool {
	if s.cur != nil {
		s.cur.Release()
		s.cur = nil
	}
	select {
	case rec, ok := <-s.ch:
		if !ok {
			return false
		}
		s.cur = rec
		return true
	case <-s.done:
		return false
	}
}

// insertEurostat runs parse in a goroutine and inserts what it produces
// into raw_eurostat_asylum with one statement. It returns the rows
// inserted; a parse error wins over the error DuckDB reports for the
// aborted scan.
func insertEurostat(ctx context.Context, conn *sql.Conn, meta *eurostatFileMeta, parse func(ctx context.Context, b *eurostatBatcher) error) (int64, error) {
	parent := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch := make(chan arrow.Record, 2)
	stream := &eurostatStream{schema: eurostatSchema(), ch: ch, done: ctx.Done()}
	stream.refs.Store(1)

	var parseErr error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(ch)
		b := newEurostatBatcher(eurostatBatchRows, func(rec arrow.Record) error {
			select {
			case ch <- rec:
				return nil
			case <-ctx.Done():
				rec.Release()
				return ctx.Err()
			}
		})
		defer b.release()
		err := parse(ctx, b)
		if err == nil {
			err = b.flush()
		}
		if err != nil {
			parseErr = err
			stream.setErr(err)
			cancel()
		}
	}()

	var rows int64
	insertErr := conn.Raw(func(dc any) error {
		c, ok := dc.(driver.Conn)
		if !ok {
			return fmt.Errorf("insert %s: connection is %T, not a DuckDB connection", meta.path, dc)
		}
		ar, err := duckdb.NewArrowFromConn(c)
		if err != nil {
			return fmt.Errorf("insert %s: %w", meta.path, err)
		}
		const view = "eurostat_asylum_batches"
		release, err := ar.RegisterView(stream, view)
		if err != nil {
			return fmt.Errorf("insert %s: register arrow view: %w", meta.path, err)
		}
		defer release()
		ex, ok := dc.(driver.ExecerContext)
		if !ok {
			return fmt.Errorf("insert %s: connection cannot execute statements", meta.path)
		}
		res, err := ex.ExecContext(ctx, `INSERT INTO raw_eurostat_asylum
			SELECT $1, $2, line, $3, freq, unit, citizen, sex, age, applicant, decision, geo, $4, period, value, flags
			FROM eurostat_asylum_batches`, []driver.NamedValue{
			{Ordinal: 1, Value: meta.dataset},
			{Ordinal: 2, Value: meta.path},
			{Ordinal: 3, Value: meta.format},
			{Ordinal: 4, Value: meta.coding},
		})
		if _, dropErr := ex.ExecContext(context.WithoutCancel(ctx), "DROP VIEW IF EXISTS "+view, nil); dropErr != nil && err == nil {
			err = dropErr
		}
		if err != nil {
			return fmt.Errorf("insert %s into %s: %w", meta.path, eurostatTable, err)
		}
		rows, err = res.RowsAffected()
		return err
	})
	cancel()
	wg.Wait()
	// Drain batches the scan did not take.
	for rec := range ch {
		rec.Release()
	}
	if err := parent.Err(); err != nil {
		return 0, err
	}
	if parseErr != nil && !errors.Is(parseErr, context.Canceled) {
		return 0, parseErr
	}
	if insertErr != nil {
		return 0, insertErr
	}
	if parseErr != nil {
		return 0, parseErr
	}
	return rows, nil
}
