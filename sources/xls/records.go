package xls

import (
	"encoding/binary"
	"fmt"
)

// Record types this package reads or names in its errors.
const (
	recFORMULA     = 0x0006
	recEOF         = 0x000A
	recEXTERNSHEET = 0x0017
	recFILEPASS    = 0x002F
	recCONTINUE    = 0x003C
	recNAME        = 0x0018
	recCODEPAGE    = 0x0042
	recBOUNDSHEET  = 0x0085
	recMULRK       = 0x00BD
	recMULBLANK    = 0x00BE
	recRSTRING     = 0x00D6
	recSST         = 0x00FC
	recEXTSST      = 0x00FF
	recLABELSST    = 0x00FD
	recSUPBOOK     = 0x01AE
	recDIMENSIONS  = 0x0200
	recBLANK       = 0x0201
	recNUMBER      = 0x0203
	recLABEL       = 0x0204
	recBOOLERR     = 0x0205
	recSTRING      = 0x0207
	recROW         = 0x0208
	recARRAY       = 0x0221
	recTABLE       = 0x0236
	recRK          = 0x027E
	recSHRFMLA     = 0x04BC
	recBOF         = 0x0809
)

// recordNames names the record types above in error messages.
var recordNames = map[uint16]string{
	recFORMULA: "FORMULA", recEOF: "EOF", recEXTERNSHEET: "EXTERNSHEET", recFILEPASS: "FILEPASS", recNAME: "NAME",
	recCONTINUE: "CONTINUE", recCODEPAGE: "CODEPAGE", recBOUNDSHEET: "BOUNDSHEET", recMULRK: "MULRK",
	recMULBLANK: "MULBLANK", recRSTRING: "RSTRING", recSST: "SST", recEXTSST: "EXTSST",
	recLABELSST: "LABELSST", recSUPBOOK: "SUPBOOK", recDIMENSIONS: "DIMENSIONS", recBLANK: "BLANK",
	recNUMBER: "NUMBER", recLABEL: "LABEL", recBOOLERR: "BOOLERR", recSTRING: "STRING", recROW: "ROW",
	recARRAY: "ARRAY", recTABLE: "TABLE", recRK: "RK", recSHRFMLA: "SHRFMLA", recBOF: "BOF",
}

// BOF substream types (the BOF record's dt field).
const (
	bofGlobals   = 0x0005
	bofWorksheet = 0x0010
)

// biff8 is the BOF version field of BIFF8 (Excel 97 to 2003, and what later
// versions write to .xls).
const biff8 = 0x0600

// record is one BIFF record: its type, its position in the stream and its
// payload (a slice of the stream, not a copy).
type record struct {
	typ  uint16
	off  int64
	data []byte
}

// recordReader walks the records of a stream.
type recordReader struct {
	buf []byte
	pos int
}

// next returns the record at the reader's position and moves past it. ok is
// false at the end of the stream; err reports a record that does not fit.
func (r *recordReader) next() (rec record, ok bool, err error) {
	rec, n, err := r.peek()
	if n == 0 || err != nil {
		return rec, false, err
	}
	r.pos += n
	return rec, true, nil
}

// peek returns the record at the reader's position and its size (0 at the
// end of the stream) without moving.
func (r *recordReader) peek() (record, int, error) {
	rest := len(r.buf) - r.pos
	if rest == 0 {
		return record{}, 0, nil
	}
	off := int64(r.pos)
	if rest < 4 {
		return record{off: off}, 0, fmt.Errorf("%d stray bytes at the end of the stream, too few for a record header", rest)
	}
	typ := binary.LittleEndian.Uint16(r.buf[r.pos:])
	n := int(binary.LittleEndian.Uint16(r.buf[r.pos+2:]))
	if n > rest-4 {
		return record{typ: typ, off: off}, 0,
			fmt.Errorf("the record claims %d bytes but the stream ends %d bytes after its header", n, rest-4)
	}
	return record{typ: typ, off: off, data: r.buf[r.pos+4 : r.pos+4+n]}, 4 + n, nil
}

// continues returns rec followed by the CONTINUE records right after it,
// moving past those: the pieces of one record too long for one.
func (r *recordReader) continues(rec record) []record {
	recs := []record{rec}
	for {
		c, n, err := r.peek()
		if n == 0 || err != nil || c.typ != recCONTINUE {
			return recs
		}
		r.pos += n
		recs = append(recs, c)
	}
}

func u16(b []byte, i int) int    { return int(binary.LittleEndian.Uint16(b[i:])) }
func u32(b []byte, i int) uint32 { return binary.LittleEndian.Uint32(b[i:]) }
