package serve

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// These tests run a real server on a loopback port and talk to it over
// TCP. Clients come from different loopback addresses (127.0.0.2,
// 127.0.0.3, ...: Linux routes all of 127.0.0.0/8 to the loopback
// interface), so the server sees different clients.

// serveOn serves tr with opts on a loopback port until the test ends and
// returns the address.
func serveOn(t *testing.T, tr tree, opts Options) string {
	t.Helper()
	opts.Dir = tr.dir
	opts.ShutdownTimeout = time.Second
	s, err := New(opts)
	must(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		<-served
	})
	return ln.Addr().String()
}

// bigRelease makes the latest release's observations.parquet 32 MiB, more
// than the socket buffers of both ends hold, so a client that stops
// reading leaves the server blocked in the middle of the body.
func bigRelease(t *testing.T, tr tree) {
	t.Helper()
	must(t, os.WriteFile(tr.path(realID, "observations.parquet"), bytes.Repeat([]byte("PAR1"), 8<<20), 0o644))
}

// dialFrom connects to addr from the loopback address from, with a small
// receive buffer.
func dialFrom(t *testing.T, addr, from string) net.Conn {
	t.Helper()
	d := net.Dialer{
		Timeout:   5 * time.Second,
		LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)},
		Control: func(_, _ string, c syscall.RawConn) error {
			var serr error
			err := c.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
			return errors.Join(err, serr)
		},
	}
	c, err := d.Dial("tcp", addr)
	must(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

// slowDownload asks for the big file from the address from, reads the
// response's header and then nothing more, and returns the connection.
func slowDownload(t *testing.T, addr, from string) net.Conn {
	t.Helper()
	c := dialFrom(t, addr, from)
	fmt.Fprintf(c, "GET /latest/observations.parquet HTTP/1.1\r\nHost: %s\r\n\r\n", addr)
	must(t, c.SetReadDeadline(time.Now().Add(10*time.Second)))
	br := bufio.NewReaderSize(c, 16)
	var head strings.Builder
	for !strings.HasSuffix(head.String(), "\r\n\r\n") {
		b, err := br.ReadByte()
		if err != nil {
			t.Fatalf("slow download from %s: header %q: %v", from, head.String(), err)
		}
		head.WriteByte(b)
	}
	if !strings.HasPrefix(head.String(), "HTTP/1.1 200 ") {
		t.Fatalf("slow download from %s: %q", from, head.String())
	}
	return c
}

// fetchFrom sends one GET from the address from on a new connection and
// returns the status (0 when the connection was refused or closed) and
// the body.
func fetchFrom(t *testing.T, addr, from, path string) (int, []byte) {
	t.Helper()
	tr := &http.Transport{DialContext: (&net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}).DialContext, DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	resp, err := client.Get("http://" + addr + path)
	if err != nil {
		t.Logf("GET %s from %s: %v", path, from, err)
		return 0, nil
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Logf("GET %s from %s: body: %v", path, from, err)
		return 0, nil
	}
	return resp.StatusCode, body
}

// closedWithin says whether the server closed c within d: a read ends in
// EOF or a reset rather than the deadline.
func closedWithin(c net.Conn, d time.Duration) bool {
	c.SetReadDeadline(time.Now().Add(d))
	_, err := io.Copy(io.Discard, c)
	var ne net.Error
	return !(errors.As(err, &ne) && ne.Timeout())
}

// TestSlowReadersDoNotLockOut: clients that ask for a large file and stop
// reading, more of them than requests may be handled at once, do not keep
// a fresh client out: a download holds a slot only until its body starts.
func TestSlowReadersDoNotLockOut(t *testing.T) {
	tr := newTree(t)
	bigRelease(t, tr)
	addr := serveOn(t, tr, Options{MaxInFlight: 2})
	for i := range 4 {
		slowDownload(t, addr, fmt.Sprintf("127.0.0.%d", 10+i))
	}
	status, body := fetchFrom(t, addr, "127.0.0.2", "/latest/run.json")
	if status != http.StatusOK || !bytes.Contains(body, []byte(realID)) {
		t.Errorf("fresh client beside 4 stalled downloads: status %d: %.80s", status, body)
	}
	if status, _ := fetchFrom(t, addr, "127.0.0.2", "/"); status != http.StatusOK {
		t.Errorf("the page beside 4 stalled downloads: status %d", status)
	}
}

// TestIdleConnectionsOverCapClosed: connections that send nothing, more of
// them than the cap on connections, are closed by the server (the longest
// idle first) instead of piling up, and a fresh client is still served.
func TestIdleConnectionsOverCapClosed(t *testing.T) {
	tr := newTree(t)
	addr := serveOn(t, tr, Options{MaxConns: 4})
	var idle []net.Conn
	for i := range 10 {
		idle = append(idle, dialFrom(t, addr, fmt.Sprintf("127.0.0.%d", 10+i)))
	}
	status, _ := fetchFrom(t, addr, "127.0.0.2", "/latest/run.json")
	if status != http.StatusOK {
		t.Errorf("fresh client beside 10 idle connections: status %d", status)
	}
	closed := 0
	for i, c := range idle {
		if closedWithin(c, 200*time.Millisecond) {
			closed++
		} else if i == 0 {
			t.Error("the connection idle longest is still open")
		}
	}
	if closed < len(idle)-4+1 {
		t.Errorf("%d of %d idle connections closed, want at least %d (cap 4, and room for the fresh client)", closed, len(idle), len(idle)-4+1)
	}
}

// TestPerClientShare: one client holding its share of connections with
// stalled downloads gets no more, while another client is served; an
// idle connection of the client makes room for its new one.
func TestPerClientShare(t *testing.T) {
	tr := newTree(t)
	bigRelease(t, tr)
	logs := newLogBuffer()
	addr := serveOn(t, tr, Options{MaxConnsPerClient: 2, Log: slog.New(slog.NewTextHandler(logs, nil))})
	slowDownload(t, addr, "127.0.0.2")
	slowDownload(t, addr, "127.0.0.2")
	// Refused: 503, or a reset when the request arrives as the
	// connection is closed.
	if status, body := fetchFrom(t, addr, "127.0.0.2", "/latest/run.json"); status != http.StatusServiceUnavailable && status != 0 {
		t.Errorf("a third connection of a client holding 2 busy ones: status %d: %.80s", status, body)
	}
	if status, _ := fetchFrom(t, addr, "127.0.0.3", "/latest/run.json"); status != http.StatusOK {
		t.Errorf("another client: status %d", status)
	}
	if l := logs.String(); !strings.Contains(l, "connections refused") || !strings.Contains(l, "last_client=127.0.0.2") {
		t.Errorf("the refusal is not logged:\n%s", l)
	}

	first := dialFrom(t, addr, "127.0.0.4")
	dialFrom(t, addr, "127.0.0.4")
	if status, _ := fetchFrom(t, addr, "127.0.0.4", "/latest/run.json"); status != http.StatusOK {
		t.Errorf("a client with 2 idle connections: status %d", status)
	}
	if !closedWithin(first, time.Second) {
		t.Error("the client's connection idle longest is still open")
	}
}

// TestIdleTimeout: a keep-alive connection left idle is closed after the
// idle timeout.
func TestIdleTimeout(t *testing.T) {
	tr := newTree(t)
	addr := serveOn(t, tr, Options{IdleTimeout: 300 * time.Millisecond})
	c := dialFrom(t, addr, "127.0.0.2")
	fmt.Fprintf(c, "HEAD /latest/run.json HTTP/1.1\r\nHost: %s\r\n\r\n", addr)
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, &http.Request{Method: "HEAD"})
	must(t, err)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if !closedWithin(c, 3*time.Second) {
		t.Error("an idle keep-alive connection is still open 3 s after an idle timeout of 300 ms")
	}
}

// TestDefaultLimits: the idle timeout is short, and connections are
// capped in total.
func TestDefaultLimits(t *testing.T) {
	s, err := New(Options{Dir: t.TempDir()})
	must(t, err)
	if s.opts.IdleTimeout <= 0 || s.opts.IdleTimeout > 30*time.Second {
		t.Errorf("idle timeout %v, want at most 30 s", s.opts.IdleTimeout)
	}
	if s.opts.MaxConns <= 0 || s.opts.MaxConns > 4096 {
		t.Errorf("connections capped at %d", s.opts.MaxConns)
	}
}
