package xls

import (
	"bytes"
	"errors"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// rk encodings for the tests.
func rkInt(v int32, div100 bool) uint32 {
	rk := uint32(v)<<2 | 2
	if div100 {
		rk |= 1
	}
	return rk
}

func rkFloat(v float64, div100 bool) uint32 {
	rk := uint32(math.Float64bits(v) >> 32)
	if div100 {
		rk |= 1
	}
	return rk
}

func TestRK(t *testing.T) {
	tests := []struct {
		rk   uint32
		want string
	}{
		{rkInt(546487, false), "546487"},
		{rkInt(-128, false), "-128"},
		{rkInt(12345, true), "123.45"},
		{rkFloat(0.5, false), "0.5"},
		{rkFloat(1.25, true), "0.0125"},
		{rkFloat(-2, false), "-2"},
	}
	for _, tt := range tests {
		if got := number(rkValue(tt.rk)); got != tt.want {
			t.Errorf("rk %#08x: %q, want %q", tt.rk, got, tt.want)
		}
	}
}

// TestParseCells reads a synthetic workbook with every kind of cell record.
func TestParseCells(t *testing.T) {
	wb, err := parse("test.xls", allCells(), Limits{}.withDefaults())
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(wb.SheetNames(), "|"); got != "Data|Hidden" {
		t.Fatalf("sheets %q", got)
	}
	if wb.Sheets[0].Hidden || !wb.Sheets[1].Hidden {
		t.Errorf("hidden flags %v %v", wb.Sheets[0].Hidden, wb.Sheets[1].Hidden)
	}
	want := [][]string{
		{"Zürich", "ABΩm", "red", "日本"},
		{"4607.999999999999", "546487", "0.0125", "-7", "", "Malmö", "TRUE", "#N/A"},
		{},
		{"126", "abcdéf", "TRUE", "#DIV/0!", "", "x"},
		{"", "", "", "", "", "1"},
	}
	got := wb.Sheets[0].Rows
	if len(got) != len(want) {
		t.Fatalf("%d rows, want %d: %q", len(got), len(want), got)
	}
	for r := range want {
		if strings.Join(got[r], "|") != strings.Join(want[r], "|") || len(got[r]) != len(want[r]) {
			t.Errorf("row %d: %q, want %q", r+1, got[r], want[r])
		}
	}
	formulas := []struct {
		row, col int
		want     string
		ok       bool
	}{
		{4, 0, "107+19", true},
		{4, 5, "E4", true}, // shared: one column to the left of each cell
		{5, 5, "E5", true},
		{4, 1, "", false}, // a FORMULA without tokens
		{1, 0, "", true},  // no formula
	}
	for _, f := range formulas {
		if got, ok := wb.Sheets[0].Formula(f.row, f.col); got != f.want || ok != f.ok {
			t.Errorf("Formula(%d, %d) = %q, %v; want %q, %v", f.row, f.col, got, ok, f.want, f.ok)
		}
	}
}

// allCells is a Workbook stream with every kind of cell record this package
// reads, an embedded substream, a chart sheet and a hidden sheet.
func allCells() []byte {
	sst := sstRec(5,
		// "Zürich" compressed, then "AB" whose characters go on in the next
		// record as UTF-16 after an option byte.
		le(shortStr("Z\xfcrich"), uint16(4), byte(0), "AB"),
		le(byte(1), utf16le("Ωm"),
			// rich text: two runs (8 bytes) that straddle the next record
			uint16(3), byte(strRich), uint16(2), "red", uint32(0), uint16(0)),
		le(uint16(0),
			// phonetic block of 6 bytes, UTF-16 text
			uint16(2), byte(strExt|strHighByte), uint32(6), utf16le("日本"), make([]byte, 6),
			shortStr("")),
	)
	cells := [][]byte{
		rec(recDIMENSIONS, make([]byte, 14)),
		rec(recLABELSST, uint16(0), uint16(0), uint16(0), uint32(0)),
		rec(recLABELSST, uint16(0), uint16(1), uint16(0), uint32(1)),
		rec(recLABELSST, uint16(0), uint16(2), uint16(0), uint32(2)),
		rec(recLABELSST, uint16(0), uint16(3), uint16(0), uint32(3)),
		rec(recLABELSST, uint16(0), uint16(4), uint16(0), uint32(4)), // "": no value
		rec(recNUMBER, uint16(1), uint16(0), uint16(0), 4607.999999999999),
		rec(recRK, uint16(1), uint16(1), uint16(0), rkInt(546487, false)),
		rec(recMULRK, uint16(1), uint16(2), uint16(0), rkFloat(1.25, true), uint16(0), rkInt(-7, false), uint16(3)),
		rec(recLABEL, uint16(1), uint16(5), uint16(0), uint16(5), byte(0), "Malm\xf6"),
		rec(recBOOLERR, uint16(1), uint16(6), uint16(0), byte(1), byte(0)),
		rec(recBOOLERR, uint16(1), uint16(7), uint16(0), byte(0x2A), byte(1)),
		rec(recBLANK, uint16(1), uint16(9), uint16(0)),
		rec(recMULBLANK, uint16(1), uint16(10), uint16(0), uint16(0), uint16(11)),
		// row 3 stays empty; row 4 holds formulas with every kind of cached result
		rec(recFORMULA, uint16(3), uint16(0), uint16(0), 126.0, uint16(0), uint32(0), uint16(7),
			byte(0x1E), uint16(107), byte(0x1E), uint16(19), byte(0x03)),
		rec(recFORMULA, uint16(3), uint16(1), uint16(0), uint16(0), uint32(0), uint16(0xFFFF), uint16(0), uint32(0), uint16(0)),
		rec(recSTRING, uint16(6), byte(0), "abc"),
		rec(recCONTINUE, byte(1), utf16le("déf")),
		rec(recFORMULA, uint16(3), uint16(2), uint16(0), byte(1), byte(0), byte(1), byte(0), uint16(0), uint16(0xFFFF), uint16(0), uint32(0), uint16(0)),
		rec(recFORMULA, uint16(3), uint16(3), uint16(0), byte(2), byte(0), byte(7), byte(0), uint16(0), uint16(0xFFFF), uint16(0), uint32(0), uint16(0)),
		rec(recFORMULA, uint16(3), uint16(4), uint16(0), byte(3), byte(0), uint32(0), uint16(0xFFFF), uint16(0), uint32(0), uint16(0)),
		// a shared formula: FORMULA with tExp, then SHRFMLA, then the STRING result
		rec(recFORMULA, uint16(3), uint16(5), uint16(0), uint16(0), uint32(0), uint16(0xFFFF), uint16(8), uint32(0), uint16(5),
			byte(0x01), uint16(3), uint16(5)),
		rec(recSHRFMLA, uint16(3), uint16(4), byte(5), byte(5), byte(0), byte(2), uint16(5), byte(0x4C), uint16(0), uint16(0xC000|0xFF)),
		rec(recSTRING, uint16(1), byte(0), "x"),
		rec(recFORMULA, uint16(4), uint16(5), uint16(0), 1.0, uint16(8), uint32(0), uint16(5), byte(0x01), uint16(3), uint16(5)),
		// an embedded chart's substream: its cells are not the sheet's
		rec(recBOF, uint16(biff8), uint16(0x0020), make([]byte, 12)),
		rec(recNUMBER, uint16(20), uint16(0), uint16(0), 99.0),
		rec(recEOF),
		// the last row holds only blanks and an empty string: dropped
		rec(recBLANK, uint16(7), uint16(0), uint16(0)),
		rec(recLABEL, uint16(7), uint16(1), uint16(0), uint16(0), byte(0)),
	}
	return testWorkbook([][]byte{rec(recCODEPAGE, uint16(1200)), sst},
		testSheet{name: "Data", recs: cells},
		testSheet{name: "Chart1", kind: 2, bofType: 0x0020, recs: [][]byte{rec(recNUMBER, uint16(0), uint16(0), uint16(0), 1.0)}},
		testSheet{name: "Hidden", hidden: 1, recs: [][]byte{rec(recRK, uint16(0), uint16(0), uint16(0), rkInt(1, false))}},
	)
}

// TestParseErrors feeds damaged and unsupported streams to the parser.
func TestParseErrors(t *testing.T) {
	sheet := func(recs ...[]byte) []byte { return testWorkbook(nil, testSheet{name: "S", recs: recs}) }
	twoStrings := sstRec(2, le(shortStr("a"), shortStr("b")))
	small := Limits{MaxRows: 100, MaxColumns: 10, MaxCellBytes: 8}
	tests := []struct {
		name   string
		stream []byte
		lim    Limits
		is     error  // errors.Is target, if any
		want   string // a part of the message
	}{
		{"encrypted", testWorkbook([][]byte{rec(recFILEPASS, make([]byte, 54))}), Limits{}, ErrUnsupported,
			`record FILEPASS (0x002F) at offset 20: the workbook is encrypted`},
		{"BIFF5", append(rec(recBOF, uint16(0x0500), uint16(bofGlobals)), rec(recEOF)...), Limits{}, ErrUnsupported, "BIFF5/7"},
		{"BIFF4", rec(0x0409, uint16(0), uint16(0)), Limits{}, ErrUnsupported, "BIFF2-4"},
		{"not a BOF", rec(recNUMBER, make([]byte, 14)), Limits{}, nil, "does not start with a BOF"},
		{"SST index", testWorkbook([][]byte{twoStrings}, testSheet{name: "Visa Statistics 2009", recs: [][]byte{
			rec(recLABELSST, uint16(0), uint16(0), uint16(0), uint32(9999))}}), Limits{}, nil,
			`test.xls sheet "Visa Statistics 2009": record LABELSST (0x00FD) at offset 96: SST index 9,999 out of range (the table holds 2 strings)`},
		{"huge SST count", testWorkbook([][]byte{rec(recSST, uint32(0xFFFFFFFF), uint32(0xFFFFFFFF), shortStr("a"))}), Limits{}, nil,
			"the table declares 4,294,967,295 strings but its records end after 1"},
		{"column 0xFFFF", sheet(rec(recNUMBER, uint16(0), uint16(0xFFFF), uint16(0), 1.0)), Limits{}, ErrLimit,
			"column 65,535 (0-based) is beyond Limits.MaxColumns (256)"},
		{"row beyond MaxRows", sheet(rec(recRK, uint16(100), uint16(0), uint16(0), uint32(2))), small, ErrLimit,
			"row 101 is beyond Limits.MaxRows (100)"},
		{"MULBLANK beyond MaxColumns", sheet(rec(recMULBLANK, uint16(0), uint16(0), make([]byte, 40), uint16(19))), small, ErrLimit,
			"MaxColumns (10)"},
		{"long LABEL", sheet(rec(recLABEL, uint16(0), uint16(0), uint16(0), uint16(9), byte(0), "123456789")), small, ErrLimit,
			"a string of 9 bytes (UTF-8) is beyond Limits.MaxCellBytes (8)"},
		{"long SST string", testWorkbook([][]byte{sstRec(1, shortStr("123456789"))}), small, ErrLimit, "SST string 0"},
		{"MULRK columns", sheet(rec(recMULRK, uint16(0), uint16(0), uint16(0), uint32(2), uint16(0xFFFF))), Limits{}, nil,
			"columns 0 to 65535 do not match the record's 12 bytes"},
		{"short NUMBER", sheet(rec(recNUMBER, uint16(0), uint16(0))), Limits{}, nil, "the record is 4 bytes, shorter than the 14"},
		{"formula tokens overrun", sheet(rec(recFORMULA, make([]byte, 20), uint16(50))), Limits{}, nil, "50 bytes of formula tokens overrun"},
		{"cut record", sheet(rec(recNUMBER, make([]byte, 14)))[:65], Limits{}, nil, "the record claims"},
		{"no sheet EOF", bytes.TrimSuffix(sheet(), rec(recEOF)), Limits{}, nil, "the worksheet ends without an EOF record"},
		{"no substream", testWorkbook(nil, testSheet{name: "S"})[:37], Limits{}, nil, "no worksheet substream starts at offset 37"},
		{"a chart where a worksheet should be", testWorkbook(nil, testSheet{name: "S", bofType: 0x20}), Limits{}, nil,
			"BOUNDSHEET announces a worksheet but the substream is of type 0x0020"},
		{"UTF-16 split", testWorkbook([][]byte{sstRec(1, le(uint16(2), byte(1), byte('a')), le(byte(1), byte(0), byte('b'), byte(0)))}),
			Limits{}, nil, "a UTF-16 character is split"},
		{"cell budget", manyWideRows(5000), Limits{}, ErrLimit, "cell slots"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wb, err := parse("dir/test.xls", tt.stream, tt.lim.withDefaults())
			if err == nil {
				t.Fatalf("no error; sheets %q", wb.SheetNames())
			}
			var fe *FormatError
			if !errors.As(err, &fe) || fe.Path != "dir/test.xls" {
				t.Errorf("%v is not a *FormatError with the path", err)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("%v does not wrap %v", err, tt.is)
			}
			if tt.is == nil && (errors.Is(err, ErrLimit) || errors.Is(err, ErrUnsupported)) {
				t.Errorf("%v wraps a sentinel", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q\ndoes not contain %q", err, tt.want)
			}
		})
	}
}

// manyWideRows is a worksheet with one cell in the last column of each of n
// rows: 18 bytes of stream per 256 slots of Rows.
func manyWideRows(n int) []byte {
	var recs [][]byte
	for r := range n {
		recs = append(recs, rec(recNUMBER, uint16(r), uint16(255), uint16(0), 1.0))
	}
	return testWorkbook(nil, testSheet{name: "S", recs: recs})
}

// TestOpenErrors covers what Open itself checks before the records.
func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	real, err := os.ReadFile(realFile(t, "synthese_2010_with_filters_en.xls"))
	if err != nil {
		t.Fatal(err)
	}
	// An Excel 95 file keeps its records in a "Book" stream: rename the directory entry.
	book := bytes.Clone(real)
	i := bytes.Index(book, utf16le("Workbook\x00"))
	if i < 0 || (i%128) != 0 {
		t.Fatalf("no Workbook directory entry at an entry boundary (%d)", i)
	}
	copy(book[i:i+18], append(utf16le("Book\x00"), make([]byte, 8)...))
	book[i+64] = 10 // the name's length in bytes, with its NUL
	tests := []struct {
		name string
		path string
		lim  Limits
		is   error
		want string
	}{
		{"missing", filepath.Join(dir, "missing.xls"), Limits{}, fs.ErrNotExist, "missing.xls"},
		{"text", write("a.xls", []byte("year,visas\n2009,1\n")), Limits{}, nil, "a.xls: not an OLE2 compound file (.xls)"},
		{"xlsx", write("b.xls", []byte("PK\x03\x04rest of a zip")), Limits{}, nil, "an .xlsx workbook?"},
		{"empty", write("c.xls", nil), Limits{}, nil, "not an OLE2 compound file"},
		{"bare BIFF", write("d.xls", rec(recBOF, uint16(0x0500), uint16(5))), Limits{}, ErrUnsupported, "bare BIFF stream"},
		{"OLE header only", write("e.xls", append(bytes.Clone(oleMagic), make([]byte, 100)...)), Limits{}, nil, "damaged compound file"},
		{"Book stream", write("f.xls", book), Limits{}, ErrUnsupported, "BIFF5 or older"},
		{"stream limit", write("g.xls", real), Limits{MaxStreamBytes: 1000}, ErrLimit,
			"g.xls: the Workbook stream is 939,686 bytes, beyond Limits.MaxStreamBytes (1,000)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wb, err := Open(tt.path, tt.lim)
			if err == nil {
				t.Fatalf("no error; sheets %q", wb.SheetNames())
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("%v does not wrap %v", err, tt.is)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q\ndoes not contain %q", err, tt.want)
			}
		})
	}
}

func TestFormatErrorMessage(t *testing.T) {
	tests := []struct {
		err  *FormatError
		want string
	}{
		{&FormatError{Path: "/data/statistiques2009.xls", Sheet: "Visa Statistics 2009", Offset: 123456, Record: recLABELSST,
			RecordName: "LABELSST", Msg: "SST index 9999 out of range (the table holds 2,312 strings)"},
			`statistiques2009.xls sheet "Visa Statistics 2009": record LABELSST (0x00FD) at offset 123456: SST index 9999 out of range (the table holds 2,312 strings)`},
		{&FormatError{Path: "a.xls", Offset: -1, Msg: "m", Err: ErrLimit}, "a.xls: m: xls: limit exceeded"},
		{&FormatError{Path: "a.xls", Offset: 8, Record: 0x1234, Msg: "m"}, "a.xls: record 0x1234 at offset 8: m"},
		{&FormatError{Path: "a.xls", Offset: 8, Msg: "m"}, "a.xls: at offset 8: m"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("got  %s\nwant %s", got, tt.want)
		}
	}
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", -1234567: "-1,234,567"} {
		if got := commas(n); got != want {
			t.Errorf("commas(%d) = %q", n, got)
		}
	}
}

// TestDamageAfterTheWorksheets reads a workbook whose last substream, after
// every worksheet, is cut short: nothing it would return is missing.
func TestDamageAfterTheWorksheets(t *testing.T) {
	stream := testWorkbook(nil,
		testSheet{name: "S", recs: [][]byte{rec(recRK, uint16(0), uint16(0), uint16(0), rkInt(42, false))}},
		testSheet{name: "Chart", kind: 2, bofType: 0x0020, recs: [][]byte{rec(recNUMBER, make([]byte, 14))}},
	)
	stream = append(stream[:len(stream)-len(rec(recEOF))-10], 0xFF) // the chart loses its end
	wb, err := parse("test.xls", stream, Limits{}.withDefaults())
	if err != nil {
		t.Fatal(err)
	}
	if got := cellText(wb.Sheet("S"), 1, 0); got != "42" {
		t.Errorf("S!A1 = %q", got)
	}
}
