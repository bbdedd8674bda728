package serve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/visastats/visastats/output/page"
)

// Options configure a Server. Only Dir is required.
type Options struct {
	// Dir is the output directory of the pipeline (output.dir): it holds the
	// latest link and releases/.
	Dir string
	// SchemaPath, if set, is a text file (docs/schema.md) served at /schema
	// as preformatted text. Otherwise the page links to SchemaURL.
	SchemaPath string
	// SchemaURL is where the schema documentation lives when SchemaPath is
	// not set. Default: the file in the project's repository.
	SchemaURL string
	// Log receives one line per request. Default: discard.
	Log *slog.Logger
	// MaxInFlight bounds the requests the server works on at once (reading
	// a release, hashing a file, rendering a page); more get 503 with
	// Retry-After. A request gives its slot back when its body starts, so
	// a download to a slow client does not hold one. Default 256.
	MaxInFlight int
	// ShutdownTimeout is how long Serve waits for requests in flight once
	// its context is done, before closing their connections. Default 10s.
	ShutdownTimeout time.Duration
	// MaxConns caps the connections Serve holds open. A new connection
	// over the cap closes the one idle longest (no request yet, or a
	// keep-alive between requests); when every one is busy it gets 503
	// and is closed. Each connection costs a file descriptor, a download
	// two. Default 1024.
	MaxConns int
	// MaxConnsPerClient caps the connections of one client (remote IP
	// address; IPv6 by /64, one subscriber's block) in the same way, so
	// that no client takes more than a small share. Default: 16 when the
	// listener is not on a loopback address, no cap on loopback, where
	// every client is this machine (the operator, or a reverse proxy that
	// speaks for everyone).
	MaxConnsPerClient int
	// IdleTimeout is how long a keep-alive connection may wait for its
	// next request. Default 30s.
	IdleTimeout time.Duration
}

// DefaultSchemaURL is the schema documentation in the project's repository.
const DefaultSchemaURL = "https://github.com/visastats/visastats/blob/main/docs/schema.md"

// Timeouts and limits of the HTTP server. Downloads get a longer write
// deadline of their own, scaled to the file's size (see downloadDeadline).
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 30 * time.Second
	writeTimeout      = 60 * time.Second
	maxHeaderBytes    = 16 << 10
)

// Defaults of Options.
const (
	defaultMaxInFlight       = 256
	defaultMaxConns          = 1024
	defaultMaxConnsPerClient = 16
	defaultIdleTimeout       = 30 * time.Second
)

// Server serves the releases of one output directory. It is safe for
// concurrent use; it caches what it read from a release (release files
// never change once published) and the SHA-256 of each file it served.
type Server struct {
	opts  Options
	store *store
	sem   chan struct{}
	pages *pages
}

// New returns a Server for the releases under opts.Dir. The directory need
// not hold a release yet: the page says so until the first run publishes.
func New(opts Options) (*Server, error) {
	if strings.TrimSpace(opts.Dir) == "" {
		return nil, errors.New("serve: no output directory")
	}
	if opts.SchemaURL == "" {
		opts.SchemaURL = DefaultSchemaURL
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.MaxInFlight <= 0 {
		opts.MaxInFlight = defaultMaxInFlight
	}
	if opts.MaxConns <= 0 {
		opts.MaxConns = defaultMaxConns
	}
	if opts.IdleTimeout <= 0 {
		opts.IdleTimeout = defaultIdleTimeout
	}
	if opts.ShutdownTimeout <= 0 {
		opts.ShutdownTimeout = 10 * time.Second
	}
	p, err := newPages()
	if err != nil {
		return nil, err
	}
	return &Server{opts: opts, store: newStore(opts.Dir), sem: make(chan struct{}, opts.MaxInFlight), pages: p}, nil
}

// Handler returns the HTTP handler: the page, the release pages, the
// downloads, the country profiles (/countries/<ISO2>) and the JSON API,
// behind the access log, the security headers, the method and path checks,
// the cross-origin headers of the files and the API, and the in-flight
// limit.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.handleIndex)
	mux.HandleFunc("GET /schema", s.handleSchema)
	mux.HandleFunc("GET /api/releases", s.handleAPI)
	mux.HandleFunc("GET /latest/{$}", s.handleLatestIndex)
	mux.HandleFunc("GET /latest/"+page.Name, s.handleLatestPage)
	mux.HandleFunc("GET /latest/{file}", s.handleLatestFile)
	mux.HandleFunc("GET /releases/{id}/{$}", s.handleReleaseIndex)
	mux.HandleFunc("GET /releases/{id}/"+page.Name, s.handleReleaseIndex)
	mux.HandleFunc("GET /releases/{id}/{file}", s.handleReleaseFile)
	mux.HandleFunc("GET /countries/{$}", s.handleProfiles)
	mux.HandleFunc("GET /countries/{code}", s.handleProfiles)
	mux.HandleFunc("GET /latest/countries/{file}", s.handleLatestProfile)
	mux.HandleFunc("GET /latest/countries/{code}/{file}", s.handleLatestProfile)
	mux.HandleFunc("GET /releases/{id}/countries/{file}", s.handleReleaseProfile)
	mux.HandleFunc("GET /releases/{id}/countries/{code}/{file}", s.handleReleaseProfile)
	return s.logRequests(securityHeaders(checkRequest(crossOrigin(s.limit(mux)))))
}

// ListenAndServe listens on addr (host:port; use a loopback host unless the
// releases are meant to be public) and serves until ctx is done.
func (s *Server) ListenAndServe(ctx context.Context, addr string) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	return s.Serve(ctx, ln)
}

// Serve serves on ln until ctx is done, then shuts down gracefully: it stops
// accepting, lets requests in flight finish for up to
// Options.ShutdownTimeout, then closes what is left. It returns nil after a
// shutdown asked for by ctx. The caps on connections (Options.MaxConns,
// MaxConnsPerClient) apply to the connections of ln.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	perClient := s.opts.MaxConnsPerClient
	if perClient <= 0 && !isLoopback(ln.Addr()) {
		perClient = defaultMaxConnsPerClient
	}
	cl := newConnLimiter(ln, s.opts.MaxConns, perClient, s.opts.Log)
	hs := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       s.opts.IdleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ConnState:         cl.track,
		ErrorLog:          slog.NewLogLogger(s.opts.Log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(cl) }()
	s.opts.Log.Info("serving releases", "dir", s.opts.Dir, "url", "http://"+ln.Addr().String()+"/")
	select {
	case err := <-errc:
		return fmt.Errorf("serve on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.opts.ShutdownTimeout)
	defer cancel()
	err := hs.Shutdown(sctx)
	if err != nil {
		hs.Close()
		err = fmt.Errorf("shut down %s: %w", ln.Addr(), err)
	}
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = fmt.Errorf("serve on %s: %w", ln.Addr(), serr)
	}
	if err == nil {
		s.opts.Log.Info("stopped serving", "addr", ln.Addr().String())
	}
	return err
}
