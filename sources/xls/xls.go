package xls

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/richardlehane/mscfb"
)

// Limits bounds what Open accepts; zero fields mean the defaults given.
type Limits struct {
	MaxStreamBytes int64 // the Workbook stream; default 128 MiB
	MaxRows        int   // rows per sheet; default 65,536 (BIFF8's own limit)
	MaxColumns     int   // cells per row (highest column index+1); default 256 (BIFF8's own limit)
	MaxCellBytes   int   // one decoded string, in UTF-8 bytes; default 128 KiB
}

// The defaults of Limits.
const (
	DefaultMaxStreamBytes = 128 << 20
	DefaultMaxRows        = 65536
	DefaultMaxColumns     = 256
	DefaultMaxCellBytes   = 128 << 10
)

// baseCellBudget is the part of the cell budget every workbook gets whatever
// its size; see cellBudget.
const baseCellBudget = 1 << 20

func (l Limits) withDefaults() Limits {
	if l.MaxStreamBytes <= 0 {
		l.MaxStreamBytes = DefaultMaxStreamBytes
	}
	if l.MaxRows <= 0 {
		l.MaxRows = DefaultMaxRows
	}
	if l.MaxColumns <= 0 {
		l.MaxColumns = DefaultMaxColumns
	}
	if l.MaxCellBytes <= 0 {
		l.MaxCellBytes = DefaultMaxCellBytes
	}
	return l
}

// cellBudget bounds the slots of all sheets' Rows together (a slot is one
// string of a row or one row of a sheet): one per byte of the stream plus a
// fixed 1 Mi. Rows are dense, so without it a few records far apart (a cell
// at IV65536 on each of many small sheets) would cost far more memory than
// the file's size; real workbooks use well under one slot per byte.
func cellBudget(streamLen int) int64 { return int64(streamLen) + baseCellBudget }

// Workbook holds the worksheets of one .xls file.
type Workbook struct {
	Sheets []*Sheet // worksheets in BOUNDSHEET order
}

// Sheet returns the worksheet with this exact name, or nil.
func (w *Workbook) Sheet(name string) *Sheet {
	for _, s := range w.Sheets {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// SheetNames lists the worksheets' names in order.
func (w *Workbook) SheetNames() []string {
	names := make([]string, len(w.Sheets))
	for i, s := range w.Sheets {
		names[i] = s.Name
	}
	return names
}

// Sheet is one worksheet: its cells as text and the formulas behind them.
type Sheet struct {
	Name   string
	Hidden bool // BOUNDSHEET visibility != visible
	// Rows holds cell values as text, Rows[r][c] for sheet row r+1 and
	// column c (0 = A). Rows are trimmed of trailing empty cells; trailing
	// empty rows are dropped; empty rows inside are kept (len 0).
	Rows [][]string

	formulas map[uint32]span          // by cellKey: the cell's tokens in rgce
	shared   map[uint32]sharedFormula // SHRFMLA records by their first cell, for tExp tokens
	rgce     []byte                   // the tokens of every formula of the sheet, back to back
	names    *nameTable               // sheet names for 3-D references, shared by the workbook
}

// span locates a formula's tokens in Sheet.rgce.
type span struct{ off, n uint32 }

// cellKey packs a 0-based row and column (each below 65,536 in BIFF8).
func cellKey(row, col int) uint32 { return uint32(row)<<16 | uint32(col) }

// Open reads every worksheet of the .xls file at path (chart sheets, macro
// sheets and embedded substreams such as pivot caches/VBA are skipped).
//
// It returns the *fs.PathError of os.Open or Stat for a file it cannot open
// and a *FormatError for one it cannot read, wrapping ErrUnsupported for
// encrypted and pre-BIFF8 workbooks and ErrLimit for one beyond lim. Cells
// beyond lim.MaxRows or lim.MaxColumns, strings beyond lim.MaxCellBytes
// and rows needing more slots than the cell budget (one per byte of the
// stream plus 1,048,576) are errors, not silently dropped.
func Open(path string, lim Limits) (*Workbook, error) {
	lim = lim.withDefaults()
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	stream, err := workbookStream(f, path, lim)
	if err != nil {
		return nil, err
	}
	return parse(path, stream, lim)
}

// oleMagic starts every OLE2 compound file.
var oleMagic = []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}

// workbookStream returns the bytes of the "Workbook" stream of the compound
// file f, refusing one larger than lim.MaxStreamBytes before reading it.
func workbookStream(f *os.File, path string, lim Limits) ([]byte, error) {
	fail := func(msg string, err error) error {
		return &FormatError{Path: path, Offset: -1, Msg: msg, Err: err}
	}
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	head := make([]byte, 8)
	if _, err := io.ReadFull(f, head); err != nil || !bytes.Equal(head, oleMagic) {
		switch {
		case bytes.HasPrefix(head, []byte("PK\x03\x04")):
			return nil, fail("not an OLE2 compound file but a zip archive (an .xlsx workbook? read it with excelize)", nil)
		case head[0] == 0x09 && (head[1] == 0x00 || head[1] == 0x02 || head[1] == 0x04 || head[1] == 0x08):
			return nil, fail("a bare BIFF stream outside an OLE2 compound file, as Excel 2 to 4 wrote", ErrUnsupported)
		default:
			return nil, fail("not an OLE2 compound file (.xls): the file does not start with its signature", nil)
		}
	}
	entry, err := findStream(f, path)
	if err != nil {
		return nil, err
	}
	size := entry.Size
	switch {
	case size > lim.MaxStreamBytes:
		return nil, fail(fmt.Sprintf("the Workbook stream is %s bytes, beyond Limits.MaxStreamBytes (%s)",
			commas(size), commas(lim.MaxStreamBytes)), ErrLimit)
	case size > info.Size():
		return nil, fail(fmt.Sprintf("the Workbook stream claims %s bytes, more than the whole file (%s)",
			commas(size), commas(info.Size())), nil)
	case size < 4:
		return nil, fail(fmt.Sprintf("the Workbook stream is only %d bytes", size), nil)
	}
	buf := make([]byte, size)
	if err := readStream(entry, buf, lim.MaxStreamBytes); err != nil {
		return nil, fail("read the Workbook stream", err)
	}
	return buf, nil
}

// findStream opens the compound file and returns its top-level "Workbook"
// stream. mscfb is third-party code parsing untrusted bytes, so a panic in
// it becomes an error rather than taking the caller down.
func findStream(f *os.File, path string) (entry *mscfb.File, err error) {
	fail := func(msg string, err error) error {
		return &FormatError{Path: path, Offset: -1, Msg: msg, Err: err}
	}
	defer func() {
		if r := recover(); r != nil {
			entry, err = nil, fail(fmt.Sprintf("damaged compound file (the OLE2 reader failed: %v)", r), nil)
		}
	}()
	doc, err := mscfb.New(&pagedReader{f: f, pages: map[int64][]byte{}})
	if err != nil {
		return nil, fail("damaged compound file", err)
	}
	var book *mscfb.File
	for e, err := doc.Next(); err == nil; e, err = doc.Next() {
		if len(e.Path) != 0 || e.FileInfo().IsDir() {
			continue
		}
		switch {
		case strings.EqualFold(e.Name, "Workbook"):
			return e, nil
		case strings.EqualFold(e.Name, "Book"):
			book = e
		}
	}
	if book != nil {
		return nil, fail(`the workbook is BIFF5 or older (a "Book" stream, Excel 95 or earlier); save it as .xls (Excel 97-2003) or .xlsx`, ErrUnsupported)
	}
	return nil, fail(`no "Workbook" stream in the compound file (not an Excel workbook?)`, nil)
}

// readStream fills buf from the stream entry, through a reader bounded by
// max so that a lying directory entry cannot make it read more.
func readStream(entry *mscfb.File, buf []byte, max int64) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("the OLE2 reader failed: %v", r)
		}
	}()
	// In chunks: mscfb maps each read to its sectors at a cost that grows
	// faster than the read.
	lr := io.LimitReader(entry, max)
	for off := 0; off < len(buf); off += readChunk {
		_, err = io.ReadFull(lr, buf[off:min(off+readChunk, len(buf))])
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return fmt.Errorf("the stream ends before its declared %s bytes", commas(int64(len(buf))))
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// readChunk is the size of each read of the Workbook stream.
const readChunk = 64 << 10

// pagedReader serves the compound-file reader's many small reads (four
// bytes of the sector table for each sector of a stream) from a few cached
// pages of the file instead of one system call each.
type pagedReader struct {
	f     io.ReaderAt
	pages map[int64][]byte
}

const (
	pageSize = 4096
	maxPages = 64
)

func (p *pagedReader) ReadAt(b []byte, off int64) (int, error) {
	page := off / pageSize
	in := int(off - page*pageSize)
	if off < 0 || len(b) > pageSize/8 || in+len(b) > pageSize {
		return p.f.ReadAt(b, off)
	}
	data, ok := p.pages[page]
	if !ok {
		if len(p.pages) >= maxPages {
			clear(p.pages)
		}
		data = make([]byte, pageSize)
		n, err := p.f.ReadAt(data, page*pageSize)
		if err != nil && !errors.Is(err, io.EOF) {
			return 0, err
		}
		data = data[:n]
		p.pages[page] = data
	}
	if in >= len(data) {
		return 0, io.EOF
	}
	n := copy(b, data[in:])
	if n < len(b) {
		return n, io.EOF
	}
	return n, nil
}
