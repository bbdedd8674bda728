package xls

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"testing"
)

// maxHeap bounds the heap after reading any mutated file: the real files are
// about 1 MB and read into a few tens of MB.
const maxHeap = 1 << 30

// TestMutatedFiles damages the real workbooks in ways a broken download or a
// hostile file would (flipped bytes, truncation, lying record lengths and
// counts, impossible columns) and requires a clean result: a workbook or an
// error, never a panic, with the heap bounded.
func TestMutatedFiles(t *testing.T) {
	perFile := 60
	if testing.Short() {
		perFile = 15
	}
	dir := t.TempDir()
	names := make([]string, 0, 3)
	for name := range realFiles(t) {
		names = append(names, name)
	}
	sort.Strings(names)
	outcomes := map[string]int{}
	for fi, name := range names {
		orig, err := os.ReadFile(realFile(t, name))
		if err != nil {
			t.Fatal(err)
		}
		m := newMutator(t, orig, realFile(t, name), uint64(fi))
		for i := range perFile {
			kind, data := m.mutate(i)
			path := filepath.Join(dir, fmt.Sprintf("%s.%d.xls", name, i))
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			outcome := openHostile(t, path, Limits{})
			outcomes[kind+": "+outcome]++
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc > maxHeap {
				t.Errorf("%s mutation %d (%s): heap at %d MiB", name, i, kind, ms.HeapAlloc>>20)
			}
			os.Remove(path)
		}
	}
	keys := make([]string, 0, len(outcomes))
	for k := range outcomes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		t.Logf("%4d %s", outcomes[k], k)
	}
}

// openHostile opens a damaged file, renders every formula of what it reads,
// and returns a one-word outcome; a panic or an inconsistent result fails t.
func openHostile(t testing.TB, path string, lim Limits) (outcome string) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%s: panic: %v", path, r)
			outcome = "panic"
		}
	}()
	wb, err := Open(path, lim)
	var fe *FormatError
	switch {
	case err != nil && wb != nil:
		t.Errorf("%s: both a workbook and an error (%v)", path, err)
	case err == nil && wb == nil:
		t.Errorf("%s: neither a workbook nor an error", path)
	case err != nil && !errors.As(err, &fe):
		t.Errorf("%s: %v is not a *FormatError", path, err)
	case errors.Is(err, ErrLimit):
		return "limit error"
	case errors.Is(err, ErrUnsupported):
		return "unsupported"
	case err != nil:
		return "format error"
	}
	if wb == nil {
		return "bad"
	}
	for _, s := range wb.Sheets {
		if n := len(s.Rows); n > 0 && len(s.Rows[n-1]) == 0 {
			t.Errorf("%s sheet %q: a trailing empty row", path, s.Name)
		}
		for r, cells := range s.Rows {
			if n := len(cells); n > 0 && cells[n-1] == "" {
				t.Errorf("%s sheet %q row %d: a trailing empty cell", path, s.Name, r+1)
			}
		}
		for k := range s.formulas {
			s.Formula(int(k>>16)+1, int(k&0xFFFF))
		}
	}
	return "read"
}

// mutator damages one real file deterministically.
type mutator struct {
	t      testing.TB
	orig   []byte
	rng    *rand.Rand
	stream []byte
	recs   []record // the Workbook stream's records, data as in stream
}

func newMutator(t testing.TB, orig []byte, path string, seed uint64) *mutator {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	stream, err := workbookStream(f, path, Limits{}.withDefaults())
	if err != nil {
		t.Fatal(err)
	}
	m := &mutator{t: t, orig: orig, rng: rand.New(rand.NewPCG(seed, 2026)), stream: stream}
	r := recordReader{buf: stream}
	for {
		rec, ok, err := r.next()
		if err != nil || !ok {
			break
		}
		m.recs = append(m.recs, rec)
	}
	return m
}

// fileOffset finds where the stream bytes at off are in the file, by a
// window of the stream that occurs once in it; -1 when it cannot tell (the
// window straddles non-adjacent sectors, or repeats).
func (m *mutator) fileOffset(off int64) int64 {
	end := min(int(off)+24, len(m.stream))
	w := m.stream[off:end]
	i := bytes.Index(m.orig, w)
	if i < 0 || len(w) < 12 || bytes.Index(m.orig[i+1:], w) >= 0 {
		return -1
	}
	return int64(i)
}

// pick returns a random record of one of the types (any type when none),
// and its offset in the file.
func (m *mutator) pick(types ...uint16) (record, int64) {
	for range 1000 {
		r := m.recs[m.rng.IntN(len(m.recs))]
		if len(types) > 0 {
			match := false
			for _, ty := range types {
				match = match || r.typ == ty
			}
			if !match {
				continue
			}
		}
		if off := m.fileOffset(r.off); off >= 0 {
			return r, off
		}
	}
	return record{}, -1
}

// mutate returns the kind of damage done and the damaged file.
func (m *mutator) mutate(i int) (string, []byte) {
	b := bytes.Clone(m.orig)
	put16 := func(at int64, v uint16) {
		if at >= 0 && int(at)+2 <= len(b) {
			binary.LittleEndian.PutUint16(b[at:], v)
		}
	}
	put32 := func(at int64, v uint32) {
		if at >= 0 && int(at)+4 <= len(b) {
			binary.LittleEndian.PutUint32(b[at:], v)
		}
	}
	cells := []uint16{recLABELSST, recNUMBER, recRK, recFORMULA, recBLANK, recBOOLERR, recLABEL}
	switch kind := i % 12; kind {
	case 0: // flip bytes of a record
		r, off := m.pick()
		for range 1 + m.rng.IntN(4) {
			if at := off + int64(m.rng.IntN(4+len(r.data))); off >= 0 && int(at) < len(b) {
				b[at] ^= byte(1 + m.rng.IntN(255))
			}
		}
		return "flipped record bytes", b
	case 1: // truncate the file
		return "truncated file", b[:m.rng.IntN(len(b))]
	case 2: // a record length that lies
		_, off := m.pick()
		put16(off+2, []uint16{0, 1, 0xFFFF, uint16(m.rng.IntN(0x10000))}[m.rng.IntN(4)])
		return "record length", b
	case 3: // a huge SST count
		_, off := m.pick(recSST)
		put32(off+8, []uint32{0xFFFFFFFF, 0x7FFFFFFF, 1 << 24}[m.rng.IntN(3)])
		return "SST count", b
	case 4: // column 0xFFFF
		_, off := m.pick(cells...)
		put16(off+6, 0xFFFF)
		return "column 0xFFFF", b
	case 5: // the last row BIFF8 has
		_, off := m.pick(cells...)
		put16(off+4, 0xFFFF)
		return "row 0xFFFF", b
	case 6: // a MULRK or MULBLANK that spans every column
		r, off := m.pick(recMULRK, recMULBLANK)
		put16(off+4+int64(len(r.data))-2, 0xFFFF)
		return "MULRK span", b
	case 7: // an SST index or string length out of range
		_, off := m.pick(recLABELSST)
		put32(off+10, m.rng.Uint32())
		if _, sst := m.pick(recSST); m.rng.IntN(2) == 0 {
			put16(sst+12, 0xFFFF) // the first string's character count
		}
		return "SST index or string length", b
	case 8: // a BOUNDSHEET pointing elsewhere
		_, off := m.pick(recBOUNDSHEET)
		put32(off+4, m.rng.Uint32()%uint32(len(m.stream)))
		return "BOUNDSHEET offset", b
	case 9: // a record turned into another type
		_, off := m.pick()
		types := append(cells, recMULRK, recSST, recBOF, recEOF, recSTRING, recSHRFMLA, recCONTINUE, recFILEPASS)
		put16(off, types[m.rng.IntN(len(types))])
		return "record type", b
	case 10: // formula tokens
		r, off := m.pick(recFORMULA, recSHRFMLA)
		for range 1 + m.rng.IntN(3) {
			if len(r.data) > 22 {
				b[off+4+22+int64(m.rng.IntN(len(r.data)-22))] = byte(m.rng.IntN(256))
			}
		}
		return "formula tokens", b
	default: // bytes anywhere, the compound file's own structures included
		for range 1 + m.rng.IntN(8) {
			b[m.rng.IntN(len(b))] ^= byte(1 + m.rng.IntN(255))
		}
		return "flipped file bytes", b
	}
}
