package xls

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// dataDir holds the Commission's workbooks as published.
const dataDir = "../../data/ec_schengen_consulates"

// realFiles returns the .xls files of the shipped data by base name.
func realFiles(t testing.TB) map[string]string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dataDir, "*.xls"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no .xls files in %s (%v)", dataDir, err)
	}
	files := map[string]string{}
	for _, p := range paths {
		files[filepath.Base(p)] = p
	}
	return files
}

// realFile returns the path of one shipped workbook.
func realFile(t testing.TB, name string) string {
	t.Helper()
	p, ok := realFiles(t)[name]
	if !ok {
		t.Fatalf("%s is not in %s", name, dataDir)
	}
	return p
}

// openReal opens one shipped workbook with the default limits.
func openReal(t testing.TB, name string) *Workbook {
	t.Helper()
	wb, err := Open(realFile(t, name), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return wb
}

// sheetOf returns a worksheet that must exist.
func sheetOf(t testing.TB, wb *Workbook, name string) *Sheet {
	t.Helper()
	s := wb.Sheet(name)
	if s == nil {
		t.Fatalf("no sheet %q in %q", name, wb.SheetNames())
	}
	return s
}

// cellText returns the text at 1-based row and 0-based col, "" outside the rows.
func cellText(s *Sheet, row, col int) string {
	if row < 1 || row > len(s.Rows) || col >= len(s.Rows[row-1]) {
		return ""
	}
	return s.Rows[row-1][col]
}

// xlrdScript dumps, for each file named on the command line, every
// worksheet's name and visibility, its non-empty cells (row, col, xlrd cell
// type, value) and the text xlrd decompiles from each FORMULA record's
// tokens (xlrd does not resolve shared formulas itself: the script hands it
// the SHRFMLA tokens; null where xlrd fails). xlrd releases nothing with
// on_demand=True, so the stream (bk.mem) and sheet offsets stay available.
const xlrdScript = `
import json, struct, sys
import xlrd
from xlrd import formula as F

def formulas(bk, start):
    mem = bk.mem
    recs, pos, depth = [], start, 0
    while pos + 4 <= len(mem):
        rc, ln = struct.unpack('<HH', mem[pos:pos + 4])
        data = mem[pos + 4:pos + 4 + ln]
        pos += 4 + ln
        if rc == 0x0809:
            depth += 1
        elif rc == 0x000A:
            depth -= 1
            if depth == 0:
                break
        elif depth == 1:
            recs.append((rc, data))
    shared = {}
    for rc, data in recs:
        if rc == 0x04BC:
            r1, _, c1, _ = struct.unpack('<HHBB', data[:6])
            cce, = struct.unpack('<H', data[8:10])
            shared[(r1, c1)] = data[10:10 + cce]
    out = []
    for rc, data in recs:
        if rc != 0x0006:
            continue
        row, col = struct.unpack('<HH', data[:4])
        cce, = struct.unpack('<H', data[20:22])
        toks, kind = data[22:22 + cce], F.FMLA_TYPE_CELL
        if toks[:1] == b'\x01':
            toks, kind = shared.get(struct.unpack('<HH', toks[1:5]), b''), F.FMLA_TYPE_SHARED
        try:
            text = F.decompile_formula(bk, toks, len(toks), kind, browx=row, bcolx=col)
        except Exception:
            text = None
        out.append([row, col, text])
    return out

books = []
for path in sys.argv[1:]:
    bk = xlrd.open_workbook(path, on_demand=True, logfile=sys.stderr)
    sheets = []
    for i in range(bk.nsheets):
        sh = bk.sheet_by_index(i)
        cells = [[r, c, cell.ctype, cell.value]
                 for r in range(sh.nrows) for c, cell in enumerate(sh.row(r))
                 if cell.ctype not in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK)]
        sheets.append({'name': sh.name, 'hidden': sh.visibility != 0, 'cells': cells,
                       'formulas': formulas(bk, bk._sh_abs_posn[i])})
    books.append({'path': path, 'sheets': sheets})
sys.stdout.write(json.dumps(books))
`

// xlrd cell types.
const (
	xlrdText   = 1
	xlrdNumber = 2
	xlrdDate   = 3
	xlrdBool   = 4
	xlrdError  = 5
)

type xlrdBook struct {
	Path   string      `json:"path"`
	Sheets []xlrdSheet `json:"sheets"`
}

type xlrdSheet struct {
	Name     string   `json:"name"`
	Hidden   bool     `json:"hidden"`
	Cells    [][4]any `json:"cells"`    // row, col (0-based), type, value
	Formulas [][3]any `json:"formulas"` // row, col (0-based), text or nil
}

var xlrdOnce struct {
	sync.Once
	books map[string]*xlrdBook
	err   error
	out   []byte
}

// python is the interpreter that has Debian's python3-xlrd.
const python = "/usr/bin/python3"

// requireXlrd skips the test when xlrd cannot run, except under CI=true.
func requireXlrd(t *testing.T) {
	t.Helper()
	if err := exec.Command(python, "-c", "import xlrd").Run(); err != nil {
		msg := "xlrd not available (" + err.Error() + "): apt-get install python3-xlrd"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
}

// xlrdDump returns xlrd's reading of every shipped .xls file by base name,
// computed once per test binary.
func xlrdDump(t *testing.T) map[string]*xlrdBook {
	t.Helper()
	requireXlrd(t)
	xlrdOnce.Do(func() {
		var paths []string
		for _, p := range realFiles(t) {
			paths = append(paths, p)
		}
		var stderr bytes.Buffer
		cmd := exec.Command(python, append([]string{"-c", xlrdScript}, paths...)...)
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			xlrdOnce.err = err
			xlrdOnce.out = stderr.Bytes()
			return
		}
		var books []*xlrdBook
		if xlrdOnce.err = json.Unmarshal(out, &books); xlrdOnce.err != nil {
			return
		}
		xlrdOnce.books = map[string]*xlrdBook{}
		for _, b := range books {
			xlrdOnce.books[filepath.Base(b.Path)] = b
		}
	})
	if xlrdOnce.err != nil {
		t.Fatalf("xlrd dump: %v\n%s", xlrdOnce.err, xlrdOnce.out)
	}
	return xlrdOnce.books
}

// le encodes values little-endian, as BIFF stores them: byte, uint16,
// uint32, float64, []byte and string (raw bytes).
func le(parts ...any) []byte {
	var b []byte
	for _, p := range parts {
		switch v := p.(type) {
		case byte:
			b = append(b, v)
		case uint16:
			b = binary.LittleEndian.AppendUint16(b, v)
		case uint32:
			b = binary.LittleEndian.AppendUint32(b, v)
		case float64:
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
		case []byte:
			b = append(b, v...)
		case string:
			b = append(b, v...)
		default:
			panic("le: unsupported type")
		}
	}
	return b
}

// rec builds one record.
func rec(typ uint16, parts ...any) []byte {
	data := le(parts...)
	return le(typ, uint16(len(data)), data)
}

// utf16le encodes s as UTF-16LE bytes.
func utf16le(s string) []byte {
	var b []byte
	for _, r := range s {
		if r >= 0x10000 {
			r -= 0x10000
			b = binary.LittleEndian.AppendUint16(b, uint16(0xD800+(r>>10)))
			b = binary.LittleEndian.AppendUint16(b, uint16(0xDC00+(r&0x3FF)))
			continue
		}
		b = binary.LittleEndian.AppendUint16(b, uint16(r))
	}
	return b
}

// testSheet is a substream for testWorkbook.
type testSheet struct {
	name    string
	kind    byte   // BOUNDSHEET dt: 0 worksheet, 2 chart
	hidden  byte   // BOUNDSHEET visibility
	bofType uint16 // 0 means a worksheet (0x0010)
	recs    [][]byte
}

// testWorkbook builds a BIFF8 Workbook stream: the globals (BOF, the
// records given, BOUNDSHEETs, EOF), then each sheet's substream.
func testWorkbook(globals [][]byte, sheets ...testSheet) []byte {
	bof := func(dt uint16) []byte {
		return rec(recBOF, uint16(biff8), dt, uint16(0), uint16(0), uint32(0), uint32(0))
	}
	bound := func(s testSheet, off uint32) []byte {
		return rec(recBOUNDSHEET, off, s.hidden, s.kind, byte(len(s.name)), byte(0), s.name)
	}
	size := len(bof(bofGlobals)) + len(rec(recEOF))
	for _, g := range globals {
		size += len(g)
	}
	for _, s := range sheets {
		size += len(bound(s, 0))
	}
	var head, body []byte
	head = append(head, bof(bofGlobals)...)
	for _, g := range globals {
		head = append(head, g...)
	}
	for _, s := range sheets {
		head = append(head, bound(s, uint32(size+len(body)))...)
		dt := s.bofType
		if dt == 0 {
			dt = bofWorksheet
		}
		body = append(body, bof(dt)...)
		for _, r := range s.recs {
			body = append(body, r...)
		}
		body = append(body, rec(recEOF)...)
	}
	head = append(head, rec(recEOF)...)
	return append(head, body...)
}

// sstRec builds an SST record (and, with more parts, its CONTINUE records)
// declaring count strings; each element of parts is one record's payload.
func sstRec(count uint32, parts ...[]byte) []byte {
	out := rec(recSST, count, count, parts[0])
	for _, p := range parts[1:] {
		out = append(out, rec(recCONTINUE, p)...)
	}
	return out
}

// shortStr is a compressed string with a two-byte count, as in the SST and LABEL.
func shortStr(s string) []byte { return le(uint16(len(s)), byte(0), s) }
