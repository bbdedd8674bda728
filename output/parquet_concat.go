package output

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// ConcatParquet writes the row groups of the Parquet files parts, in that
// order, into one Parquet file at path, without decoding a page: the
// column chunks are copied byte for byte and only the footer is rewritten
// (row counts, row group ordinals and every absolute file offset). The
// parts must have byte-identical schemas and key-value metadata, as files
// written by one writer from one query do; the footer of the first part
// is kept otherwise. It returns the rows of the written file. The file
// appears at path only when complete and synced.
//
// This lets several writers produce consecutive ranges of one ordered
// file side by side. The footer is walked with the Thrift compact
// protocol directly (fields copied as they are, only offsets changed), so
// nothing of a writer's footer is lost or re-encoded differently.
func ConcatParquet(ctx context.Context, path string, parts []string) (int64, error) {
	if len(parts) == 0 {
		return 0, fmt.Errorf("concatenate into %s: no parts", filepath.Base(path))
	}
	type part struct {
		f      *os.File
		body   int64 // bytes between the leading magic and the footer
		footer []byte
	}
	ps := make([]part, 0, len(parts))
	defer func() {
		for _, p := range ps {
			p.f.Close()
		}
	}()
	for _, name := range parts {
		f, err := os.Open(name)
		if err != nil {
			return 0, fmt.Errorf("concatenate into %s: %w", filepath.Base(path), err)
		}
		ps = append(ps, part{f: f})
		body, footer, err := readFooter(f)
		if err != nil {
			return 0, fmt.Errorf("concatenate into %s: part %s: %w", filepath.Base(path), filepath.Base(name), err)
		}
		ps[len(ps)-1].body, ps[len(ps)-1].footer = body, footer
	}
	footers := make([][]byte, len(ps))
	shifts := make([]int64, len(ps))
	var at int64 // where the next body starts in the new file, minus the magic
	for i, p := range ps {
		footers[i], shifts[i] = p.footer, at
		at += p.body
	}
	footer, rows, err := mergeFooters(footers, shifts)
	if err != nil {
		return 0, fmt.Errorf("concatenate into %s: %w", filepath.Base(path), err)
	}
	err = writeAtomic(path, func(out *os.File) error {
		if _, err := out.Write([]byte(parquetMagic)); err != nil {
			return err
		}
		for i, p := range ps {
			if err := ctx.Err(); err != nil {
				return err
			}
			if _, err := io.Copy(out, io.NewSectionReader(p.f, int64(len(parquetMagic)), p.body)); err != nil {
				return fmt.Errorf("copy %s: %w", filepath.Base(parts[i]), err)
			}
		}
		var tail [4]byte
		binary.LittleEndian.PutUint32(tail[:], uint32(len(footer)))
		if _, err := out.Write(footer); err != nil {
			return err
		}
		if _, err := out.Write(tail[:]); err != nil {
			return err
		}
		_, err := out.Write([]byte(parquetMagic))
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("concatenate into %s: %w", filepath.Base(path), err)
	}
	return rows, nil
}

const parquetMagic = "PAR1"

// readFooter returns the length of f's body (between the leading magic
// and the footer) and its footer (the Thrift-encoded FileMetaData).
func readFooter(f *os.File) (int64, []byte, error) {
	st, err := f.Stat()
	if err != nil {
		return 0, nil, err
	}
	size := st.Size()
	if size < 12 {
		return 0, nil, fmt.Errorf("%d bytes, too short for a Parquet file", size)
	}
	var head [4]byte
	if _, err := f.ReadAt(head[:], 0); err != nil {
		return 0, nil, err
	}
	var tail [8]byte
	if _, err := f.ReadAt(tail[:], size-8); err != nil {
		return 0, nil, err
	}
	if string(head[:]) != parquetMagic || string(tail[4:]) != parquetMagic {
		return 0, nil, errors.New("not a Parquet file (no PAR1 magic at both ends)")
	}
	n := int64(binary.LittleEndian.Uint32(tail[:4]))
	if n <= 0 || n > size-12 {
		return 0, nil, fmt.Errorf("footer length %d does not fit the file's %d bytes", n, size)
	}
	footer := make([]byte, n)
	if _, err := f.ReadAt(footer, size-8-n); err != nil {
		return 0, nil, err
	}
	return size - 8 - n - int64(len(parquetMagic)), footer, nil
}

// Thrift compact protocol types.
const (
	tBoolTrue  = 1
	tBoolFalse = 2
	tByte      = 3
	tI16       = 4
	tI32       = 5
	tI64       = 6
	tDouble    = 7
	tBinary    = 8
	tList      = 9
	tSet       = 10
	tMap       = 11
	tStruct    = 12
)

// Field ids of parquet.thrift used by the merge.
const (
	fmSchema    = 2 // FileMetaData
	fmNumRows   = 3
	fmRowGroups = 4
	fmKeyValue  = 5

	rgColumns    = 1 // RowGroup
	rgFileOffset = 5
	rgOrdinal    = 7

	ccFileOffset        = 2 // ColumnChunk
	ccMetaData          = 3
	ccOffsetIndexOffset = 4
	ccColumnIndexOffset = 6

	cmDataPageOffset       = 9 // ColumnMetaData
	cmIndexPageOffset      = 10
	cmDictionaryPageOffset = 11
	cmBloomFilterOffset    = 14
)

// maxThriftDepth bounds the nesting the walker follows.
const maxThriftDepth = 64

// thriftReader walks Thrift compact-protocol bytes.
type thriftReader struct {
	b []byte
	p int
}

func (r *thriftReader) byte() (byte, error) {
	if r.p >= len(r.b) {
		return 0, io.ErrUnexpectedEOF
	}
	c := r.b[r.p]
	r.p++
	return c, nil
}

func (r *thriftReader) uvarint() (uint64, error) {
	v, n := binary.Uvarint(r.b[r.p:])
	if n <= 0 {
		return 0, fmt.Errorf("bad varint at footer byte %d", r.p)
	}
	r.p += n
	return v, nil
}

func (r *thriftReader) varint() (int64, error) {
	u, err := r.uvarint()
	return int64(u>>1) ^ -int64(u&1), err
}

// field reads a field header after the field id last; ok is false at the
// struct's stop byte.
func (r *thriftReader) field(last int16) (id int16, typ byte, ok bool, err error) {
	h, err := r.byte()
	if err != nil || h == 0 {
		return 0, 0, false, err
	}
	typ = h & 0x0f
	if d := h >> 4; d != 0 {
		return last + int16(d), typ, true, nil
	}
	v, err := r.varint()
	return int16(v), typ, true, err
}

// list reads a list or set header.
func (r *thriftReader) list() (n int, elem byte, err error) {
	h, err := r.byte()
	if err != nil {
		return 0, 0, err
	}
	elem, size := h&0x0f, uint64(h>>4)
	if size == 15 {
		if size, err = r.uvarint(); err != nil {
			return 0, 0, err
		}
	}
	if size > uint64(len(r.b)) { // every element takes at least a byte
		return 0, 0, fmt.Errorf("list of %d elements in a footer of %d bytes", size, len(r.b))
	}
	return int(size), elem, nil
}

// skip moves past a value of type typ; inList says whether it is a list
// element (where booleans take a byte).
func (r *thriftReader) skip(typ byte, inList bool, depth int) error {
	if depth > maxThriftDepth {
		return errors.New("footer nested too deep")
	}
	switch typ {
	case tBoolTrue, tBoolFalse:
		if inList {
			_, err := r.byte()
			return err
		}
		return nil
	case tByte:
		_, err := r.byte()
		return err
	case tI16, tI32, tI64:
		_, err := r.uvarint()
		return err
	case tDouble:
		if r.p+8 > len(r.b) {
			return io.ErrUnexpectedEOF
		}
		r.p += 8
		return nil
	case tBinary:
		n, err := r.uvarint()
		if err != nil {
			return err
		}
		if n > uint64(len(r.b)-r.p) {
			return io.ErrUnexpectedEOF
		}
		r.p += int(n)
		return nil
	case tList, tSet:
		n, elem, err := r.list()
		if err != nil {
			return err
		}
		for i := 0; i < n; i++ {
			if err := r.skip(elem, true, depth+1); err != nil {
				return err
			}
		}
		return nil
	case tMap:
		n, err := r.uvarint()
		if err != nil || n == 0 {
			return err
		}
		kv, err := r.byte()
		if err != nil {
			return err
		}
		if n > uint64(len(r.b)) {
			return fmt.Errorf("map of %d entries in a footer of %d bytes", n, len(r.b))
		}
		for i := uint64(0); i < n; i++ {
			if err := r.skip(kv>>4, true, depth+1); err != nil {
				return err
			}
			if err := r.skip(kv&0x0f, true, depth+1); err != nil {
				return err
			}
		}
		return nil
	case tStruct:
		var last int16
		for {
			id, t, ok, err := r.field(last)
			if err != nil {
				return err
			}
			if !ok {
				return nil
			}
			if err := r.skip(t, false, depth+1); err != nil {
				return err
			}
			last = id
		}
	}
	return fmt.Errorf("unknown Thrift type %d at footer byte %d", typ, r.p)
}

func appendUvarint(b []byte, v uint64) []byte { return binary.AppendUvarint(b, v) }

func appendVarint(b []byte, v int64) []byte { return appendUvarint(b, uint64(v<<1)^uint64(v>>63)) }

func appendListHeader(b []byte, n int, elem byte) []byte {
	if n < 15 {
		return append(b, byte(n)<<4|elem)
	}
	return appendUvarint(append(b, 0xf0|elem), uint64(n))
}

// fileMeta is what the merge needs of one footer: the byte ranges of its
// top-level fields and of each of its row groups.
type fileMeta struct {
	fields    map[int16][2]int // field id -> [start of header, end of value]
	rowGroups [][2]int
	rows      int64
}

func parseFileMeta(b []byte) (fileMeta, error) {
	m := fileMeta{fields: map[int16][2]int{}}
	r := &thriftReader{b: b}
	var last int16
	for {
		start := r.p
		id, typ, ok, err := r.field(last)
		if err != nil {
			return m, err
		}
		if !ok {
			break
		}
		switch {
		case id == fmNumRows && typ == tI64:
			if m.rows, err = r.varint(); err != nil {
				return m, err
			}
		case id == fmRowGroups && typ == tList:
			n, elem, err := r.list()
			if err != nil {
				return m, err
			}
			if elem != tStruct {
				return m, fmt.Errorf("row groups are Thrift type %d, want a struct", elem)
			}
			for i := 0; i < n; i++ {
				s := r.p
				if err := r.skip(tStruct, true, 1); err != nil {
					return m, err
				}
				m.rowGroups = append(m.rowGroups, [2]int{s, r.p})
			}
		default:
			if err := r.skip(typ, false, 1); err != nil {
				return m, err
			}
		}
		if _, dup := m.fields[id]; dup {
			return m, fmt.Errorf("field %d twice in the file metadata", id)
		}
		m.fields[id] = [2]int{start, r.p}
		last = id
	}
	if r.p != len(b) {
		return m, fmt.Errorf("%d bytes after the file metadata", len(b)-r.p)
	}
	for _, id := range []int16{fmSchema, fmNumRows, fmRowGroups} {
		if _, ok := m.fields[id]; !ok {
			return m, fmt.Errorf("file metadata without field %d", id)
		}
	}
	return m, nil
}

// mergeFooters returns the footer of the concatenation of files whose
// footers are footers and whose bodies start shifts[i] bytes later in the
// new file than in their own, and its row count.
func mergeFooters(footers [][]byte, shifts []int64) ([]byte, int64, error) {
	metas := make([]fileMeta, len(footers))
	var rows int64
	var groups int
	for i, f := range footers {
		m, err := parseFileMeta(f)
		if err != nil {
			return nil, 0, fmt.Errorf("footer of part %d: %w", i+1, err)
		}
		if i > 0 {
			for _, id := range []int16{fmSchema, fmKeyValue} {
				a, b := metas[0].fields[id], m.fields[id]
				if !bytes.Equal(footers[0][a[0]:a[1]], f[b[0]:b[1]]) {
					return nil, 0, fmt.Errorf("part %d's schema or key-value metadata differs from part 1's", i+1)
				}
			}
		}
		metas[i] = m
		rows += m.rows
		groups += len(m.rowGroups)
	}
	if groups > 1<<15-1 {
		return nil, 0, fmt.Errorf("%d row groups, more than a row group ordinal can number", groups)
	}
	first := metas[0]
	out := make([]byte, 0, len(footers[0])*len(footers))
	r := &thriftReader{b: footers[0]}
	var last int16
	ordinal := 0
	for {
		start := r.p
		id, _, ok, err := r.field(last)
		if err != nil {
			return nil, 0, err
		}
		if !ok {
			out = append(out, 0)
			break
		}
		out = append(out, footers[0][start:r.p]...) // the field header
		end := first.fields[id][1]
		switch id {
		case fmNumRows:
			out = appendVarint(out, rows)
		case fmRowGroups:
			out = appendListHeader(out, groups, tStruct)
			for i, m := range metas {
				for _, g := range m.rowGroups {
					if out, err = rewriteStruct(out, footers[i][g[0]:g[1]], structRowGroup, shifts[i], &ordinal, 1); err != nil {
						return nil, 0, fmt.Errorf("row group %d of part %d: %w", ordinal+1, i+1, err)
					}
				}
			}
		default:
			out = append(out, footers[0][r.p:end]...)
		}
		r.p = end
		last = id
	}
	return out, rows, nil
}

// Structs whose offsets the merge rewrites.
const (
	structRowGroup = iota
	structColumnChunk
	structColumnMetaData
)

// rewriteStruct appends the struct encoded in b (of kind kind) to out with
// every absolute file offset moved by shift, and a row group's ordinal set
// to *ordinal (then incremented).
func rewriteStruct(out, b []byte, kind int, shift int64, ordinal *int, depth int) ([]byte, error) {
	if depth > maxThriftDepth {
		return nil, errors.New("footer nested too deep")
	}
	r := &thriftReader{b: b}
	var last int16
	for {
		start := r.p
		id, typ, ok, err := r.field(last)
		if err != nil {
			return nil, err
		}
		if !ok {
			out = append(out, 0)
			break
		}
		out = append(out, b[start:r.p]...)
		last = id
		switch {
		case typ == tI64 && isOffset(kind, id):
			v, err := r.varint()
			if err != nil {
				return nil, err
			}
			if v > 0 { // 0 is "not set" for writers that write the field anyway
				v += shift
			}
			out = appendVarint(out, v)
		case kind == structRowGroup && id == rgOrdinal && typ == tI16:
			if _, err := r.varint(); err != nil {
				return nil, err
			}
			out = appendVarint(out, int64(*ordinal))
		case kind == structRowGroup && id == rgColumns && typ == tList:
			n, elem, err := r.list()
			if err != nil {
				return nil, err
			}
			if elem != tStruct {
				return nil, fmt.Errorf("column chunks are Thrift type %d, want a struct", elem)
			}
			out = appendListHeader(out, n, tStruct)
			for i := 0; i < n; i++ {
				s := r.p
				if err := r.skip(tStruct, true, depth+1); err != nil {
					return nil, err
				}
				if out, err = rewriteStruct(out, b[s:r.p], structColumnChunk, shift, ordinal, depth+1); err != nil {
					return nil, err
				}
			}
		case kind == structColumnChunk && id == ccMetaData && typ == tStruct:
			s := r.p
			if err := r.skip(tStruct, false, depth+1); err != nil {
				return nil, err
			}
			if out, err = rewriteStruct(out, b[s:r.p], structColumnMetaData, shift, ordinal, depth+1); err != nil {
				return nil, err
			}
		default:
			s := r.p
			if err := r.skip(typ, false, depth+1); err != nil {
				return nil, err
			}
			out = append(out, b[s:r.p]...)
		}
	}
	if r.p != len(b) {
		return nil, fmt.Errorf("%d bytes after a struct", len(b)-r.p)
	}
	if kind == structRowGroup {
		*ordinal++
	}
	return out, nil
}

func isOffset(kind int, id int16) bool {
	switch kind {
	case structRowGroup:
		return id == rgFileOffset
	case structColumnChunk:
		return id == ccFileOffset || id == ccOffsetIndexOffset || id == ccColumnIndexOffset
	case structColumnMetaData:
		return id == cmDataPageOffset || id == cmIndexPageOffset || id == cmDictionaryPageOffset || id == cmBloomFilterOffset
	}
	return false
}
