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

// Eurostat cells are stored normalised: a published series (one
// combination of unit, citizen, sex, age, applicant or decision and geo in
// one file) is one row of raw_eurostat_series, and each of its cells is a
// narrow row of raw_eurostat_cells (series, period, line, value, flags)
// that refers to it by number; periods and flag strings are numbered too.
// The monthly file has some 300,000 series of 200+ months, and storing its
// 60 million cells with their dimensions spelled out on every row costs
// DuckDB several times more than reading the file. The view
// raw_eurostat_asylum joins the parts back into one row per cell.
//
// The parsers hand cells to a batcher that assigns the numbers and builds
// Arrow record batches of cells; DuckDB scans them as a view and one
// INSERT ... SELECT per file stores them. Parsing runs in its own
// goroutine, so Go parses the next batch while DuckDB stores the previous
// one. A file's series are inserted after its cells.

// Dimensions and other string columns the parsers number, in ids order.
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

// esSeriesDims are the dimensions that make a series, in the column order
// of raw_eurostat_series. Freq is not among them: it follows from the
// period, and parsers check that a published freq agrees with it.
var esSeriesDims = [...]int{esUnit, esCitizen, esSex, esAge, esApplicant, esDecision, esGeo}

// eurostatKey is a series' dimension ids, in esSeriesDims order.
type eurostatKey [len(esSeriesDims)]int32

// eurostatBatchRows is the number of cells per record batch: DuckDB's row
// group size, so that each batch fills one row group.
const eurostatBatchRows = 122880

// eurostatMaxCode bounds the period and flag numbers, stored as USMALLINT.
const eurostatMaxCode = 1<<16 - 1

func eurostatCellSchema() *arrow.Schema {
	return arrow.NewSchema([]arrow.Field{
		{Name: "series_id", Type: arrow.PrimitiveTypes.Int32},
		{Name: "period_id", Type: arrow.PrimitiveTypes.Uint16},
		{Name: "line", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		{Name: "value", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "flag_id", Type: arrow.PrimitiveTypes.Uint16},
	}, nil)
}

func eurostatSeriesSchema() *arrow.Schema {
	dict := &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}
	fields := []arrow.Field{
		{Name: "series_id", Type: arrow.PrimitiveTypes.Int32},
		{Name: "line", Type: arrow.PrimitiveTypes.Int64},
	}
	for _, k := range esSeriesDims {
		fields = append(fields, arrow.Field{Name: esDictNames[k], Type: dict})
	}
	return arrow.NewSchema(fields, nil)
}

// eurostatDict numbers the distinct strings of one column.
type eurostatDict struct {
	index  map[string]int32
	values []string
}

// id returns the number of b, adding it when new. The map lookup with a
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
	if d.index == nil {
		d.index = map[string]int32{}
	}
	i := int32(len(d.values))
	d.values = append(d.values, s)
	d.index[s] = i
	return i
}

// array returns the values as an Arrow string array; the caller releases it.
func (d *eurostatDict) array() arrow.Array {
	sb := array.NewStringBuilder(memory.DefaultAllocator)
	defer sb.Release()
	sb.AppendValues(d.values, nil)
	return sb.NewArray()
}

// eurostatStore is what one Load numbers across its files: the strings of
// every column and the series. Period and flag numbers are shared by all
// files, so that the same period is the same number everywhere.
type eurostatStore struct {
	dicts      [esNDict]eurostatDict
	nextSeries int32
}

// eurostatSeries is one series of the file being read.
type eurostatSeries struct {
	key  eurostatKey
	line int64 // the line it was first seen on
}

// eurostatBatcher collects one file's cells column-wise and emits a record
// batch when a line ends with at least size cells pending. It numbers the
// file's series as cells arrive.
type eurostatBatcher struct {
	st    *eurostatStore
	dicts *[esNDict]eurostatDict // st.dicts, for the parsers
	size  int
	emit  func(arrow.Record) error
	path  string

	first    int32 // series id of series[0]
	seriesOf map[eurostatKey]int32
	series   []eurostatSeries
	last     eurostatKey // key of the last cell, to skip the map lookup
	lastID   int32
	haveLast bool

	n, nulls, lineNulls int
	sid                 []int32
	period              []uint16
	line                []int32
	lineValid           []byte
	value               []float64
	valid               []byte
	flag                []uint16
}

func newEurostatBatcher(st *eurostatStore, path string, size int, emit func(arrow.Record) error) *eurostatBatcher {
	b := &eurostatBatcher{st: st, dicts: &st.dicts, size: size, emit: emit, path: path,
		first: st.nextSeries, seriesOf: map[eurostatKey]int32{}}
	b.alloc()
	return b
}

func (b *eurostatBatcher) alloc() {
	c := b.size + b.size/8
	b.sid = make([]int32, 0, c)
	b.period = make([]uint16, 0, c)
	b.line = make([]int32, 0, c)
	b.lineValid = make([]byte, 0, bitutil.BytesForBits(int64(c)))
	b.value = make([]float64, 0, c)
	b.valid = make([]byte, 0, bitutil.BytesForBits(int64(c)))
	b.flag = make([]uint16, 0, c)
	b.n, b.nulls, b.lineNulls = 0, 0, 0
}

func seriesKey(ids *[esNDict]int32) eurostatKey {
	var k eurostatKey
	for i, d := range esSeriesDims {
		k[i] = ids[d]
	}
	return k
}

// newSeries starts a series that must not have been seen in the file: the
// TSV has one line per series, so a repeated one is an error.
func (b *eurostatBatcher) newSeries(line int64, ids *[esNDict]int32) error {
	key := seriesKey(ids)
	if id, ok := b.seriesOf[key]; ok {
		return fmt.Errorf("%w: the series repeats line %d", ErrEurostatDuplicate, b.series[id-b.first].line)
	}
	b.addSeries(key, line)
	return nil
}

func (b *eurostatBatcher) addSeries(key eurostatKey, line int64) int32 {
	id := b.st.nextSeries
	b.st.nextSeries++
	b.seriesOf[key] = id
	b.series = append(b.series, eurostatSeries{key: key, line: line})
	b.last, b.lastID, b.haveLast = key, id, true
	return id
}

// add appends one cell; ok false means the value is not available. A cell
// of a series not seen before starts it.
func (b *eurostatBatcher) add(line int64, ids *[esNDict]int32, v float64, ok bool) error {
	key := seriesKey(ids)
	id := b.lastID
	if !b.haveLast || key != b.last {
		var seen bool
		if id, seen = b.seriesOf[key]; seen {
			b.last, b.lastID = key, id
		} else {
			id = b.addSeries(key, line)
		}
	}
	period, flag := ids[esPeriod], ids[esFlags]
	if period > eurostatMaxCode || flag > eurostatMaxCode {
		return &LocatedError{File: b.path, Line: line,
			Err: fmt.Errorf("more than %d distinct periods or flag strings", eurostatMaxCode+1)}
	}
	if line > 1<<31-1 {
		return &LocatedError{File: b.path, Line: line, Err: errors.New("more than 2^31 lines")}
	}
	if b.n%8 == 0 {
		b.valid = append(b.valid, 0)
		b.lineValid = append(b.lineValid, 0)
	}
	if ok {
		b.valid[b.n/8] |= 1 << (b.n % 8)
	} else {
		b.nulls++
		v = 0
	}
	// The line is stored only where it differs from the series' line:
	// never in the TSV, whose cells share their series' line.
	if line != b.series[id-b.first].line {
		b.lineValid[b.n/8] |= 1 << (b.n % 8)
	} else {
		b.lineNulls++
		line = 0
	}
	b.sid = append(b.sid, id)
	b.period = append(b.period, uint16(period))
	b.line = append(b.line, int32(line))
	b.value = append(b.value, v)
	b.flag = append(b.flag, uint16(flag))
	b.n++
	return nil
}

// endLine is called by parsers between lines.
func (b *eurostatBatcher) endLine() error {
	if b.n < b.size {
		return nil
	}
	return b.flush()
}

// primitiveArray wraps Go slices as an Arrow array of type t without
// copying; valid is read only when nulls > 0.
func primitiveArray(t arrow.DataType, n int, valid []byte, nulls int, data []byte) arrow.Array {
	var bitmap *memory.Buffer
	if nulls > 0 {
		bitmap = memory.NewBufferBytes(valid)
	}
	d := array.NewData(t, n, []*memory.Buffer{bitmap, memory.NewBufferBytes(data)}, nil, nulls, 0)
	defer d.Release()
	return array.MakeFromData(d)
}

// flush emits pending cells, if any.
func (b *eurostatBatcher) flush() error {
	if b.n == 0 {
		return nil
	}
	n := b.n
	cols := []arrow.Array{
		primitiveArray(arrow.PrimitiveTypes.Int32, n, nil, 0, arrow.Int32Traits.CastToBytes(b.sid)),
		primitiveArray(arrow.PrimitiveTypes.Uint16, n, nil, 0, arrow.Uint16Traits.CastToBytes(b.period)),
		primitiveArray(arrow.PrimitiveTypes.Int32, n, b.lineValid, b.lineNulls, arrow.Int32Traits.CastToBytes(b.line)),
		primitiveArray(arrow.PrimitiveTypes.Float64, n, b.valid, b.nulls, arrow.Float64Traits.CastToBytes(b.value)),
		primitiveArray(arrow.PrimitiveTypes.Uint16, n, nil, 0, arrow.Uint16Traits.CastToBytes(b.flag)),
	}
	rec := array.NewRecord(eurostatCellSchema(), cols, int64(n))
	for _, c := range cols {
		c.Release()
	}
	b.alloc()
	return b.emit(rec)
}

// seriesRecord returns the file's series as one record batch.
func (b *eurostatBatcher) seriesRecord() arrow.Record {
	schema := eurostatSeriesSchema()
	n := len(b.series)
	ids := make([]int32, n)
	lines := make([]int64, n)
	idx := make([][]int32, len(esSeriesDims))
	for i := range idx {
		idx[i] = make([]int32, n)
	}
	for i, s := range b.series {
		ids[i] = b.first + int32(i)
		lines[i] = s.line
		for j := range esSeriesDims {
			idx[j][i] = s.key[j]
		}
	}
	cols := []arrow.Array{
		primitiveArray(arrow.PrimitiveTypes.Int32, n, nil, 0, arrow.Int32Traits.CastToBytes(ids)),
		primitiveArray(arrow.PrimitiveTypes.Int64, n, nil, 0, arrow.Int64Traits.CastToBytes(lines)),
	}
	for j, k := range esSeriesDims {
		dict := b.st.dicts[k].array()
		indices := primitiveArray(arrow.PrimitiveTypes.Int32, n, nil, 0, arrow.Int32Traits.CastToBytes(idx[j]))
		cols = append(cols, array.NewDictionaryArray(schema.Field(2+j).Type, indices, dict))
		indices.Release()
		dict.Release()
	}
	rec := array.NewRecord(schema, cols, int64(n))
	for _, c := range cols {
		c.Release()
	}
	return rec
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

// insertArrow runs one INSERT ... SELECT over rdr, registered as a view for
// the statement's duration, and returns the rows inserted.
func insertArrow(ctx context.Context, conn *sql.Conn, rdr array.RecordReader, view, query string, args ...driver.NamedValue) (int64, error) {
	var rows int64
	err := conn.Raw(func(dc any) error {
		c, ok := dc.(driver.Conn)
		if !ok {
			return fmt.Errorf("connection is %T, not a DuckDB connection", dc)
		}
		ar, err := duckdb.NewArrowFromConn(c)
		if err != nil {
			return err
		}
		release, err := ar.RegisterView(rdr, view)
		if err != nil {
			return fmt.Errorf("register arrow view: %w", err)
		}
		defer release()
		ex, ok := dc.(driver.ExecerContext)
		if !ok {
			return errors.New("connection cannot execute statements")
		}
		res, err := ex.ExecContext(ctx, query, args)
		if _, dropErr := ex.ExecContext(context.WithoutCancel(ctx), "DROP VIEW IF EXISTS "+view, nil); dropErr != nil && err == nil {
			err = dropErr
		}
		if err != nil {
			return err
		}
		rows, err = res.RowsAffected()
		return err
	})
	return rows, err
}

// insertEurostat runs parse in a goroutine, inserts the cells it produces
// into raw_eurostat_cells with one statement and then the file's series
// into raw_eurostat_series. It returns the cells and series inserted; a
// parse error wins over the error DuckDB reports for the aborted scan.
func insertEurostat(ctx context.Context, conn *sql.Conn, st *eurostatStore, meta *eurostatFileMeta, parse func(ctx context.Context, b *eurostatBatcher) error) (cells, series int64, err error) {
	parent := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch := make(chan arrow.Record, 2)
	stream := &eurostatStream{schema: eurostatCellSchema(), ch: ch, done: ctx.Done()}
	stream.refs.Store(1)

	b := newEurostatBatcher(st, meta.path, eurostatBatchRows, func(rec arrow.Record) error {
		select {
		case ch <- rec:
			return nil
		case <-ctx.Done():
			rec.Release()
			return ctx.Err()
		}
	})
	var parseErr error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(ch)
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

	cells, insertErr := insertArrow(ctx, conn, stream, "eurostat_cell_batches",
		`INSERT INTO raw_eurostat_cells SELECT series_id, period_id, line, value, flag_id FROM eurostat_cell_batches`)
	cancel()
	wg.Wait()
	// Drain batches the scan did not take.
	for rec := range ch {
		rec.Release()
	}
	switch {
	case parent.Err() != nil:
		return 0, 0, parent.Err()
	case parseErr != nil && !errors.Is(parseErr, context.Canceled):
		return 0, 0, parseErr
	case insertErr != nil:
		return 0, 0, fmt.Errorf("insert %s into raw_eurostat_cells: %w", meta.path, insertErr)
	case parseErr != nil:
		return 0, 0, parseErr
	}

	rec := b.seriesRecord()
	defer rec.Release()
	rdr, err := array.NewRecordReader(rec.Schema(), []arrow.Record{rec})
	if err != nil {
		return 0, 0, fmt.Errorf("insert %s into raw_eurostat_series: %w", meta.path, err)
	}
	defer rdr.Release()
	series, err = insertArrow(parent, conn, rdr, "eurostat_series_batch", `INSERT INTO raw_eurostat_series
		SELECT series_id, $1, $2, line, $3, $4, unit, citizen, sex, age, applicant, decision, geo
		FROM eurostat_series_batch`,
		driver.NamedValue{Ordinal: 1, Value: meta.dataset},
		driver.NamedValue{Ordinal: 2, Value: meta.path},
		driver.NamedValue{Ordinal: 3, Value: meta.format},
		driver.NamedValue{Ordinal: 4, Value: meta.coding})
	if err != nil {
		return 0, 0, fmt.Errorf("insert %s into raw_eurostat_series: %w", meta.path, err)
	}
	return cells, series, nil
}
