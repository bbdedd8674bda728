package sources

import (
	"bufio"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ErrTruncated marks a compressed input that ends early or is corrupt.
var ErrTruncated = errors.New("compressed file is truncated or corrupt")

// ErrFileNameNotUTF8 marks an input whose file name is not valid UTF-8
// (copied from a system that writes names in Latin-1 or a Windows code
// page): the name could be stored neither in the database nor in a
// release's list of inputs.
var ErrFileNameNotUTF8 = errors.New("the file name is not valid UTF-8; rename the file (its content may stay as it is)")

// checkFileName refuses a path that is not valid UTF-8, showing it
// escaped ("caf\xe9.csv") so that the message itself stays readable.
func checkFileName(path string) error {
	if utf8.ValidString(path) {
		return nil
	}
	return fmt.Errorf("%s: %w", strconv.Quote(path), ErrFileNameNotUTF8)
}

// gzipSuffix is how a gzip-compressed text input may be named (inputs are
// recognised by their content, the name only decides which files of a
// folder are read).
const gzipSuffix = ".gz"

// hasTextSuffix reports whether name ends in one of exts, or in one of
// them followed by .gz, ignoring case: which files of a folder a source
// reads.
func hasTextSuffix(name string, exts ...string) bool {
	name = strings.TrimSuffix(strings.ToLower(name), gzipSuffix)
	for _, e := range exts {
		if strings.HasSuffix(name, e) {
			return true
		}
	}
	return false
}

// openText opens the text input at path as openDecompressed does, and
// reports a line or a decompressed stream longer than limits allow as a
// *LimitError.
func openText(path string, limits Limits) (*bufio.Reader, io.Closer, error) {
	r, closer, err := openDecompressed(path)
	if err != nil {
		return nil, nil, err
	}
	return bufio.NewReaderSize(newLineLimitReader(r, limits), 1<<20), closer, nil
}

// gzipMagic is how a gzip stream starts.
var gzipMagic = [2]byte{0x1f, 0x8b}

// openDecompressed opens the input at path and, when it starts with the
// gzip magic, decompresses it, whatever its name. The returned reader
// reports a truncated or corrupt stream as ErrTruncated.
func openDecompressed(path string) (io.Reader, io.Closer, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("open %s: %w", path, err)
	}
	br := bufio.NewReaderSize(f, 1<<20)
	magic, err := br.Peek(2)
	if err != nil && err != io.EOF {
		f.Close()
		return nil, nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(magic) < 2 || [2]byte(magic) != gzipMagic {
		return br, f, nil
	}
	zr, err := gzip.NewReader(br)
	if err != nil {
		f.Close()
		return nil, nil, &LocatedError{File: path, Err: fmt.Errorf("%w: %v", ErrTruncated, err)}
	}
	return gzipErrReader{zr}, f, nil
}

// ContentDigest returns the hex SHA-256 of the content of the input at path
// as published, when the file is gzip-compressed: that of the decompressed
// bytes, so that a compressed copy of a publication is known as the
// publication. For a file that is not compressed it returns "" and false
// without hashing it (its content digest is its file digest).
// Content past limits.MaxExpandedBytes is a *LimitError, as when a source
// reads it.
func ContentDigest(path string, limits Limits) (string, bool, error) {
	// Every input of every run comes here: look at the magic alone before
	// opening a file to decompress it.
	f, err := os.Open(path)
	if err != nil {
		return "", false, fmt.Errorf("hash %s: %w", path, err)
	}
	var magic [2]byte
	n, _ := io.ReadFull(f, magic[:])
	f.Close()
	if n < 2 || magic != gzipMagic {
		return "", false, nil
	}
	r, closer, err := openDecompressed(path)
	if err != nil {
		return "", false, err
	}
	defer closer.Close()
	max := limits.WithDefaults().MaxExpandedBytes
	h := sha256.New()
	read, err := io.Copy(h, io.LimitReader(r, max+1))
	if err != nil {
		return "", false, &LocatedError{File: path, Err: fmt.Errorf("hash the decompressed content: %w", err)}
	}
	if read > max {
		return "", false, &LocatedError{File: path, Err: &LimitError{What: "the decompressed content", Max: max, Unit: "bytes", Key: "limits.max_expanded_bytes"}}
	}
	return hex.EncodeToString(h.Sum(nil)), true, nil
}

// gzipErrReader turns the gzip reader's end-of-stream surprises into
// ErrTruncated so that line readers can locate them.
type gzipErrReader struct{ r *gzip.Reader }

func (g gzipErrReader) Read(p []byte) (int, error) {
	n, err := g.r.Read(p)
	if err != nil && err != io.EOF {
		err = fmt.Errorf("%w: %v", ErrTruncated, err)
	}
	return n, err
}
