package xls

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
)

// TestFooterFormulas checks formulas whose rows matter to the figures: the
// footers that leave data rows out, and numbers typed as sums in data cells.
func TestFooterFormulas(t *testing.T) {
	tests := []struct {
		file, sheet string
		row, col    int
		want, value string
	}{
		// 2009: data run to row 2533, the footers stop at 2516.
		{"statistiques2009.xls", "Visa Statistics 2009", 2535, 6, "SUBTOTAL(9,G2:G2516)", "10236628"},
		{"statistiques2009.xls", "Visa Statistics 2009", 2544, 6, "SUM(G2:G2516)", "10236628"},
		{"statistiques2009.xls", "Visa Statistics 2009", 2544, 7, "SUM(H2:H2516)", "11050932"},
		{"statistiques2009.xls", "Visa Statistics 2009", 2535, 3, `"Selection Sub total in "&$A$2535&" (*) "`, "Selection Sub total in 2009 (*) "},
		// 2010 NON SCHENGEN: the footers leave row 2 out.
		{"synthese_2010_with_filters_en.xls", "NON SCHENGEN", 285, 3, "SUM(D3:D275)", "40"},
		{"synthese_2010_with_filters_en.xls", "NON SCHENGEN", 279, 3, "SUBTOTAL(9,D3:D275)", "40"},
		{"synthese_2010_with_filters_en.xls", "SCHENGEN", 2208, 6, "SUM(G2:G2200)", "11018936"},
		// 2010: hand-typed sums in data cells.
		{"synthese_2010_with_filters_en.xls", "SCHENGEN", 983, 7, "107+19", "126"},
		{"synthese_2010_with_filters_en.xls", "SCHENGEN", 983, 9, "5306+701", "6007"},
		// Shared formulas (tExp pointing at a SHRFMLA), one calling IFERROR by name.
		{"synthese_2010_with_filters_en.xls", "SCHENGEN", 2, 8, "H2/G2", ""},
		{"synthese_2013_with_filters_en.xls", "Complete data", 2, 18, `IFERROR(IF(P2<>0,R2/P2,""),"")`, ""},
		{"synthese_2013_with_filters_en.xls", "Complete data", 969, 15, `IF(SUM(D969,I969)>0,SUM(D969,I969),"")`, ""},
		{"synthese_2013_with_filters_en.xls", "Complete data", 1998, 8, "SUM(I2:I1992)", "17285449"},
		// Cells without a formula.
		{"synthese_2013_with_filters_en.xls", "Complete data", 2, 8, "", "1204670"},
		{"synthese_2013_with_filters_en.xls", "Complete data", 1, 0, "", ""},
		{"synthese_2013_with_filters_en.xls", "Complete data", 70000, 300, "", ""},
		{"synthese_2013_with_filters_en.xls", "Complete data", 0, -1, "", ""},
	}
	books := map[string]*Workbook{}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%s/%s%d", tt.file, tt.sheet, colName(max(tt.col, 0)), tt.row), func(t *testing.T) {
			wb := books[tt.file]
			if wb == nil {
				wb = openReal(t, tt.file)
				books[tt.file] = wb
			}
			s := sheetOf(t, wb, tt.sheet)
			got, ok := s.Formula(tt.row, tt.col)
			if got != tt.want || !ok {
				t.Errorf("Formula = %q, %v; want %q, true", got, ok, tt.want)
			}
			if tt.value != "" {
				if v := cellText(s, tt.row, tt.col); v != tt.value {
					t.Errorf("value %q, want %q", v, tt.value)
				}
			}
		})
	}
}

// TestFormulasMatchXlrd renders every formula of the shipped files and
// compares it with xlrd's decompiler, which writes numbers as floats ("9.0")
// and a function called by name as CALL_ADDIN(name,...), and cannot
// decompile names in shared formulas.
func TestFormulasMatchXlrd(t *testing.T) {
	books := xlrdDump(t)
	floatZero := regexp.MustCompile(`(^|[^\w.$])(\d+)\.0\b`)
	addin := regexp.MustCompile(`^CALL_ADDIN\(_xlfn\.(\w+),(.*)\)$`)
	normalize := func(s string) string {
		s = addin.ReplaceAllString(s, "$1($2)")
		parts := strings.Split(s, `"`) // outside string constants: the even parts
		for i := 0; i < len(parts); i += 2 {
			parts[i] = floatZero.ReplaceAllString(parts[i], "$1$2")
		}
		return strings.Join(parts, `"`)
	}
	for name, path := range realFiles(t) {
		t.Run(name, func(t *testing.T) {
			wb, err := Open(path, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			compared, skipped, reparen, bad := 0, 0, 0, 0
			for i, ws := range books[name].Sheets {
				s := wb.Sheets[i]
				for _, f := range ws.Formulas {
					row, col := int(f[0].(float64)), int(f[1].(float64))
					got, ok := s.Formula(row+1, col)
					if !ok || got == "" {
						t.Errorf("%s!%s%d: Formula = %q, %v", ws.Name, colName(col), row+1, got, ok)
					}
					want, decompiled := f[2].(string)
					if !decompiled {
						skipped++
						continue
					}
					compared++
					want = normalize(want)
					if got != want && stripParens(got) == stripParens(want) {
						reparen++ // xlrd drops tParen tokens and adds parentheses by precedence
						continue
					}
					if got != want {
						if bad++; bad <= 20 {
							t.Errorf("%s!%s%d: %q, xlrd %q", ws.Name, colName(col), row+1, got, want)
						}
					}
				}
			}
			t.Logf("%s: %d formulas compared with xlrd (%d equal once parentheses are dropped), %d it could not decompile, %d differences",
				name, compared, reparen, skipped, bad)
		})
	}
}

// stripParens drops the parentheses outside string constants.
func stripParens(s string) string {
	parts := strings.Split(s, `"`)
	for i := 0; i < len(parts); i += 2 {
		parts[i] = strings.NewReplacer("(", "", ")", "").Replace(parts[i])
	}
	return strings.Join(parts, `"`)
}

// TestRender renders hand-made token sequences.
func TestRender(t *testing.T) {
	ref := func(ptg byte, row, col uint16) []byte { return le(ptg, row, col) }
	area := func(ptg byte, r1, r2, c1, c2 uint16) []byte { return le(ptg, r1, r2, c1, c2) }
	const rel = 0xC000 // both relative flags
	cat := func(parts ...[]byte) []byte { return le(toAny(parts)...) }
	tests := []struct {
		name   string
		tokens []byte
		want   string
		ok     bool
	}{
		{"relative ref", ref(0x44, 4, rel|8), "I5", true},
		{"absolute ref", ref(0x24, 4, 8), "$I$5", true},
		{"mixed ref", ref(0x24, 4, 0x8000|8), "$I5", true},
		{"add", cat(ref(0x44, 4, rel|8), ref(0x44, 4, rel|12), le(byte(0x03))), "I5+M5", true},
		{"ints", le(byte(0x1E), uint16(107), byte(0x1E), uint16(19), byte(0x03)), "107+19", true},
		{"tAttrSum", cat(area(0x25, 2, 274, rel|3, rel|3), le(byte(0x19), byte(0x10), uint16(0))), "SUM(D3:D275)", true},
		{"SUM by tFuncVar", cat(area(0x25, 1, 2515, rel|6, rel|6), le(byte(0x22), byte(1), uint16(4))), "SUM(G2:G2516)", true},
		{"SUBTOTAL", cat(le(byte(0x1E), uint16(9)), area(0x25, 1, 1991, rel|7, rel|7), le(byte(0x42), byte(2), uint16(344))), "SUBTOTAL(9,H2:H1992)", true},
		{"array-class area", cat(area(0x65, 0, 9, rel, rel), le(byte(0x42), byte(1), uint16(5))), "AVERAGE(A1:A10)", true},
		{"ROUND by tFunc", cat(le(byte(0x1F), 2.5), le(byte(0x1E), uint16(0)), le(byte(0x41), uint16(27))), "ROUND(2.5,0)", true},
		{"IF with attrs", cat(ref(0x44, 0, rel), le(byte(0x1E), uint16(0), byte(0x0D)), le(byte(0x19), byte(0x02), uint16(7)),
			le(byte(0x17), byte(3), byte(0), `a"b`), le(byte(0x19), byte(0x08), uint16(3)), le(byte(0x16)),
			le(byte(0x19), byte(0x08), uint16(3)), le(byte(0x42), byte(3), uint16(1))), `IF(A1>0,"a""b",)`, true},
		{"unary, percent, paren, power", cat(le(byte(0x1E), uint16(5), byte(0x13), byte(0x1E), uint16(2), byte(0x07), byte(0x15), byte(0x14))), "(-5^2)%", true},
		{"comparisons and concat", cat(le(byte(0x1D), byte(1), byte(0x1C), byte(0x07), byte(0x0E)), le(byte(0x17), byte(1), byte(0), "x", byte(0x08))), `TRUE<>#DIV/0!&"x"`, true},
		{"whole column", area(0x25, 0, 0xFFFF, rel|1, rel|1), "B:B", true},
		{"space attr skipped", cat(le(byte(0x19), byte(0x40), uint16(0x0100)), le(byte(0x1E), uint16(1))), "1", true},
		{"choose jump table", cat(le(byte(0x1E), uint16(1), byte(0x1E), uint16(2), byte(0x19), byte(0x04), uint16(1), uint16(0), uint16(0)),
			le(byte(0x42), byte(2), uint16(100))), "CHOOSE(1,2)", true},
		{"unknown function", cat(le(byte(0x1E), uint16(1)), le(byte(0x42), byte(1), uint16(999))), "FUNC999(1)", false},
		{"unknown fixed function", cat(le(byte(0x1E), uint16(1)), le(byte(0x41), uint16(999))), "1", false},
		{"unknown token", le(byte(0x1E), uint16(1), byte(0x18), byte(0x01)), "1", false},
		{"tRefN outside shared", ref(0x4C, 0, rel), "", false},
		{"operator without operands", le(byte(0x03)), "", false},
		{"truncated", le(byte(0x44), byte(1)), "", false},
		{"two operands left", le(byte(0x1E), uint16(1), byte(0x1E), uint16(2)), "1 2", false},
		{"tExp without SHRFMLA", le(byte(0x01), uint16(0), uint16(0)), "", false},
		{"tArray", le(byte(0x40), make([]byte, 7)), "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &Sheet{formulas: map[uint32]span{cellKey(0, 0): {0, uint32(len(tt.tokens))}}, rgce: tt.tokens}
			got, ok := s.Formula(1, 0)
			if got != tt.want || ok != tt.ok {
				t.Errorf("got %q, %v; want %q, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

func toAny(parts [][]byte) []any {
	out := make([]any, len(parts))
	for i, p := range parts {
		out[i] = p
	}
	return out
}

// TestRenderBounded checks that a hostile token sequence cannot make the
// rendered text (and the work to build it) grow without bound.
func TestRenderBounded(t *testing.T) {
	tokens := le(byte(0x17), byte(255), byte(0), strings.Repeat("x", 255))
	for range 60000 {
		tokens = append(tokens, 0x15) // tParen
	}
	s := &Sheet{formulas: map[uint32]span{0: {0, uint32(len(tokens))}}, rgce: tokens}
	got, ok := s.Formula(1, 0)
	if ok || len(got) > maxFormulaText {
		t.Errorf("got %d bytes, ok=%v", len(got), ok)
	}
}

func TestColName(t *testing.T) {
	for col, want := range map[int]string{0: "A", 25: "Z", 26: "AA", 255: "IV", 701: "ZZ", 702: "AAA", 16383: "XFD"} {
		if got := colName(col); got != want {
			t.Errorf("colName(%d) = %q, want %q", col, got, want)
		}
	}
}

func TestQuoteSheet(t *testing.T) {
	for name, want := range map[string]string{"Data": "Data", "Complete data": "'Complete data'", "2013": "'2013'", "It's": "'It''s'", "": "''"} {
		if got := quoteSheet(name); got != want {
			t.Errorf("quoteSheet(%q) = %q, want %q", name, got, want)
		}
	}
}
