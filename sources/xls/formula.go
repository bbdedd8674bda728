package xls

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// sharedFormula is a SHRFMLA record: tokens shared by the cells of a range,
// whose FORMULA records hold only a tExp pointing at the range's first cell
// (Sheet.shared is keyed by that cell).
type sharedFormula struct {
	lastRow, lastCol int
	tokens           span
}

// maxFormulaText bounds a rendered formula (Excel's own limit is 8,192
// characters); beyond it rendering stops with ok=false.
const maxFormulaText = 16 << 10

// Formula returns the formula of the cell at 1-based row and 0-based col,
// rendered as Excel would show it without the leading "=", e.g.
// "SUM(D3:D275)", "SUBTOTAL(9,H2:H1992)", "I5+M5", "107+19";
// "" when the cell holds no formula. ok=false when the cell has a formula
// that uses tokens the renderer does not know (the text is then a
// best effort, never a panic).
//
// Parentheses are the ones typed (kept as tParen tokens), numbers appear as
// typed ("0", not "0.0"), a cell of a shared formula shows its own
// references, defined names show by name, and functions that .xls stores
// by name (IFERROR as "_xlfn.IFERROR") show by their plain name. Array
// formulas, external references and functions outside the renderer's table
// give ok=false.
func (s *Sheet) Formula(row, col int) (text string, ok bool) {
	row--
	if row < 0 || row > 0xFFFF || col < 0 || col > 0xFFFF {
		return "", true
	}
	sp, found := s.formulas[cellKey(row, col)]
	if !found {
		return "", true
	}
	return s.render(s.tokens(sp), row, col, false)
}

// tokens returns a formula's tokens.
func (s *Sheet) tokens(sp span) []byte {
	end := uint64(sp.off) + uint64(sp.n)
	if end > uint64(len(s.rgce)) {
		return nil
	}
	return s.rgce[sp.off:end]
}

// fn describes a built-in function: its name and, for tFunc, its fixed
// number of arguments (tFuncVar carries the count itself).
type fn struct {
	name string
	args int // -1: variable, only called through tFuncVar
}

// functions are the built-in functions this renderer names, by their index
// in Excel's function table ([MS-XLS] Ftab). Others render as FUNC<n> with
// ok=false.
var functions = map[int]fn{
	0: {"COUNT", -1}, 1: {"IF", -1}, 2: {"ISNA", 1}, 3: {"ISERROR", 1}, 4: {"SUM", -1},
	5: {"AVERAGE", -1}, 6: {"MIN", -1}, 7: {"MAX", -1}, 8: {"ROW", -1}, 9: {"COLUMN", -1},
	10: {"NA", 0}, 19: {"PI", 0}, 20: {"SQRT", 1}, 24: {"ABS", 1}, 25: {"INT", 1}, 26: {"SIGN", 1},
	27: {"ROUND", 2}, 29: {"INDEX", -1}, 31: {"MID", 3}, 32: {"LEN", 1}, 33: {"VALUE", 1},
	34: {"TRUE", 0}, 35: {"FALSE", 0}, 36: {"AND", -1}, 37: {"OR", -1}, 38: {"NOT", 1}, 39: {"MOD", 2},
	65: {"DATE", 3}, 67: {"DAY", 1}, 68: {"MONTH", 1}, 69: {"YEAR", 1}, 74: {"NOW", 0},
	100: {"CHOOSE", -1}, 101: {"HLOOKUP", -1}, 102: {"VLOOKUP", -1}, 112: {"LOWER", 1}, 113: {"UPPER", 1},
	115: {"LEFT", -1}, 116: {"RIGHT", -1}, 118: {"TRIM", 1}, 129: {"ISBLANK", 1}, 169: {"COUNTA", -1},
	183: {"PRODUCT", -1}, 212: {"ROUNDUP", 2}, 213: {"ROUNDDOWN", 2}, 221: {"TODAY", 0},
	336: {"CONCATENATE", -1}, 337: {"POWER", 2}, 344: {"SUBTOTAL", -1}, 345: {"SUMIF", -1},
	346: {"COUNTIF", 2}, 347: {"COUNTBLANK", 1},
}

// binaryOps are the infix operators by token (tAdd .. tRange).
var binaryOps = map[byte]string{
	0x03: "+", 0x04: "-", 0x05: "*", 0x06: "/", 0x07: "^", 0x08: "&", 0x09: "<", 0x0A: "<=",
	0x0B: "=", 0x0C: ">=", 0x0D: ">", 0x0E: "<>", 0x0F: " ", 0x10: ",", 0x11: ":",
}

// unaryOps are what tUplus, tUminus, tPercent and tParen put before and
// after their operand.
var unaryOps = map[byte][2]string{0x12: {"+", ""}, 0x13: {"-", ""}, 0x14: {"", "%"}, 0x15: {"(", ")"}}

// refErrSizes are the data sizes of tRefErr, tAreaErr, tRefErr3d and
// tAreaErr3d.
var refErrSizes = map[byte]int{0x0A: 4, 0x0B: 8, 0x1C: 6, 0x1D: 10}

// renderer turns formula tokens (an rgce) into text with an operand stack.
type renderer struct {
	sh       *Sheet
	row, col int  // the formula's cell, for the relative references of shared formulas
	shared   bool // rendering a SHRFMLA's tokens: tRefN and tAreaN allowed
	stack    []string
	size     int // bytes on the stack, to stop at maxFormulaText
}

// render renders tokens for the cell at 0-based row and col.
func (s *Sheet) render(tokens []byte, row, col int, shared bool) (string, bool) {
	r := &renderer{sh: s, row: row, col: col, shared: shared}
	ok := r.run(tokens)
	if len(r.stack) != 1 {
		return strings.Join(r.stack, " "), false
	}
	return r.stack[0], ok
}

func (r *renderer) push(s string) bool {
	r.size += len(s)
	if r.size > maxFormulaText {
		return false
	}
	r.stack = append(r.stack, s)
	return true
}

// pop removes the top n operands and returns them in order.
func (r *renderer) pop(n int) ([]string, bool) {
	if n > len(r.stack) {
		return nil, false
	}
	args := make([]string, n)
	copy(args, r.stack[len(r.stack)-n:])
	r.stack = r.stack[:len(r.stack)-n]
	for _, a := range args {
		r.size -= len(a)
	}
	return args, true
}

// call pushes a function call over the top argc operands.
func (r *renderer) call(name string, argc int) bool {
	args, ok := r.pop(argc)
	return ok && r.push(name+"("+strings.Join(args, ",")+")")
}

// run renders the tokens. It returns false at a token it does not know or
// a malformed sequence, where it stops, and also when it rendered a
// function it does not name (as FUNC<n>).
func (r *renderer) run(b []byte) bool {
	known := true
	for i := 0; i < len(b); {
		t := b[i]
		i++
		if t >= 0x20 { // an operand or function: its class (bits 5-6) does not change the text
			n, named, ok := r.classified(t&0x1F, b[i:])
			if !ok {
				return false
			}
			known = known && named
			i += n
			continue
		}
		n, ok := r.basic(t, b[i:])
		if !ok {
			return false
		}
		i += n
	}
	return known
}

// basic renders one unclassified token (0x01-0x1F) whose data start at b and
// returns how many data bytes it used; ok=false stops rendering.
func (r *renderer) basic(t byte, b []byte) (n int, ok bool) {
	switch t {
	case 0x01: // tExp: the cell belongs to a shared formula or an array
		if len(b) < 4 || r.shared {
			return 0, false
		}
		text, ok := r.sh.sharedText(u16(b, 0), u16(b, 2), r.row, r.col)
		return 4, r.push(text) && ok
	case 0x12, 0x13, 0x14, 0x15: // tUplus, tUminus, tPercent, tParen
		a, ok := r.pop(1)
		if !ok {
			return 0, false
		}
		return 0, r.push(unaryOps[t][0] + a[0] + unaryOps[t][1])
	case 0x16: // tMissArg
		return 0, r.push("")
	case 0x17: // tStr
		s := segments{recs: []record{{data: b}}}
		d := stringDecoder{maxBytes: maxFormulaText}
		str, err := d.read(&s, 1)
		return s.pos, err == nil && r.push(`"`+strings.ReplaceAll(str, `"`, `""`)+`"`)
	case 0x19: // tAttr: a kind byte and two bytes of data
		if len(b) < 3 {
			return 0, false
		}
		kind, data := b[0], u16(b, 1)
		switch {
		case kind&0x10 != 0: // tAttrSum: SUM of the one operand
			a, ok := r.pop(1)
			return 3, ok && r.push("SUM("+a[0]+")")
		case kind&0x04 != 0: // tAttrChoose: a jump table follows
			n := 3 + 2*(data+1)
			return n, len(b) >= n
		}
		return 3, true // tAttrSemi, tAttrIf, tAttrGoto, tAttrSpace, tAttrBaxcel: nothing to show
	case 0x1C, 0x1D: // tErr, tBool
		return 1, len(b) >= 1 && r.push(boolErr(b[0], t == 0x1C))
	case 0x1E: // tInt
		return 2, len(b) >= 2 && r.push(strconv.Itoa(u16(b, 0)))
	case 0x1F: // tNum
		return 8, len(b) >= 8 && r.push(formulaNumber(math.Float64frombits(binary.LittleEndian.Uint64(b))))
	}
	op, isOp := binaryOps[t]
	if !isOp {
		return 0, false // tTbl, the extended tokens and unknown ones
	}
	a, ok := r.pop(2)
	return 0, ok && r.push(a[0]+op+a[1])
}

// classified renders one classified token (reference, value or array class;
// t without its class bits) whose data start at b and returns how many data
// bytes it used. named is false for a function rendered as FUNC<n>; ok=false
// stops rendering.
func (r *renderer) classified(t byte, b []byte) (n int, named, ok bool) {
	switch t {
	case 0x01: // tFunc: a fixed number of arguments, known from the table
		if len(b) < 2 {
			return 0, false, false
		}
		f, known := functions[u16(b, 0)]
		if !known || f.args < 0 {
			return 0, false, false // without the argument count it cannot go on
		}
		return 2, true, r.call(f.name, f.args)
	case 0x02: // tFuncVar: the argument count, then the function
		if len(b) < 3 {
			return 0, false, false
		}
		argc, idx := int(b[0]&0x7F), u16(b, 1)
		if f, known := functions[idx]; known {
			return 3, true, r.call(f.name, argc)
		}
		if idx == 0xFF && argc > 0 { // a function called by name, its first argument
			args, ok := r.pop(argc)
			if !ok {
				return 0, false, false
			}
			name := strings.TrimPrefix(args[0], "_xlfn.") // how .xls stores functions newer than Excel 2003
			return 3, true, r.push(name + "(" + strings.Join(args[1:], ",") + ")")
		}
		return 3, false, r.call(fmt.Sprintf("FUNC%d", idx), argc)
	case 0x04, 0x0C: // tRef, tRefN
		if len(b) < 4 || (t == 0x0C && !r.shared) {
			return 0, false, false
		}
		return 4, true, r.push(r.cellRef(u16(b, 0), u16(b, 2), t == 0x0C))
	case 0x05, 0x0D: // tArea, tAreaN
		if len(b) < 8 || (t == 0x0D && !r.shared) {
			return 0, false, false
		}
		return 8, true, r.push(r.areaRef(u16(b, 0), u16(b, 2), u16(b, 4), u16(b, 6), t == 0x0D))
	case 0x06, 0x07, 0x08: // tMemArea, tMemErr, tMemNoMem: the subexpression follows
		return 6, true, len(b) >= 6
	case 0x09, 0x0E, 0x0F: // tMemFunc, tMemAreaN, tMemNoMemN
		return 2, true, len(b) >= 2
	case 0x0A, 0x0B, 0x1C, 0x1D: // tRefErr, tAreaErr, tRefErr3d, tAreaErr3d
		n := refErrSizes[t]
		return n, true, len(b) >= n && r.push("#REF!")
	case 0x1A: // tRef3d
		if len(b) < 6 {
			return 0, false, false
		}
		sheet, known := r.sh.names.sheetPrefix(u16(b, 0))
		return 6, true, r.push(sheet+r.cellRef(u16(b, 2), u16(b, 4), false)) && known
	case 0x1B: // tArea3d
		if len(b) < 10 {
			return 0, false, false
		}
		sheet, known := r.sh.names.sheetPrefix(u16(b, 0))
		return 10, true, r.push(sheet+r.areaRef(u16(b, 2), u16(b, 4), u16(b, 6), u16(b, 8), false)) && known
	case 0x03: // tName: a defined name, 1-based
		if len(b) < 4 {
			return 0, false, false
		}
		name, known := r.sh.names.definedName(u16(b, 0))
		return 4, true, r.push(name) && known
	case 0x19: // tNameX: a name of a workbook by EXTERNSHEET entry, 1-based
		if len(b) < 6 {
			return 0, false, false
		}
		name, known := r.sh.names.externName(u16(b, 0), u16(b, 2))
		return 6, true, r.push(name) && known
	}
	return 0, false, false // tArray and unknown tokens
}

// cellRef renders a reference: rw is the row field, cw the column field
// with its relative flags (bit 14 column, bit 15 row). In a shared formula
// (rel) a relative row or column is an offset from the formula's cell.
func (r *renderer) cellRef(rw, cw int, rel bool) string {
	row, rowAbs, col, colAbs := r.resolve(rw, cw, rel)
	return dollar(colAbs) + colName(col) + dollar(rowAbs) + strconv.Itoa(row+1)
}

// areaRef renders a range, as Excel shows whole columns (A:A) and rows (1:1).
func (r *renderer) areaRef(rw1, rw2, cw1, cw2 int, rel bool) string {
	row1, rowAbs1, col1, colAbs1 := r.resolve(rw1, cw1, rel)
	row2, rowAbs2, col2, colAbs2 := r.resolve(rw2, cw2, rel)
	switch {
	case row1 == 0 && row2 == 0xFFFF && rowAbs1 == rowAbs2:
		return dollar(colAbs1) + colName(col1) + ":" + dollar(colAbs2) + colName(col2)
	case col1 == 0 && col2 == 0xFF && colAbs1 == colAbs2:
		return dollar(rowAbs1) + strconv.Itoa(row1+1) + ":" + dollar(rowAbs2) + strconv.Itoa(row2+1)
	}
	return dollar(colAbs1) + colName(col1) + dollar(rowAbs1) + strconv.Itoa(row1+1) + ":" +
		dollar(colAbs2) + colName(col2) + dollar(rowAbs2) + strconv.Itoa(row2+1)
}

// resolve decodes a row field and a column field to a 0-based position.
func (r *renderer) resolve(rw, cw int, rel bool) (row int, rowAbs bool, col int, colAbs bool) {
	rowAbs, colAbs = cw&0x8000 == 0, cw&0x4000 == 0
	row, col = rw, cw&0x3FFF
	if rel && !rowAbs {
		row = (r.row + int(int16(rw))) & 0xFFFF
	}
	if rel && !colAbs {
		col = (r.col + int(int8(cw&0xFF))) & 0xFF
	}
	return row, rowAbs, col, colAbs
}

func dollar(abs bool) string {
	if abs {
		return "$"
	}
	return ""
}

// colName turns a 0-based column into letters: 0 A, 25 Z, 26 AA.
func colName(c int) string {
	var b [4]byte
	i := len(b)
	for c++; c > 0 && i > 0; c = (c - 1) / 26 {
		i--
		b[i] = byte('A' + (c-1)%26)
	}
	return string(b[i:])
}

// formulaNumber shows a number constant as Excel's formula bar does.
func formulaNumber(v float64) string {
	if a := math.Abs(v); v != 0 && (a >= 1e15 || a < 1e-9) {
		return strings.Replace(strconv.FormatFloat(v, 'E', -1, 64), "E+0", "E+", 1)
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// sharedText renders the shared formula whose range starts at (firstRow,
// firstCol) for the cell at row and col.
func (s *Sheet) sharedText(firstRow, firstCol, row, col int) (string, bool) {
	f, ok := s.shared[cellKey(firstRow, firstCol)]
	if !ok || row < firstRow || row > f.lastRow || col < firstCol || col > f.lastCol {
		return "", false // an array formula, or a shared formula that is missing
	}
	return s.render(s.tokens(f.tokens), row, col, true)
}

// definedName returns the NAME record at 1-based index i.
func (t *nameTable) definedName(i int) (string, bool) {
	if t == nil || i < 1 || i > len(t.defined) {
		return fmt.Sprintf("NAME%d", i), false
	}
	return t.defined[i-1], true
}

// externName returns a name used through EXTERNSHEET entry ixti: known only
// when that entry is this workbook, whose NAME records it then indexes.
func (t *nameTable) externName(ixti, i int) (string, bool) {
	if t == nil || ixti >= len(t.xti) || t.xti[ixti].book >= len(t.selfBook) || !t.selfBook[t.xti[ixti].book] {
		return fmt.Sprintf("EXTERNNAME%d", i), false
	}
	return t.definedName(i)
}

// sheetPrefix renders the sheet part of a 3-D reference ("Data!",
// "'Complete data'!", "'Jan:Mar'!"); ok is false when the EXTERNSHEET entry
// points outside this workbook or nowhere.
func (t *nameTable) sheetPrefix(ixti int) (string, bool) {
	if t == nil || ixti >= len(t.xti) {
		return "#REF!", false
	}
	x := t.xti[ixti]
	if x.book >= len(t.selfBook) || !t.selfBook[x.book] {
		return "[external]!", false
	}
	if x.first >= len(t.sheets) || x.last >= len(t.sheets) {
		return "#REF!", false
	}
	if x.last == x.first {
		return quoteSheet(t.sheets[x.first]) + "!", true
	}
	first, last := quoteSheet(t.sheets[x.first]), quoteSheet(t.sheets[x.last])
	if first[0] == '\'' || last[0] == '\'' {
		return quoteSheet(t.sheets[x.first]+":"+t.sheets[x.last]) + "!", true
	}
	return first + ":" + last + "!", true
}

// quoteSheet quotes a sheet name as Excel does in references when it holds
// anything but letters, digits, '_' and '.', or starts with a digit.
func quoteSheet(name string) string {
	plain := name != ""
	for i, c := range name {
		if !(c == '_' || c == '.' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' && i > 0 || c >= 0x80) {
			plain = false
		}
	}
	if plain {
		return name
	}
	return "'" + strings.ReplaceAll(name, "'", "''") + "'"
}
