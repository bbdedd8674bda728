package output

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"fmt"
	"io"
	"io/fs"
	"regexp"
	"strconv"

	"github.com/xuri/excelize/v2"
)

var sheetPart = regexp.MustCompile(`^xl/worksheets/sheet\d+\.xml$`)

// sharedStringsPart is the workbook's shared string table.
const sharedStringsPart = "xl/sharedStrings.xml"

// dimensionZip is the zip writer a workbook is saved through. It passes
// every part to zw unchanged except the worksheets, whose <dimension> it
// sets to the range their cells use: excelize's stream writer emits the
// dimension before any row is known, so every streamed sheet declared A1,
// and readers that trust the declaration (openpyxl in read-only mode, some
// ETL tools) then saw one cell a sheet. A worksheet is held until its part
// is complete, then compressed once.
//
// It also moves the text of streamed cells into the shared string table:
// the stream writer writes every text cell as an inline string, so a
// country name repeated on 18,000 rows was stored 18,000 times, and
// readers (openpyxl, LibreOffice) parse each copy. excelize writes every
// worksheet before the shared string table (its parts go out in reverse
// name order), so the strings are numbered after the base strings
// excelize's own table holds and appended to it when it is written.
type dimensionZip struct {
	zw      *zip.Writer
	name    string    // the part being held, "" when none
	body    sheetBody // its XML
	strings *stringTable
	sst     bool // the shared string table was written
}

// newDimensionZip returns a zip writer for a workbook whose own shared
// string table holds base strings.
// Parts are compressed at flate's best level: a workbook is written once
// and downloaded many times, and the worksheets' XML, repetitive, shrinks
// by a tenth more than at the default level.
func newDimensionZip(w io.Writer, base int) excelize.ZipWriter {
	zw := zip.NewWriter(w)
	zw.RegisterCompressor(zip.Deflate, func(out io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(out, flate.BestCompression)
	})
	return &dimensionZip{zw: zw, body: sheetBody{new(bytes.Buffer)}, strings: newStringTable(base)}
}

// sheetBody holds a worksheet's XML. Read from a source that knows its
// size (excelize's temporary file of a large streamed sheet), it grows
// once to that size instead of doubling its way there.
type sheetBody struct{ *bytes.Buffer }

func (b sheetBody) ReadFrom(r io.Reader) (int64, error) {
	if s, ok := r.(interface{ Size() int64 }); ok {
		b.Grow(int(s.Size()) + bytes.MinRead)
	}
	return b.Buffer.ReadFrom(r)
}

// Create starts the part name; the part before it is complete.
func (z *dimensionZip) Create(name string) (io.Writer, error) {
	if err := z.finish(); err != nil {
		return nil, err
	}
	if sheetPart.MatchString(name) || name == sharedStringsPart {
		z.name = name
		z.body.Reset()
		return z.body, nil
	}
	return z.zw.Create(name)
}

// AddFS adds the files of fsys after the parts written so far.
func (z *dimensionZip) AddFS(fsys fs.FS) error {
	if err := z.finish(); err != nil {
		return err
	}
	return z.zw.AddFS(fsys)
}

// Close writes the last part and the zip's central directory. A workbook
// whose streamed text found no shared string table to go into is refused
// rather than written with cells that point nowhere.
func (z *dimensionZip) Close() error {
	if err := z.finish(); err != nil {
		return err
	}
	if len(z.strings.items) > 0 && !z.sst {
		return fmt.Errorf("%d shared strings of the streamed sheets: the workbook has no %s to hold them", len(z.strings.items), sharedStringsPart)
	}
	return z.zw.Close()
}

// finish writes the part being held, if any: a worksheet with its text in
// the shared string table and its dimension set, or the shared string
// table with the worksheets' strings appended.
func (z *dimensionZip) finish() error {
	if z.name == "" {
		return nil
	}
	name := z.name
	z.name = ""
	out, err := z.zw.Create(name)
	if err != nil {
		return err
	}
	if name == sharedStringsPart {
		z.sst = true
		if err := z.strings.writeTable(out, z.body.Bytes()); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		return nil
	}
	if err := writeWithDimension(out, z.strings.share(z.body.Bytes())); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// stringTable numbers the texts of inline string cells for the shared
// string table, after the base strings the table already holds.
type stringTable struct {
	base  int
	index map[string]int // a string item's XML -> its number among items
	items []string       // <si> items in order
	refs  int            // cells that refer to them
}

func newStringTable(base int) *stringTable {
	return &stringTable{base: base, index: map[string]int{}}
}

// inlineCell is how excelize's stream writer writes a plain text cell,
// after the cell's reference and style: t="inlineStr"><is><t>TEXT</t></is>,
// the <t> with xml:space="preserve" when the text has outer spaces.
const (
	inlineOpen  = `t="inlineStr"><is><t`
	inlineClose = `</t></is>`
)

// share rewrites the plain inline strings of a worksheet's XML as
// references into the shared string table: t="s"><v>N</v>. The text is
// moved as it is, XML-escaped; rich text (runs) stays inline.
func (s *stringTable) share(sheet []byte) []byte {
	if !bytes.Contains(sheet, []byte(inlineOpen)) {
		return sheet
	}
	out := make([]byte, 0, len(sheet))
	for {
		i := bytes.Index(sheet, []byte(inlineOpen))
		if i < 0 {
			return append(out, sheet...)
		}
		rest := sheet[i+len(inlineOpen):]
		var attr []byte // the <t> element's attributes, as written
		if gt := bytes.IndexByte(rest, '>'); gt >= 0 && !bytes.Contains(rest[:gt], []byte("<")) {
			attr, rest = rest[:gt], rest[gt+1:]
		} else {
			out, sheet = append(out, sheet[:i+len(inlineOpen)]...), rest
			continue
		}
		end := bytes.Index(rest, []byte(inlineClose))
		if end < 0 || bytes.IndexByte(rest[:end], '<') >= 0 {
			out, sheet = append(out, sheet[:i+len(inlineOpen)]...), sheet[i+len(inlineOpen):]
			continue
		}
		item := "<si><t" + string(attr) + ">" + string(rest[:end]) + "</t></si>"
		n, ok := s.index[item]
		if !ok {
			n = len(s.items)
			s.index[item] = n
			s.items = append(s.items, item)
		}
		s.refs++
		out = append(out, sheet[:i]...)
		out = append(out, `t="s"><v>`...)
		out = strconv.AppendInt(out, int64(s.base+n), 10)
		out = append(out, `</v>`...)
		sheet = rest[end+len(inlineClose):]
	}
}

var sstCounts = regexp.MustCompile(`\s(count|uniqueCount)="\d+"`)

// writeTable writes excelize's shared string table sst to w with the
// worksheets' strings appended and its counts updated. It fails when the
// table does not hold the base strings the worksheets were numbered after.
func (s *stringTable) writeTable(w io.Writer, sst []byte) error {
	if have := bytes.Count(sst, []byte("<si>")) + bytes.Count(sst, []byte("<si ")); have != s.base {
		return fmt.Errorf("holds %d strings, the worksheets were numbered after %d", have, s.base)
	}
	if len(s.items) == 0 {
		_, err := w.Write(sst)
		return err
	}
	end := bytes.LastIndex(sst, []byte("</sst>"))
	open := bytes.Index(sst, []byte("<sst"))
	if end < 0 || open < 0 {
		return fmt.Errorf("no <sst> element to add %d strings to", len(s.items))
	}
	head := bytes.IndexByte(sst[open:], '>') + open
	tag := sstCounts.ReplaceAll(sst[open:head], nil)
	selfClosing := bytes.HasSuffix(tag, []byte("/"))
	tag = bytes.TrimSuffix(tag, []byte("/"))
	counts := fmt.Sprintf(` count="%d" uniqueCount="%d"`, s.base+s.refs, s.base+len(s.items))
	var b bytes.Buffer
	b.Write(sst[:open])
	b.Write(tag)
	b.WriteString(counts + ">")
	if !selfClosing {
		b.Write(sst[head+1 : end])
	}
	for _, it := range s.items {
		b.WriteString(it)
	}
	b.WriteString("</sst>")
	if !selfClosing {
		b.Write(sst[end+len("</sst>"):])
	} else {
		b.Write(sst[head+1:])
	}
	_, err := w.Write(b.Bytes())
	return err
}

// writeWithDimension writes the worksheet XML sheet to w with its first
// <dimension> element replaced by the range its cells use. A sheet without
// cells or without a dimension element is written unchanged.
func writeWithDimension(w io.Writer, sheet []byte) error {
	ref := usedRange(sheet)
	start, end := dimensionTag(sheet)
	if ref == "" || start < 0 {
		_, err := w.Write(sheet)
		return err
	}
	for _, part := range [][]byte{sheet[:start], []byte(`<dimension ref="` + ref + `"/>`), sheet[end:]} {
		if _, err := w.Write(part); err != nil {
			return err
		}
	}
	return nil
}

// dimensionTag finds the first element <dimension ref="..."/> (or its
// form with a closing tag) in a worksheet's XML and returns where it starts
// and ends, or -1, -1.
func dimensionTag(sheet []byte) (int, int) {
	const open = `<dimension ref="`
	from := 0
	for {
		i := bytes.Index(sheet[from:], []byte(open))
		if i < 0 {
			return -1, -1
		}
		start := from + i
		j := start + len(open)
		q := bytes.IndexByte(sheet[j:], '"')
		if q < 0 {
			return -1, -1
		}
		j += q + 1
		for j < len(sheet) && isXMLSpace(sheet[j]) {
			j++
		}
		rest := sheet[j:]
		switch {
		case bytes.HasPrefix(rest, []byte("/>")):
			return start, j + 2
		case bytes.HasPrefix(rest, []byte("></dimension>")):
			return start, j + len("></dimension>")
		}
		from = start + 1
	}
}

func isXMLSpace(b byte) bool { return b == ' ' || b == '\t' || b == '\n' || b == '\r' }

// usedRange is the range from the first to the last row and column that
// hold a cell (an element <c r="A1"...) in a worksheet's XML, "" when there
// is none. Cell text cannot hold the pattern: XML escapes its "<".
func usedRange(sheet []byte) string {
	const open = `<c r="`
	minRow, maxRow, minCol, maxCol := 0, 0, 0, 0
	for from := 0; ; {
		i := bytes.Index(sheet[from:], []byte(open))
		if i < 0 {
			break
		}
		p := from + i + len(open)
		from = p
		col, row, ok := parseCellRef(sheet[p:])
		if !ok {
			continue
		}
		if minRow == 0 || row < minRow {
			minRow = row
		}
		if row > maxRow {
			maxRow = row
		}
		if minCol == 0 || col < minCol {
			minCol = col
		}
		if col > maxCol {
			maxCol = col
		}
	}
	if maxRow == 0 {
		return ""
	}
	a, _ := excelize.CoordinatesToCellName(minCol, minRow)
	b, _ := excelize.CoordinatesToCellName(maxCol, maxRow)
	if a == b {
		return a
	}
	return a + ":" + b
}

// parseCellRef reads a cell reference such as AB12 followed by a quote at
// the start of b: one to three capital letters, then digits. It returns
// the column and row numbers, false when b does not start so or the
// numbers are out of Excel's range.
func parseCellRef(b []byte) (col, row int, ok bool) {
	i := 0
	for i < len(b) && i < 3 && b[i] >= 'A' && b[i] <= 'Z' {
		col = col*26 + int(b[i]-'A'+1)
		i++
	}
	if i == 0 {
		return 0, 0, false
	}
	j := i
	for j < len(b) && b[j] >= '0' && b[j] <= '9' {
		if row > ExcelMaxRows {
			return 0, 0, false
		}
		row = row*10 + int(b[j]-'0')
		j++
	}
	if j == i || j >= len(b) || b[j] != '"' {
		return 0, 0, false
	}
	if col > excelize.MaxColumns || row < 1 || row > ExcelMaxRows {
		return 0, 0, false
	}
	return col, row, true
}
