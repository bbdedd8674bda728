package serve

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// Load test shape: concurrent clients for a fixed time, on loopback only.
const (
	loadClients  = 200
	loadDuration = 10 * time.Second
	loadRange    = 64 << 10 // bytes per Parquet range request
)

type loadResult struct {
	kind    string // "workbook" or "range"
	status  int    // 0 for a transport error
	bytes   int64
	latency time.Duration
	err     error
}

// TestLoadTest runs 200 clients for 10 seconds against a real server on a
// loopback port, half downloading the workbook whole and half reading
// 64 kB ranges of observations.parquet, and reports throughput and
// latency. It only runs when VISASTATS_LOADTEST=1:
//
//	VISASTATS_LOADTEST=1 go test ./output/serve -run LoadTest -v
func TestLoadTest(t *testing.T) {
	if os.Getenv("VISASTATS_LOADTEST") != "1" {
		t.Skip("set VISASTATS_LOADTEST=1 to run the load test")
	}
	tr := newTree(t)
	s, err := New(Options{Dir: tr.dir})
	must(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0") // loopback only
	must(t, err)
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, ln) }()
	defer func() {
		stop()
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
	}()
	base := "http://" + ln.Addr().String()
	st, err := os.Stat(tr.path(realID, "observations.parquet"))
	must(t, err)
	parquetSize := st.Size()
	wb, err := os.Stat(tr.path(realID, "visastats.xlsx"))
	must(t, err)

	transport := &http.Transport{MaxIdleConns: loadClients, MaxIdleConnsPerHost: loadClients, DisableCompression: true}
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport, Timeout: 30 * time.Second}

	deadline := time.Now().Add(loadDuration)
	results := make([][]loadResult, loadClients)
	var wg sync.WaitGroup
	start := time.Now()
	for c := range loadClients {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(c), 1))
			for i := 0; time.Now().Before(deadline); i++ {
				var r loadResult
				req, _ := http.NewRequest("GET", base+"/latest/visastats.xlsx", nil)
				r.kind = "workbook"
				want := wb.Size()
				if (c+i)%2 == 1 {
					off := rng.Int64N(parquetSize - loadRange)
					req, _ = http.NewRequest("GET", base+"/releases/"+realID+"/observations.parquet", nil)
					req.Header.Set("Range", fmt.Sprintf("bytes=%d-%d", off, off+loadRange-1))
					r.kind, want = "range", loadRange
				}
				t0 := time.Now()
				resp, err := client.Do(req)
				if err == nil {
					r.status = resp.StatusCode
					r.bytes, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if err == nil && r.bytes != want && (r.status == 200 || r.status == 206) {
						err = fmt.Errorf("%s: %d bytes, want %d", r.kind, r.bytes, want)
					}
				}
				r.latency, r.err = time.Since(t0), err
				results[c] = append(results[c], r)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)

	var all []loadResult
	for _, rs := range results {
		all = append(all, rs...)
	}
	statuses := map[int]int{}
	var errs int
	var sent int64
	errSample := map[string]int{}
	for _, r := range all {
		statuses[r.status]++
		sent += r.bytes
		if r.err != nil || (r.status != 200 && r.status != 206) {
			errs++
			if r.err != nil {
				errSample[r.err.Error()]++
			}
		}
	}
	t.Logf("%d clients for %v on %s: %d requests (%.0f/s), %d errors, statuses %v",
		loadClients, elapsed.Round(time.Millisecond), base, len(all), float64(len(all))/elapsed.Seconds(), errs, statuses)
	t.Logf("throughput %.1f MB/s (%.1f MB sent)", float64(sent)/(1<<20)/elapsed.Seconds(), float64(sent)/(1<<20))
	for _, kind := range []string{"all", "workbook", "range"} {
		var lat []time.Duration
		for _, r := range all {
			if kind == "all" || r.kind == kind {
				lat = append(lat, r.latency)
			}
		}
		t.Logf("latency %-8s n=%-6d %s", kind, len(lat), percentiles(lat))
	}
	for e, n := range errSample {
		t.Logf("error x%d: %s", n, e)
	}
	if len(all) == 0 || errs > 0 {
		t.Errorf("%d of %d requests failed", errs, len(all))
	}
}

func percentiles(lat []time.Duration) string {
	if len(lat) == 0 {
		return "-"
	}
	slices.Sort(lat)
	at := func(p float64) time.Duration {
		i := sort.Search(len(lat), func(i int) bool { return float64(i+1)/float64(len(lat)) >= p })
		return lat[min(i, len(lat)-1)].Round(10 * time.Microsecond)
	}
	return strings.Join([]string{
		"p50=" + at(0.50).String(), "p90=" + at(0.90).String(), "p99=" + at(0.99).String(), "max=" + lat[len(lat)-1].Round(10*time.Microsecond).String(),
	}, " ")
}
