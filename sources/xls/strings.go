package xls

import (
	"encoding/binary"
	"errors"
	"fmt"
	"unicode/utf16"
	"unicode/utf8"
)

// segments reads a record's payload and its CONTINUE records' payloads as
// one sequence. Fixed-size fields may straddle a record boundary and are
// read straight across; the characters of a string may too, but each
// CONTINUE that carries the rest of them starts with an option byte which
// says whether they are compressed (one byte each) or UTF-16LE.
type segments struct {
	recs []record
	i    int // the record being read
	pos  int // within recs[i].data
}

// errShort reports data ending before the fields it should hold.
var errShort = errors.New("the data end in the middle of a string")

// at returns the record being read, for error messages.
func (s *segments) at() record {
	if s.i < len(s.recs) {
		return s.recs[s.i]
	}
	return s.recs[len(s.recs)-1]
}

// left counts the bytes not yet read.
func (s *segments) left() int {
	n := 0
	for j := s.i; j < len(s.recs); j++ {
		n += len(s.recs[j].data)
	}
	return n - s.pos
}

// advance moves to the next record when the current one is used up, and
// reports whether there is one.
func (s *segments) advance() bool {
	for s.i < len(s.recs) && s.pos >= len(s.recs[s.i].data) {
		s.i++
		s.pos = 0
	}
	return s.i < len(s.recs)
}

func (s *segments) u8() (byte, bool) {
	if !s.advance() {
		return 0, false
	}
	b := s.recs[s.i].data[s.pos]
	s.pos++
	return b, true
}

// fixed reads n (at most 4) bytes little-endian across record boundaries.
func (s *segments) fixed(n int) (uint32, bool) {
	var v uint32
	for k := 0; k < n; k++ {
		b, ok := s.u8()
		if !ok {
			return 0, false
		}
		v |= uint32(b) << (8 * k)
	}
	return v, true
}

// skip moves past n bytes (run lists, phonetic blocks), which carry no
// option bytes at record boundaries.
func (s *segments) skip(n int64) bool {
	for n > 0 {
		if !s.advance() {
			return false
		}
		k := int64(len(s.recs[s.i].data) - s.pos)
		if k > n {
			k = n
		}
		s.pos += int(k)
		n -= k
	}
	return true
}

// chars appends n characters to dst as UTF-16 code units, starting with the
// given width (high: two bytes per character).
func (s *segments) chars(dst []uint16, n int, high bool) ([]uint16, error) {
	for n > 0 {
		if s.i < len(s.recs) && s.pos >= len(s.recs[s.i].data) {
			// The characters go on in the next record, after its option byte.
			s.i++
			s.pos = 0
			if s.i >= len(s.recs) {
				return dst, errShort
			}
			d := s.recs[s.i].data
			if len(d) == 0 {
				continue
			}
			high = d[0]&1 != 0
			s.pos = 1
			continue
		}
		if s.i >= len(s.recs) {
			return dst, errShort
		}
		d := s.recs[s.i].data[s.pos:]
		if high {
			k := min(n, len(d)/2)
			if k == 0 {
				return dst, errors.New("a UTF-16 character is split between two records")
			}
			for j := 0; j < k; j++ {
				dst = append(dst, binary.LittleEndian.Uint16(d[2*j:]))
			}
			s.pos += 2 * k
			n -= k
		} else {
			k := min(n, len(d))
			for _, b := range d[:k] {
				dst = append(dst, uint16(b)) // BIFF8 compresses Latin-1: the high byte is zero
			}
			s.pos += k
			n -= k
		}
	}
	return dst, nil
}

// String option flags (the byte after the character count).
const (
	strHighByte = 0x01 // characters are UTF-16LE, not compressed
	strExt      = 0x04 // a phonetic (East Asian) block follows the runs
	strRich     = 0x08 // formatting runs follow the characters
)

// stringDecoder turns BIFF8 strings into UTF-8, reusing its buffers and
// refusing one longer than maxBytes once decoded.
type stringDecoder struct {
	maxBytes int
	units    []uint16
	out      []byte
}

// limitError is a decoded string beyond Limits.MaxCellBytes.
type limitError struct{ n, max int }

func (e *limitError) Error() string {
	return fmt.Sprintf("a string of %s bytes (UTF-8) is beyond Limits.MaxCellBytes (%s)", commas(int64(e.n)), commas(int64(e.max)))
}

func (e *limitError) Unwrap() error { return ErrLimit }

// read decodes one string at s: a character count of lenBytes (1 or 2)
// bytes, the option byte, the run count and phonetic size when flagged, the
// characters, then the runs and phonetic block, which it skips. This is the
// SST's XLUnicodeRichExtendedString; LABEL, STRING, BOUNDSHEET names and
// formula string tokens use the same layout without the optional parts.
func (d *stringDecoder) read(s *segments, lenBytes int) (string, error) {
	cch, ok := s.fixed(lenBytes)
	if !ok {
		return "", errShort
	}
	opt, ok := s.u8()
	if !ok {
		return "", errShort
	}
	var runs, ext uint32
	if opt&strRich != 0 {
		if runs, ok = s.fixed(2); !ok {
			return "", errShort
		}
	}
	if opt&strExt != 0 {
		if ext, ok = s.fixed(4); !ok {
			return "", errShort
		}
	}
	var err error
	d.units, err = s.chars(d.units[:0], int(cch), opt&strHighByte != 0)
	if err != nil {
		return "", err
	}
	if !s.skip(4*int64(runs)) || !s.skip(int64(ext)) {
		return "", errors.New("the data end in the formatting runs or phonetic block of a string")
	}
	return d.utf8()
}

// utf8 converts d.units to a string, replacing unpaired surrogates.
func (d *stringDecoder) utf8() (string, error) {
	out := d.out[:0]
	u := d.units
	for i := 0; i < len(u); i++ {
		c := rune(u[i])
		switch {
		case c < utf8.RuneSelf:
			out = append(out, byte(c))
			continue
		case utf16.IsSurrogate(c):
			r := utf8.RuneError
			if i+1 < len(u) {
				if p := utf16.DecodeRune(c, rune(u[i+1])); p != utf8.RuneError {
					r = p
					i++
				}
			}
			c = r
		}
		out = utf8.AppendRune(out, c)
	}
	d.out = out
	if len(out) > d.maxBytes {
		return "", &limitError{len(out), d.maxBytes}
	}
	return string(out), nil
}
