package serve

import (
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
)

// connLimiter is a listener that caps the connections a server holds: in
// total, and per client when perClient > 0. A connection over a cap makes
// room by closing the connection idle longest (of the same client for the
// per-client cap, of anyone for the total): one that has not yet sent a
// whole request, or a keep-alive waiting for the next. When every
// connection concerned is busy with a request, the new one is answered
// 503 and closed. The server reports each connection's state to track.
//
// Idle connections cost a descriptor and nothing else, so they give way to
// new clients rather than keep them out; busy ones (downloads under way)
// are never closed to make room.
type connLimiter struct {
	net.Listener
	max, perClient int
	log            *slog.Logger

	mu       sync.Mutex
	conns    map[*limitedConn]struct{}
	byClient map[string]int
	refused  int       // since the last log line about it
	loggedAt time.Time // when that line was written
}

// limitedConn is one connection of a connLimiter. Its fields after Conn
// are guarded by the limiter's mutex.
type limitedConn struct {
	net.Conn
	l      *connLimiter
	client string
	busy   bool      // a request is being read or answered
	since  time.Time // when it was accepted or last became idle
	gone   bool      // no longer counted
}

func newConnLimiter(ln net.Listener, max, perClient int, log *slog.Logger) *connLimiter {
	return &connLimiter{Listener: ln, max: max, perClient: perClient, log: log,
		conns: map[*limitedConn]struct{}{}, byClient: map[string]int{}}
}

// Accept returns the next connection within the caps, closing idle ones
// to make room and refusing those for which there is none.
func (l *connLimiter) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if lc := l.admit(c); lc != nil {
			return lc, nil
		}
	}
}

// admit counts c in, after closing what must give way to it, or refuses
// it and returns nil.
func (l *connLimiter) admit(c net.Conn) *limitedConn {
	client := clientOf(c.RemoteAddr())
	now := time.Now()
	l.mu.Lock()
	var evicted []*limitedConn
	ok := true
	if l.perClient > 0 && l.byClient[client] >= l.perClient {
		if v := l.idlest(client); v != nil {
			l.forget(v)
			evicted = append(evicted, v)
		} else {
			ok = false
		}
	}
	if ok && len(l.conns) >= l.max {
		if v := l.idlest(""); v != nil {
			l.forget(v)
			evicted = append(evicted, v)
		} else {
			ok = false
		}
	}
	var lc *limitedConn
	var logRefused []any
	if ok {
		lc = &limitedConn{Conn: c, l: l, client: client, since: now}
		l.conns[lc] = struct{}{}
		l.byClient[client]++
	} else {
		logRefused = l.noteRefused(now, client)
	}
	l.mu.Unlock()
	for _, v := range evicted {
		v.Conn.Close()
	}
	if !ok {
		refuse(c)
	}
	if logRefused != nil {
		l.log.Warn("connections refused: every connection is busy", logRefused...)
	}
	return lc
}

// idlest is the connection idle longest, of client when it is not "", or
// nil when every one is busy.
func (l *connLimiter) idlest(client string) *limitedConn {
	var found *limitedConn
	for c := range l.conns {
		if c.busy || (client != "" && c.client != client) {
			continue
		}
		if found == nil || c.since.Before(found.since) {
			found = c
		}
	}
	return found
}

// forget stops counting c. The caller holds l.mu.
func (l *connLimiter) forget(c *limitedConn) {
	if c.gone {
		return
	}
	c.gone = true
	delete(l.conns, c)
	if l.byClient[c.client]--; l.byClient[c.client] <= 0 {
		delete(l.byClient, c.client)
	}
}

// noteRefused counts a refused connection and returns the attributes of a
// log line about the refusals so far, at most once a minute (a flood of
// connections must not become a flood of log lines), nil otherwise. The
// caller holds l.mu.
func (l *connLimiter) noteRefused(now time.Time, client string) []any {
	l.refused++
	if now.Sub(l.loggedAt) < time.Minute {
		return nil
	}
	attrs := []any{"refused", l.refused, "last_client", client,
		"connections", len(l.conns), "max", l.max, "max_per_client", l.perClient}
	l.refused, l.loggedAt = 0, now
	return attrs
}

// track follows the state the server gives each connection: busy from
// the moment a request has been read until it is answered.
func (l *connLimiter) track(c net.Conn, state http.ConnState) {
	lc, ok := c.(*limitedConn)
	if !ok {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	switch state {
	case http.StateActive:
		lc.busy = true
	case http.StateIdle:
		lc.busy, lc.since = false, time.Now()
	case http.StateHijacked, http.StateClosed:
		l.forget(lc)
	}
}

// Close stops counting the connection and closes it.
func (c *limitedConn) Close() error {
	c.l.mu.Lock()
	c.l.forget(c)
	c.l.mu.Unlock()
	return c.Conn.Close()
}

// refusal is the whole answer to a connection over the caps.
const refusal = "HTTP/1.1 503 Service Unavailable\r\n" +
	"Content-Type: text/plain; charset=utf-8\r\n" +
	"Retry-After: 5\r\n" +
	"Connection: close\r\n" +
	"Content-Length: 44\r\n" +
	"\r\n" +
	"too many connections; try again in a moment\n"

// refuse answers 503 and closes c. The answer fits the empty send buffer
// of a new connection, so the write does not wait for the client; the
// deadline is there in case it would.
func refuse(c net.Conn) {
	c.SetWriteDeadline(time.Now().Add(time.Second))
	io.WriteString(c, refusal)
	c.Close()
}

// clientOf is the client a remote address counts for: its IP address,
// or for IPv6 its /64 (a subscriber usually gets a whole /64, and could
// otherwise open each connection from another address).
func clientOf(a net.Addr) string {
	ta, ok := a.(*net.TCPAddr)
	if !ok {
		return a.Network() // one client per kind of non-TCP listener
	}
	if ip4 := ta.IP.To4(); ip4 != nil {
		return ip4.String()
	}
	return ta.IP.Mask(net.CIDRMask(64, 128)).String() + "/64"
}

// isLoopback says whether a listener's address is on the loopback
// interface, where every client is this machine.
func isLoopback(a net.Addr) bool {
	ta, ok := a.(*net.TCPAddr)
	return ok && ta.IP.IsLoopback()
}
