package snapshot

import (
	"archive/zip"
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
)

// Kind is the kind of content an input is expected to be. The fetcher
// checks the bytes it received against it before storing them.
type Kind string

// The kinds of content visastats reads.
const (
	KindXLSX Kind = "xlsx" // an Office Open XML workbook (a zip archive)
	KindCSV  Kind = "csv"  // comma- or semicolon-separated text
	KindTSV  Kind = "tsv"  // tab-separated text
	KindGzip Kind = "gzip" // a gzip stream, e.g. a compressed Eurostat TSV
	KindJSON Kind = "json" // a JSON document
	KindXLS  Kind = "xls"  // a BIFF8 workbook (an OLE2 compound file)
	// KindWorkbook is a workbook in either format, xlsx or xls, for
	// publishers whose links do not say which.
	KindWorkbook Kind = "workbook"
	// KindTable is a table as statistics APIs serve it: comma- or
	// tab-separated text, or such text gzipped (Eurostat gzips large
	// bodies without saying so in Content-Encoding).
	KindTable Kind = "table"
)

// ParseKind returns the Kind named s, or an error listing the valid kinds.
func ParseKind(s string) (Kind, error) {
	switch k := Kind(s); k {
	case KindXLSX, KindCSV, KindTSV, KindGzip, KindJSON, KindXLS, KindWorkbook, KindTable:
		return k, nil
	}
	return "", fmt.Errorf("content kind %q: want one of xlsx, xls, workbook, csv, tsv, gzip, table, json", s)
}

// ContentError reports a body that is not what the request expected, such
// as an HTML error page served in place of a workbook.
type ContentError struct {
	URL      string
	Expected Kind
	// Got describes what the body was, e.g. "an HTML page".
	Got string
	// Err is the underlying decoding error, if any.
	Err error
}

// Error names the URL, what the body was and what was expected, e.g.
// "https://...: got an HTML page, expected xlsx".
func (e *ContentError) Error() string {
	msg := fmt.Sprintf("%s: got %s, expected %s", e.URL, e.Got, e.Expected)
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns the underlying decoding error, if any.
func (e *ContentError) Unwrap() error { return e.Err }

// sniffLen is how much of a body is read to recognise what it is.
const sniffLen = 512

// checkContent reads the complete file f of size bytes and returns a
// *ContentError when it is not of kind want. It sniffs magic bytes and
// decodes where that is cheap, never trusting what the server declared.
// A workbook whose parts unzip to more than maxExpanded bytes, or a gzip
// stream that decompresses to more, is refused with ErrTooLarge: the
// fetch limit holds for the content as the sources will read it.
func checkContent(f *os.File, size int64, want Kind, url string, maxExpanded int64) error {
	fail := func(got string, err error) error {
		return &ContentError{URL: url, Expected: want, Got: got, Err: err}
	}
	head := make([]byte, sniffLen)
	n, err := f.ReadAt(head, 0)
	if err != nil && err != io.EOF {
		return fmt.Errorf("check content of %s: %w", url, err)
	}
	head = head[:n]
	if size == 0 {
		return fail("an empty body", nil)
	}
	got := describe(head)
	body := io.NewSectionReader(f, 0, size)

	switch want {
	case KindWorkbook:
		if got == "an OLE2 compound file" {
			return nil
		}
		if err := checkContent(f, size, KindXLSX, url, maxExpanded); err != nil {
			if ce, ok := err.(*ContentError); ok {
				ce.Expected = want
			}
			return err
		}
		return nil
	case KindXLS:
		if got != "an OLE2 compound file" {
			return fail(got, nil)
		}
		return nil
	case KindTable:
		k := KindCSV
		if got == "gzip data" {
			k = KindGzip
		}
		if err := checkContent(f, size, k, url, maxExpanded); err != nil {
			if ce, ok := err.(*ContentError); ok {
				ce.Expected = want
			}
			return err
		}
		return nil
	case KindXLSX:
		if got != "a zip archive" {
			return fail(got, nil)
		}
		zr, err := zip.NewReader(f, size)
		if err != nil {
			return fail("a damaged zip archive", err)
		}
		var unzipped uint64
		types := false
		for _, zf := range zr.File {
			unzipped += zf.UncompressedSize64
			types = types || zf.Name == "[Content_Types].xml"
		}
		if unzipped > uint64(maxExpanded) {
			return fmt.Errorf("GET %s: the workbook unzips to %d bytes: %w of %d bytes (http.max_bytes)", url, unzipped, ErrTooLarge, maxExpanded)
		}
		if types {
			return nil
		}
		return fail("a zip archive without [Content_Types].xml", nil)

	case KindGzip:
		if got != "gzip data" {
			return fail(got, nil)
		}
		// Decompress it all: a gzip stream cut short is only noticed at
		// its end.
		zr, err := gzip.NewReader(bufio.NewReader(body))
		if err != nil {
			return fail("a broken gzip stream", err)
		}
		n, err := io.Copy(io.Discard, io.LimitReader(zr, maxExpanded+1))
		if err != nil {
			return fail("a broken gzip stream", err)
		}
		if n > maxExpanded {
			return fmt.Errorf("GET %s: the gzip stream decompresses to more than %d bytes: %w (http.max_bytes)", url, maxExpanded, ErrTooLarge)
		}
		return nil

	case KindJSON:
		if got != "JSON" {
			return fail(got, nil)
		}
		// A byte order mark is allowed by RFC 8259 to be ignored; the
		// stored bytes keep it.
		var from int64
		if bytes.HasPrefix(head, []byte("\xef\xbb\xbf")) {
			from = 3
		}
		dec := json.NewDecoder(bufio.NewReader(io.NewSectionReader(f, from, size-from)))
		for {
			_, err := dec.Token()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return fail("malformed JSON", err)
			}
		}

	case KindCSV, KindTSV:
		switch got {
		// A body that opens like JSON is an API's error document, not a
		// table: no header of ours starts with "{" or "[".
		case "an HTML page", "JSON", "an XML document", "gzip data", "a zip archive", "an OLE2 compound file", "binary data", "an empty body":
			return fail(got, nil)
		}
		if err := checkText(body); err != nil {
			return fail("binary data", err)
		}
		return nil
	}
	return fmt.Errorf("check content of %s: unknown content kind %q", url, want)
}

// describe says what a body starting with head looks like.
func describe(head []byte) string {
	switch {
	case len(head) == 0:
		return "an empty body"
	case bytes.HasPrefix(head, []byte("PK\x03\x04")):
		return "a zip archive"
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}):
		return "gzip data"
	case bytes.HasPrefix(head, []byte{0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1}):
		return "an OLE2 compound file"
	}
	text := bytes.TrimLeft(bytes.TrimPrefix(head, []byte("\xef\xbb\xbf")), " \t\r\n")
	lower := bytes.ToLower(text)
	switch {
	case bytes.HasPrefix(lower, []byte("<!doctype html")), bytes.HasPrefix(lower, []byte("<html")):
		return "an HTML page"
	case bytes.HasPrefix(text, []byte("{")), bytes.HasPrefix(text, []byte("[")):
		return "JSON"
	case bytes.HasPrefix(text, []byte("<?xml")), bytes.HasPrefix(lower, []byte("<s:envelope")), bytes.HasPrefix(lower, []byte("<env:envelope")), bytes.HasPrefix(lower, []byte("<s:fault")):
		return "an XML document"
	case bytes.IndexByte(head, 0) >= 0:
		return "binary data"
	}
	return "text"
}

// checkText accepts text in UTF-8 or a legacy 8-bit encoding (such as
// Windows-1252, which some statistics offices still publish): bytes of any
// value except control characters other than tab, CR, LF and FF. A NUL or
// another control character means binary data.
func checkText(r io.Reader) error {
	br := bufio.NewReader(r)
	for offset := int64(0); ; offset++ {
		c, err := br.ReadByte()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if c < 0x20 && c != '\t' && c != '\r' && c != '\n' && c != '\f' || c == 0x7f {
			return fmt.Errorf("control character %#02x at byte %d", c, offset)
		}
	}
}
