package sources

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/visastats/visastats/sources/ectest"
)

// rewriteZip copies the zip at src to dst, letting edit write the entry
// name instead of copying it.
func rewriteZip(t *testing.T, src, dst, name string, edit func(orig []byte, w io.Writer) error) {
	t.Helper()
	zr, err := zip.OpenReader(src)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	out, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	zw := zip.NewWriter(out)
	found := false
	for _, f := range zr.File {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: f.Name, Method: zip.Deflate})
		if err != nil {
			t.Fatal(err)
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		orig, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		if f.Name == name {
			found = true
			err = edit(orig, w)
		} else {
			_, err = w.Write(orig)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if !found {
		t.Fatalf("%s has no %s", src, name)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
}

// writeRepeated writes n copies of b in large chunks.
func writeRepeated(w io.Writer, b byte, n int64) error {
	chunk := bytes.Repeat([]byte{b}, 1<<20)
	for n > 0 {
		k := min(n, int64(len(chunk)))
		if _, err := w.Write(chunk[:k]); err != nil {
			return err
		}
		n -= k
	}
	return nil
}

// insertBefore writes orig with gen's output inserted before the last
// occurrence of marker.
func insertBefore(marker string, gen func(w io.Writer) error) func([]byte, io.Writer) error {
	return func(orig []byte, w io.Writer) error {
		i := bytes.LastIndex(orig, []byte(marker))
		if i < 0 {
			return fmt.Errorf("no %s", marker)
		}
		if _, err := w.Write(orig[:i]); err != nil {
			return err
		}
		if err := gen(w); err != nil {
			return err
		}
		_, err := w.Write(orig[i:])
		return err
	}
}

// TestHostileInputs builds files that expand without bound from the real
// shipped ones (a worksheet and a shared-strings part that unzip to 300 MB,
// a cell of 1 MiB, a gzip TSV whose second line is 200 MB, a UNHCR CSV line
// of 10 million fields) and loads each in a child process: each must fail
// with an error naming the file, the place and the limit, and the child's
// peak RSS must stay under 512 MB.
func TestHostileInputs(t *testing.T) {
	if testing.Short() {
		t.Skip("builds files of hundreds of megabytes")
	}
	dir := t.TempDir()
	ec := ectest.File(t, "2023")
	const bomb = 300 << 20

	sheetBomb := filepath.Join(dir, "sheet-bomb-2023.xlsx")
	rewriteZip(t, ec, sheetBomb, "xl/worksheets/sheet2.xml", insertBefore("</sheetData>", func(w io.Writer) error {
		io.WriteString(w, `<row r="1048000"><c r="B1048000" t="inlineStr"><is><t>`)
		if err := writeRepeated(w, 'A', bomb); err != nil {
			return err
		}
		_, err := io.WriteString(w, `</t></is></c></row>`)
		return err
	}))
	stringsBomb := filepath.Join(dir, "strings-bomb-2023.xlsx")
	rewriteZip(t, ec, stringsBomb, "xl/sharedStrings.xml", insertBefore("</sst>", func(w io.Writer) error {
		io.WriteString(w, `<si><t>`)
		if err := writeRepeated(w, 'A', bomb); err != nil {
			return err
		}
		_, err := io.WriteString(w, `</t></si>`)
		return err
	}))
	bigCell := filepath.Join(dir, "big-cell-2023.xlsx")
	rewriteZip(t, ec, bigCell, "xl/worksheets/sheet2.xml", insertBefore("</sheetData>", func(w io.Writer) error {
		io.WriteString(w, `<row r="1048000"><c r="C1048000" t="inlineStr"><is><t>`)
		if err := writeRepeated(w, 'A', 1<<20); err != nil {
			return err
		}
		_, err := io.WriteString(w, `</t></is></c></row>`)
		return err
	}))

	lineBomb := filepath.Join(dir, "migr_asyappctzm_line_bomb.tsv.gz")
	{
		tsv := unhcrReadFixture(t, filepath.Join(esTestdata, "migr_asyappctzm_fixture_api.tsv"))
		f, err := os.Create(lineBomb)
		if err != nil {
			t.Fatal(err)
		}
		zw, _ := gzip.NewWriterLevel(f, gzip.BestSpeed)
		zw.Write(tsv[:bytes.IndexByte(tsv, '\n')+1])
		zw.Write([]byte("M,PER,AF,T,TOTAL,FRST,DE\t"))
		if err := writeRepeated(zw, '5', 200<<20); err != nil {
			t.Fatal(err)
		}
		zw.Write([]byte("\n"))
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	fieldBomb := filepath.Join(dir, "rdf_asylum-applications_field_bomb.csv")
	{
		real := unhcrReadFixture(t, unhcrApplicationsCSV)
		i := bytes.Index(real, []byte("ALB,BEL,G,N,RA,P,58\n"))
		var b bytes.Buffer
		b.Write(real[:i])
		b.WriteString("ALB,BEL,G,N,RA,P,58")
		b.Write(bytes.Repeat([]byte(",1"), 10_000_000))
		b.Write(real[i+len("ALB,BEL,G,N,RA,P,58"):])
		if err := os.WriteFile(fieldBomb, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	for _, tc := range []struct {
		name, kind, path string
		want             []string
	}{
		{"worksheet zip bomb", "ec", sheetBomb, []string{"unzipped workbook", "limits.max_workbook_bytes"}},
		{"shared strings zip bomb", "ec", stringsBomb, []string{"unzipped workbook", "limits.max_workbook_bytes"}},
		{"cell over the cell limit", "ec", bigCell, []string{`sheet "Data for consulates" row 1048000 column C`, "limits.max_cell_bytes"}},
		{"gzip line bomb", "eurostat", lineBomb, []string{"line 2", "limits.max_line_bytes"}},
		{"csv field bomb", "unhcr", fieldBomb, []string{"line 4", "limits.max_line_bytes"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fi, _ := os.Stat(tc.path)
			msg, rss := hostileChild(t, tc.kind, tc.path)
			for _, w := range append([]string{tc.path}, tc.want...) {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q lacks %q", msg, w)
				}
			}
			t.Logf("%s (%d bytes on disk): peak RSS %d MB: %s", tc.name, fi.Size(), rss>>10, msg)
			if rss > 512<<10 {
				t.Errorf("peak RSS %d MB, want under 512 MB", rss>>10)
			}
		})
	}
}

// TestHostileChild loads the one file named by VISASTATS_HOSTILE in this
// process, for TestHostileInputs, and prints the error and the peak RSS.
func TestHostileChild(t *testing.T) {
	spec := os.Getenv("VISASTATS_HOSTILE")
	if spec == "" {
		t.Skip("run by TestHostileInputs")
	}
	kind, path, _ := strings.Cut(spec, ":")
	ctx := context.Background()
	var err error
	switch kind {
	case "ec":
		_, err = readECSheet(t, path)
	case "eurostat":
		_, err = NewEurostat(EurostatConfig{Paths: []string{path}, CodeLists: esCodeLists}).Load(ctx, openTestDB(t))
	case "unhcr":
		_, err = NewUNHCR(UNHCRConfig{Paths: []string{path}}).Load(ctx, openTestDB(t))
	}
	if err == nil {
		err = errors.New("loaded without error")
	} else if !errors.Is(err, ErrLimit) {
		err = fmt.Errorf("not ErrLimit: %w", err)
	}
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	fmt.Printf("HOSTILE-ERR: %v\nHOSTILE-MAXRSS-KB: %d\n", err, ru.Maxrss)
}

// TestLineLimitReader checks the line limit where lines cross reads and
// where one read holds several lines, one of them too long.
func TestLineLimitReader(t *testing.T) {
	for _, tc := range []struct {
		text     string
		maxLine  int64
		chunk    int
		wantLine int64 // 0: no error
	}{
		{"aaa\nbbbbb\ncc\n", 5, 100, 0},
		{"aaa\nbbbbbb\ncc\n", 5, 100, 2},
		{"aaa\nbbbbbb\ncc\n", 5, 3, 2},
		{"aaaaaa", 5, 2, 1},
		{"a\nb\nc\ndddddd", 5, 100, 4},
		{"a\nb\nc\nddddd", 5, 1, 0},
	} {
		l := newLineLimitReader(strings.NewReader(tc.text), Limits{MaxLineBytes: tc.maxLine})
		_, err := io.CopyBuffer(io.Discard, struct{ io.Reader }{l}, make([]byte, tc.chunk))
		var le *LimitError
		switch {
		case tc.wantLine == 0 && err != nil:
			t.Errorf("%q: %v", tc.text, err)
		case tc.wantLine > 0 && (!errors.As(err, &le) || le.What != fmt.Sprintf("line %d", tc.wantLine)):
			t.Errorf("%q chunk %d: err = %v, want line %d", tc.text, tc.chunk, err, tc.wantLine)
		}
	}
}

// TestECDamagedMessages: a zip that is not a workbook and a workbook whose
// data sheet's XML is broken half-way each get a message that says what is
// wrong, not "damaged or truncated: EOF" or "the sheet is empty".
func TestECDamagedMessages(t *testing.T) {
	dir := t.TempDir()
	notWorkbook := filepath.Join(dir, "not-a-workbook-2023.xlsx")
	{
		f, err := os.Create(notWorkbook)
		if err != nil {
			t.Fatal(err)
		}
		zw := zip.NewWriter(f)
		w, _ := zw.Create("PROVENANCE.md")
		w.Write(unhcrReadFixture(t, filepath.Join(ecDataDir, "PROVENANCE.md")))
		zw.Close()
		f.Close()
	}
	corrupt := filepath.Join(dir, "corrupt-sheet-2023.xlsx")
	rewriteZip(t, ectest.File(t, "2023"), corrupt, "xl/worksheets/sheet2.xml", func(orig []byte, w io.Writer) error {
		_, err := w.Write(orig[:len(orig)/2])
		w.Write([]byte("<<>>"))
		return err
	})
	for _, tc := range []struct {
		path string
		is   error
		want []string
	}{
		{notWorkbook, ErrUnsupportedFormat, []string{"a zip file, but not an .xlsx workbook", "xl/workbook.xml"}},
		{corrupt, nil, []string{`sheet "Data for consulates": the sheet is damaged`, "xl/worksheets/sheet2.xml", "XML syntax error"}},
	} {
		_, err := readECSheet(t, tc.path)
		if err == nil {
			t.Fatalf("%s loaded", tc.path)
		}
		if tc.is != nil && !errors.Is(err, tc.is) {
			t.Errorf("%v, want %v", err, tc.is)
		}
		for _, w := range append(tc.want, tc.path) {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("error %q lacks %q", err, w)
			}
		}
	}
}

// hostileChild loads the input at path with the source kind in a child
// process (TestHostileChild) and returns its error message and peak RSS
// in KiB. The child collects garbage as visastats does by default, so
// that its peak RSS is the program's (make test raises GOGC).
func hostileChild(t *testing.T, kind, path string) (string, int64) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run", "^TestHostileChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), "VISASTATS_HOSTILE="+kind+":"+path, "GOGC=100")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	var msg string
	var rss int64
	for _, line := range strings.Split(string(out), "\n") {
		if m, ok := strings.CutPrefix(line, "HOSTILE-ERR: "); ok {
			msg = m
		}
		if m, ok := strings.CutPrefix(line, "HOSTILE-MAXRSS-KB: "); ok {
			rss, _ = strconv.ParseInt(m, 10, 64)
		}
	}
	if msg == "" || rss == 0 {
		t.Fatalf("child reported nothing:\n%s", out)
	}
	return msg, rss
}
