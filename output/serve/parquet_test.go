package serve

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"sync"
	"testing"

	"github.com/apache/arrow/go/v17/parquet/file"
)

// httpReaderAt reads a remote file with one HTTP range request per ReadAt,
// the way remote Parquet readers (DuckDB httpfs, pyarrow, R arrow) do.
type httpReaderAt struct {
	url  string
	size int64
	off  int64 // for Seek, which the Parquet reader uses to find the end
}

func (r *httpReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off >= r.size {
		return 0, io.EOF
	}
	end := min(off+int64(len(p)), r.size) - 1
	req, err := http.NewRequest("GET", r.url, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Range", fmt.Sprintf("bytes=%d-%d", off, end))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusPartialContent {
		return 0, fmt.Errorf("range %d-%d: status %d", off, end, resp.StatusCode)
	}
	n, err := io.ReadFull(resp.Body, p[:end-off+1])
	if err == nil && int64(n) < int64(len(p)) {
		err = io.EOF
	}
	return n, err
}

func (r *httpReaderAt) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
		r.off = offset
	case io.SeekCurrent:
		r.off += offset
	case io.SeekEnd:
		r.off = r.size + offset
	}
	if r.off < 0 {
		return 0, errors.New("seek before the start")
	}
	return r.off, nil
}

// byteCounter counts the requests and body bytes the server sent.
type byteCounter struct {
	mu       sync.Mutex
	requests int
	ranged   int
	bytes    int64
}

func (c *byteCounter) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &recorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		c.mu.Lock()
		defer c.mu.Unlock()
		c.requests++
		if r.Header.Get("Range") != "" {
			c.ranged++
		}
		c.bytes += rec.bytes
	})
}

func TestParquetOverHTTPRanges(t *testing.T) {
	tr := newTree(t)
	s, err := New(Options{Dir: tr.dir})
	must(t, err)
	var count byteCounter
	ts := httptest.NewServer(count.wrap(s.Handler()))
	defer ts.Close()

	var rep struct {
		Files []struct {
			Name string `json:"name"`
			Rows int64  `json:"rows"`
		} `json:"files"`
	}
	data, err := os.ReadFile(tr.path(realID, reportName))
	must(t, err)
	must(t, json.Unmarshal(data, &rep))
	var wantRows int64
	for _, f := range rep.Files {
		if f.Name == "observations.parquet" {
			wantRows = f.Rows
		}
	}
	if wantRows != 130158 {
		t.Fatalf("run.json lists %d rows of observations, want 130158", wantRows)
	}

	url := ts.URL + "/latest/observations.parquet"
	head, _ := get(t, "HEAD", url, nil)
	size, err := strconv.ParseInt(head.Header.Get("Content-Length"), 10, 64)
	must(t, err)

	pr, err := file.NewParquetReader(&httpReaderAt{url: url, size: size})
	must(t, err)
	defer pr.Close()
	if pr.NumRows() != wantRows {
		t.Errorf("%d rows, want %d from run.json", pr.NumRows(), wantRows)
	}
	if got := pr.MetaData().KeyValueMetadata().FindValue("release"); got == nil || *got != realID {
		t.Errorf("release in the file's metadata: %v", got)
	}
	footerRequests := count.ranged

	// One column of the first row group: the years.
	rg := pr.RowGroup(0)
	idx := pr.MetaData().Schema.ColumnIndexByName("year")
	if idx < 0 {
		t.Fatal("no year column")
	}
	col, err := rg.Column(idx)
	must(t, err)
	years, ok := col.(*file.Int32ColumnChunkReader)
	if !ok {
		t.Fatalf("year column reader is %T", col)
	}
	vals := make([]int32, 4096)
	defs := make([]int16, 4096)
	var read int64
	seen := map[int32]bool{}
	for years.HasNext() {
		n, v, err := years.ReadBatch(int64(len(vals)), vals, defs, nil)
		must(t, err)
		for _, y := range vals[:v] {
			if y < 2015 || y > 2023 {
				t.Fatalf("year %d outside the data's 2015..2023", y)
			}
			seen[y] = true
		}
		read += n
	}
	if read != rg.NumRows() || !seen[2023] || seen[2016] {
		t.Errorf("read %d years of the row group's %d; years seen %v", read, rg.NumRows(), seen)
	}

	count.mu.Lock()
	defer count.mu.Unlock()
	t.Logf("file %d bytes; %d requests (%d ranged: %d for the footer), %d bytes sent", size, count.requests, count.ranged, footerRequests, count.bytes)
	if count.ranged != count.requests-1 { // all but the HEAD
		t.Errorf("%d of %d requests had a Range header", count.ranged, count.requests)
	}
	if count.bytes >= size/2 {
		t.Errorf("the server sent %d bytes of a %d-byte file to read its footer and one column", count.bytes, size)
	}
}
