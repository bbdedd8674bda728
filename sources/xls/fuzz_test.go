package xls

import (
	"os"
	"path/filepath"
	"sort"
	"testing"
)

// fuzzLimits are small enough that a fuzzed file cannot make one input
// slow, large enough for the real files.
var fuzzLimits = Limits{MaxStreamBytes: 4 << 20, MaxRows: 65536, MaxColumns: 256, MaxCellBytes: 4 << 10}

// FuzzOpen opens mutations of the real files: it must return a workbook or
// an error, never panic, and render every formula of what it reads.
func FuzzOpen(f *testing.F) {
	files := realFiles(f)
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		data, err := os.ReadFile(files[name])
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "fuzz.xls")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		openHostile(t, path, fuzzLimits)
	})
}

// FuzzParse parses mutations of the real files' Workbook streams and of a
// synthetic one with every kind of cell, below the compound file, where
// most mutations reach the records.
func FuzzParse(f *testing.F) {
	f.Add(allCells())
	for _, path := range realFiles(f) {
		fh, err := os.Open(path)
		if err != nil {
			f.Fatal(err)
		}
		stream, err := workbookStream(fh, path, Limits{}.withDefaults())
		fh.Close()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(stream)
	}
	f.Fuzz(func(t *testing.T, stream []byte) {
		wb, err := parse("fuzz.xls", stream, fuzzLimits.withDefaults())
		if (wb == nil) == (err == nil) {
			t.Fatalf("workbook %v, error %v", wb != nil, err)
		}
		if wb == nil {
			return
		}
		for _, s := range wb.Sheets {
			for k := range s.formulas {
				s.Formula(int(k>>16)+1, int(k&0xFFFF))
			}
		}
	})
}
