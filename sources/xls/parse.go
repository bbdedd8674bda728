package xls

import (
	"errors"
	"fmt"
	"math"
	"strconv"
)

// parser reads one Workbook stream.
type parser struct {
	path   string
	lim    Limits
	r      recordReader
	sheet  string // the worksheet being read, for errors
	sst    []string
	dec    stringDecoder
	budget int64 // cell slots left; see cellBudget
	names  *nameTable
}

// nameTable holds what formulas need from the workbook globals to show
// names and 3-D references: the NAME records, every BOUNDSHEET name
// (worksheets, charts, macro sheets), the SUPBOOK records (which one is
// this workbook) and the EXTERNSHEET entries.
type nameTable struct {
	defined  []string // NAME records in order; tName's index is 1-based into them
	sheets   []string // BOUNDSHEET names in order, which EXTERNSHEET entries index
	selfBook []bool   // per SUPBOOK, in order: does it stand for this workbook?
	xti      []xti
}

// xti is one EXTERNSHEET entry: a range of sheets of a SUPBOOK.
type xti struct{ book, first, last int }

// boundSheet is a worksheet announced in the globals.
type boundSheet struct {
	sheet  *Sheet
	offset int64
	found  bool
}

// parse reads the records of a Workbook stream.
func parse(path string, stream []byte, lim Limits) (*Workbook, error) {
	p := &parser{
		path:   path,
		lim:    lim,
		r:      recordReader{buf: stream},
		dec:    stringDecoder{maxBytes: lim.MaxCellBytes},
		budget: cellBudget(len(stream)),
		names:  &nameTable{},
	}
	bound, err := p.globals()
	if err != nil {
		return nil, err
	}
	if err := p.substreams(bound); err != nil {
		return nil, err
	}
	wb := &Workbook{Sheets: make([]*Sheet, 0, len(bound))}
	for _, b := range bound {
		trim(b.sheet)
		wb.Sheets = append(wb.Sheets, b.sheet)
	}
	return wb, nil
}

// fail returns a *FormatError at rec.
func (p *parser) fail(rec record, err error, format string, args ...any) error {
	return &FormatError{
		Path: p.path, Sheet: p.sheet, Offset: rec.off, Record: rec.typ,
		RecordName: recordNames[rec.typ], Msg: fmt.Sprintf(format, args...), Err: err,
	}
}

// short reports a record too short for its fixed fields.
func (p *parser) short(rec record, need int) error {
	return p.fail(rec, nil, "the record is %d bytes, shorter than the %d its fields need", len(rec.data), need)
}

// next returns the next record; ok is false at the end of the stream.
func (p *parser) next() (record, bool, error) {
	rec, ok, err := p.r.next()
	if err != nil {
		return rec, false, p.fail(rec, nil, "%v", err)
	}
	return rec, ok, nil
}

// strErr wraps an error from stringDecoder, keeping ErrLimit visible.
func (p *parser) strErr(rec record, err error, what string) error {
	var le *limitError
	if errors.As(err, &le) {
		return p.fail(rec, ErrLimit, "%s: %s", what, le.Error())
	}
	return p.fail(rec, nil, "%s: %v", what, err)
}

// globals reads the workbook globals substream, which must come first, and
// returns the worksheets it announces.
func (p *parser) globals() ([]*boundSheet, error) {
	rec, ok, err := p.next()
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, p.fail(record{off: -1}, nil, "the Workbook stream is empty")
	}
	switch rec.typ {
	case 0x0009, 0x0209, 0x0409:
		return nil, p.fail(rec, ErrUnsupported, "a BIFF2-4 workbook (Excel 4 or older)")
	case recBOF:
	default:
		return nil, p.fail(rec, nil, "the Workbook stream does not start with a BOF record")
	}
	if len(rec.data) < 4 {
		return nil, p.short(rec, 4)
	}
	if v := u16(rec.data, 0); v != biff8 {
		return nil, p.fail(rec, ErrUnsupported, "BOF version 0x%04X, not BIFF8 (0x0600): a BIFF5/7 workbook (Excel 95 or older) or an unknown one", v)
	}
	if dt := u16(rec.data, 2); dt != bofGlobals {
		return nil, p.fail(rec, nil, "the first substream is of type 0x%04X, not the workbook globals", dt)
	}
	var bound []*boundSheet
	offsets := map[int64]string{}
	for {
		rec, ok, err := p.next()
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, p.fail(record{off: int64(len(p.r.buf))}, nil, "the workbook globals end without an EOF record")
		}
		switch rec.typ {
		case recEOF:
			return bound, nil
		case recFILEPASS:
			return nil, p.fail(rec, ErrUnsupported, "the workbook is encrypted or password-protected; save an unprotected copy")
		case recBOUNDSHEET:
			b, err := p.boundSheet(rec, offsets)
			if err != nil {
				return nil, err
			}
			if b != nil {
				bound = append(bound, b)
			}
		case recSST:
			if err := p.readSST(rec, p.r.continues(rec)); err != nil {
				return nil, err
			}
		case recNAME:
			name, err := p.definedName(rec)
			if err != nil {
				return nil, err
			}
			p.names.defined = append(p.names.defined, name)
		case recSUPBOOK:
			// A SUPBOOK of this workbook holds its sheet count and the marker 0x0401.
			p.names.selfBook = append(p.names.selfBook, len(rec.data) == 4 && u16(rec.data, 2) == 0x0401)
		case recEXTERNSHEET:
			if len(rec.data) < 2 {
				return nil, p.short(rec, 2)
			}
			n := min(u16(rec.data, 0), (len(rec.data)-2)/6)
			for k := range n {
				e := rec.data[2+6*k:]
				p.names.xti = append(p.names.xti, xti{book: u16(e, 0), first: u16(e, 2), last: u16(e, 4)})
			}
		}
	}
}

// boundSheet reads a BOUNDSHEET record; it returns nil for sheets other than
// worksheets (charts, macro sheets, VBA modules), which Open skips.
func (p *parser) boundSheet(rec record, offsets map[int64]string) (*boundSheet, error) {
	if len(rec.data) < 8 {
		return nil, p.short(rec, 8)
	}
	s := segments{recs: []record{{typ: rec.typ, off: rec.off, data: rec.data[6:]}}}
	name, err := p.dec.read(&s, 1)
	if err != nil {
		return nil, p.strErr(rec, err, "the sheet name")
	}
	p.names.sheets = append(p.names.sheets, name)
	if rec.data[5] != 0 { // dt: 0 worksheet or dialog, 1 macro sheet, 2 chart, 6 VBA module
		return nil, nil
	}
	off := int64(u32(rec.data, 0))
	if other, dup := offsets[off]; dup {
		return nil, p.fail(rec, nil, "sheet %q starts at offset %d, as sheet %q does", name, off, other)
	}
	offsets[off] = name
	return &boundSheet{
		sheet:  &Sheet{Name: name, Hidden: rec.data[4]&3 != 0, names: p.names},
		offset: off,
	}, nil
}

// builtinNames are the names Excel defines itself, stored as one character.
var builtinNames = map[string]string{
	"\x00": "Consolidate_Area", "\x01": "Auto_Open", "\x02": "Auto_Close", "\x03": "Extract",
	"\x04": "Database", "\x05": "Criteria", "\x06": "Print_Area", "\x07": "Print_Titles",
	"\x08": "Recorder", "\x09": "Data_Form", "\x0A": "Auto_Activate", "\x0B": "Auto_Deactivate",
	"\x0C": "Sheet_Title", "\x0D": "_FilterDatabase",
}

// definedName reads the name of a NAME record, for formulas that use it.
func (p *parser) definedName(rec record) (string, error) {
	d := rec.data
	if len(d) < 15 {
		return "", p.short(rec, 15)
	}
	s := segments{recs: []record{{typ: rec.typ, off: rec.off, data: d[15:]}}}
	var err error
	p.dec.units, err = s.chars(p.dec.units[:0], int(d[3]), d[14]&strHighByte != 0)
	if err != nil {
		return "", p.fail(rec, nil, "the name: %v", err)
	}
	name, err := p.dec.utf8()
	if err != nil {
		return "", p.strErr(rec, err, "the name")
	}
	if b, ok := builtinNames[name]; ok && d[0]&0x20 != 0 {
		name = b
	}
	return name, nil
}

// readSST reads the shared string table from the SST record and its
// CONTINUE records.
func (p *parser) readSST(rec record, recs []record) error {
	s := segments{recs: recs}
	if _, ok := s.fixed(4); !ok {
		return p.short(rec, 8)
	}
	count, ok := s.fixed(4)
	if !ok {
		return p.short(rec, 8)
	}
	// Every string takes at least three bytes, so the count claimed cannot
	// size the table beyond what the records hold.
	p.sst = make([]string, 0, min(int64(count), int64(s.left()/3)))
	for k := int64(0); k < int64(count); k++ {
		str, err := p.dec.read(&s, 2)
		if err != nil {
			if errors.Is(err, errShort) && s.left() == 0 {
				return p.fail(rec, nil, "the table declares %s strings but its records end after %s",
					commas(int64(count)), commas(k))
			}
			return p.strErr(s.at(), err, "SST string "+commas(k))
		}
		p.sst = append(p.sst, str)
	}
	return nil
}

// substreams walks the substreams after the globals, reading the worksheets
// the globals announced and skipping all others. Once it has read every
// worksheet, damage in what follows (a cut chart or pivot cache, stray
// bytes) is no reason to refuse the file.
func (p *parser) substreams(bound []*boundSheet) error {
	at := make(map[int64]*boundSheet, len(bound))
	for _, b := range bound {
		at[b.offset] = b
	}
	for left := len(bound); ; {
		rec, ok, err := p.next()
		if err != nil && left > 0 {
			return err
		}
		if !ok {
			break
		}
		if rec.typ != recBOF {
			continue // padding or debris between substreams
		}
		b := at[rec.off]
		if b == nil {
			if err := p.skipSubstream(); err != nil && left > 0 {
				return err
			} else if err != nil {
				break
			}
			continue
		}
		p.sheet = b.sheet.Name
		if len(rec.data) < 4 {
			return p.short(rec, 4)
		}
		if dt := u16(rec.data, 2); dt != bofWorksheet {
			return p.fail(rec, nil, "BOUNDSHEET announces a worksheet but the substream is of type 0x%04X", dt)
		}
		b.found = true
		left--
		if err := p.worksheet(b.sheet); err != nil {
			return err
		}
		p.sheet = ""
	}
	for _, b := range bound {
		if !b.found {
			return &FormatError{Path: p.path, Sheet: b.sheet.Name, Offset: -1,
				Msg: fmt.Sprintf("no worksheet substream starts at offset %d, where BOUNDSHEET says it does", b.offset)}
		}
	}
	return nil
}

// skipSubstream moves past the EOF that closes the substream just opened,
// and past any substreams nested in it.
func (p *parser) skipSubstream() error {
	for depth := 1; depth > 0; {
		rec, ok, err := p.next()
		if err != nil {
			return err
		}
		if !ok {
			return p.fail(record{off: int64(len(p.r.buf))}, nil, "a substream ends without an EOF record")
		}
		switch rec.typ {
		case recBOF:
			depth++
		case recEOF:
			depth--
		}
	}
	return nil
}

// worksheet reads the cells of a worksheet substream up to its EOF.
func (p *parser) worksheet(sh *Sheet) error {
	sh.formulas = map[uint32]span{}
	sh.shared = map[uint32]sharedFormula{}
	pending := int64(-1) // a FORMULA whose string result comes in the next STRING record
	for depth := 1; ; {
		rec, ok, err := p.next()
		if err != nil {
			return err
		}
		if !ok {
			return p.fail(record{off: int64(len(p.r.buf))}, nil, "the worksheet ends without an EOF record")
		}
		switch rec.typ {
		case recBOF: // an embedded chart or object: not cells of this sheet
			depth++
			continue
		case recEOF:
			if depth--; depth == 0 {
				return nil
			}
			continue
		}
		if depth > 1 {
			continue
		}
		switch rec.typ {
		case recSTRING:
			if pending < 0 {
				continue
			}
			row, col := int(pending>>16), int(pending&0xFFFF)
			pending = -1
			s := segments{recs: p.r.continues(rec)}
			str, err := p.dec.read(&s, 2)
			if err != nil {
				return p.strErr(rec, err, "the string result of a formula")
			}
			if err := p.put(sh, rec, row, col, str); err != nil {
				return err
			}
		case recSHRFMLA:
			if err := p.sharedFormula(sh, rec); err != nil {
				return err
			}
		case recARRAY, recTABLE, recCONTINUE:
			// A STRING may still follow a FORMULA after these.
		case recFORMULA:
			pending = -1
			str, isString, err := p.formula(sh, rec)
			if err != nil {
				return err
			}
			if isString {
				pending = int64(cellKey(u16(rec.data, 0), u16(rec.data, 2)))
			} else if err := p.put(sh, rec, u16(rec.data, 0), u16(rec.data, 2), str); err != nil {
				return err
			}
		default:
			if cellFields(rec.typ) != 0 {
				pending = -1 // no STRING came: the result stays empty
			}
			if err := p.cell(sh, rec); err != nil {
				return err
			}
		}
	}
}

// cellFields returns, for the value records other than FORMULA and
// STRING, the size of their fixed fields (for MULRK and MULBLANK, with one
// cell), and 0 for other records.
func cellFields(typ uint16) int {
	switch typ {
	case recNUMBER:
		return 14
	case recRK, recLABELSST:
		return 10
	case recLABEL, recRSTRING:
		return 9
	case recBOOLERR, recMULBLANK:
		return 8
	case recBLANK:
		return 6
	case recMULRK:
		return 12
	}
	return 0
}

// cell reads the value records of cellFields; it ignores records of other
// types.
func (p *parser) cell(sh *Sheet, rec record) error {
	d := rec.data
	need := cellFields(rec.typ)
	if need == 0 {
		return nil
	}
	if len(d) < need {
		return p.short(rec, need)
	}
	row, col := u16(d, 0), u16(d, 2)
	switch rec.typ {
	case recNUMBER:
		return p.put(sh, rec, row, col, number(math.Float64frombits(uint64(u32(d, 6))|uint64(u32(d, 10))<<32)))
	case recRK:
		return p.put(sh, rec, row, col, number(rkValue(u32(d, 6))))
	case recLABELSST:
		i := u32(d, 6)
		if int64(i) >= int64(len(p.sst)) {
			return p.fail(rec, nil, "SST index %s out of range (the table holds %s strings)",
				commas(int64(i)), commas(int64(len(p.sst))))
		}
		return p.put(sh, rec, row, col, p.sst[i])
	case recLABEL, recRSTRING:
		s := segments{recs: []record{{typ: rec.typ, off: rec.off, data: d[6:]}}}
		str, err := p.dec.read(&s, 2) // RSTRING's formatting runs follow, unflagged: ignored
		if err != nil {
			return p.strErr(rec, err, "the cell's text")
		}
		return p.put(sh, rec, row, col, str)
	case recBOOLERR:
		return p.put(sh, rec, row, col, boolErr(d[6], d[7] != 0))
	case recBLANK:
		return p.check(sh, rec, row, col)
	case recMULRK, recMULBLANK:
		return p.multi(sh, rec)
	}
	return nil
}

// multi reads MULRK (RK values) and MULBLANK (blanks) for a run of
// columns: the first column, one entry per column, the last column.
func (p *parser) multi(sh *Sheet, rec record) error {
	d := rec.data
	width := 6 // ixfe and RK
	if rec.typ == recMULBLANK {
		width = 2 // ixfe
	}
	row, first, last := u16(d, 0), u16(d, 2), u16(d, len(d)-2)
	n := (len(d) - 6) / width
	if (len(d)-6)%width != 0 || last < first || last-first+1 != n {
		return p.fail(rec, nil, "columns %d to %d do not match the record's %d bytes", first, last, len(d))
	}
	if err := p.check(sh, rec, row, last); err != nil {
		return err
	}
	if rec.typ == recMULBLANK {
		return nil
	}
	for k := range n {
		if err := p.put(sh, rec, row, first+k, number(rkValue(u32(d, 4+6*k+2)))); err != nil {
			return err
		}
	}
	return nil
}

// formula reads a FORMULA record: it keeps the tokens and returns the cached
// result as text, or isString when the text comes in a STRING record.
func (p *parser) formula(sh *Sheet, rec record) (text string, isString bool, err error) {
	d := rec.data
	if len(d) < 22 {
		return "", false, p.short(rec, 22)
	}
	row, col := u16(d, 0), u16(d, 2)
	if err := p.check(sh, rec, row, col); err != nil {
		return "", false, err
	}
	cce := u16(d, 20)
	if 22+cce > len(d) {
		return "", false, p.fail(rec, nil, "%d bytes of formula tokens overrun the record's %d bytes", cce, len(d))
	}
	sh.formulas[cellKey(row, col)] = span{off: uint32(len(sh.rgce)), n: uint32(cce)}
	sh.rgce = append(sh.rgce, d[22:22+cce]...)
	if u16(d, 12) != 0xFFFF { // a number; otherwise d[6] says what the result is
		return number(math.Float64frombits(uint64(u32(d, 6)) | uint64(u32(d, 10))<<32)), false, nil
	}
	switch d[6] {
	case 0:
		return "", true, nil
	case 1:
		return boolErr(d[8], false), false, nil
	case 2:
		return boolErr(d[8], true), false, nil
	case 3:
		return "", false, nil
	}
	return "", false, p.fail(rec, nil, "unknown type %d of the cached formula result", d[6])
}

// sharedFormula keeps a SHRFMLA record: the tokens that the cells of its
// range share, with references relative to each cell.
func (p *parser) sharedFormula(sh *Sheet, rec record) error {
	d := rec.data
	if len(d) < 10 {
		return p.short(rec, 10)
	}
	cce := u16(d, 8)
	if 10+cce > len(d) {
		return p.fail(rec, nil, "%d bytes of formula tokens overrun the record's %d bytes", cce, len(d))
	}
	sh.shared[cellKey(u16(d, 0), int(d[4]))] = sharedFormula{
		lastRow: u16(d, 2), lastCol: int(d[5]),
		tokens: span{off: uint32(len(sh.rgce)), n: uint32(cce)},
	}
	sh.rgce = append(sh.rgce, d[10:10+cce]...)
	return nil
}

// check refuses a cell beyond Limits.MaxRows or Limits.MaxColumns.
func (p *parser) check(sh *Sheet, rec record, row, col int) error {
	if row >= p.lim.MaxRows {
		return p.fail(rec, ErrLimit, "row %s is beyond Limits.MaxRows (%s)", commas(int64(row+1)), commas(int64(p.lim.MaxRows)))
	}
	if col >= p.lim.MaxColumns {
		return p.fail(rec, ErrLimit, "column %s (0-based) is beyond Limits.MaxColumns (%s)", commas(int64(col)), commas(int64(p.lim.MaxColumns)))
	}
	return nil
}

// put stores a cell's text, growing the sheet's rows within the cell budget.
// Empty text needs no slot: it only clears one a previous record filled.
func (p *parser) put(sh *Sheet, rec record, row, col int, text string) error {
	if err := p.check(sh, rec, row, col); err != nil {
		return err
	}
	if text == "" {
		if row < len(sh.Rows) && col < len(sh.Rows[row]) {
			sh.Rows[row][col] = ""
		}
		return nil
	}
	if row >= len(sh.Rows) {
		if err := p.spend(rec, row+1-len(sh.Rows)); err != nil {
			return err
		}
		sh.Rows = append(sh.Rows, make([][]string, row+1-len(sh.Rows))...)
	}
	cells := sh.Rows[row]
	if col >= len(cells) {
		if err := p.spend(rec, col+1-len(cells)); err != nil {
			return err
		}
		cells = append(cells, make([]string, col+1-len(cells))...)
		sh.Rows[row] = cells
	}
	cells[col] = text
	return nil
}

// spend takes n slots from the cell budget.
func (p *parser) spend(rec record, n int) error {
	p.budget -= int64(n)
	if p.budget < 0 {
		return p.fail(rec, ErrLimit, "the sheets' rows would need more than %s cell slots, the budget of a %s-byte stream (one per byte plus %s)",
			commas(cellBudget(len(p.r.buf))), commas(int64(len(p.r.buf))), commas(baseCellBudget))
	}
	return nil
}

// trim drops trailing empty cells of every row and trailing empty rows.
func trim(sh *Sheet) {
	for r, cells := range sh.Rows {
		n := len(cells)
		for n > 0 && cells[n-1] == "" {
			n--
		}
		sh.Rows[r] = cells[:n]
	}
	n := len(sh.Rows)
	for n > 0 && len(sh.Rows[n-1]) == 0 {
		n--
	}
	sh.Rows = sh.Rows[:n]
}

// rkValue decodes an RK number: a 30-bit signed integer or the high 30 bits
// of an IEEE double, divided by 100 when the low bit says so.
func rkValue(rk uint32) float64 {
	var v float64
	if rk&2 != 0 {
		v = float64(int32(rk) >> 2)
	} else {
		v = math.Float64frombits(uint64(rk&^3) << 32)
	}
	if rk&1 != 0 {
		v /= 100
	}
	return v
}

// number formats a value as excelize's RawCellValue does for .xlsx.
func number(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// errorTexts are the texts of BIFF8's error codes.
var errorTexts = map[byte]string{
	0x00: "#NULL!", 0x07: "#DIV/0!", 0x0F: "#VALUE!", 0x17: "#REF!", 0x1D: "#NAME?", 0x24: "#NUM!", 0x2A: "#N/A",
}

// boolErr formats a boolean or an error code.
func boolErr(v byte, isErr bool) string {
	if !isErr {
		if v != 0 {
			return "TRUE"
		}
		return "FALSE"
	}
	if s, ok := errorTexts[v]; ok {
		return s
	}
	return fmt.Sprintf("#ERR%d!", v)
}
