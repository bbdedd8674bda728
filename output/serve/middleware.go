package serve

import (
	"io"
	"log/slog"
	"net/http"
	"path"
	"strings"
	"time"
)

// securityHeaders sets the headers every response carries: no MIME
// sniffing, no scripts or foreign resources, no framing, no referrer to
// other sites.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:")
		h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
		h.Set("X-Frame-Options", "DENY")
		next.ServeHTTP(w, r)
	})
}

// crossOrigin lets pages of other sites read the published files and the
// API: DuckDB-WASM and hyparquet in a browser fetch Parquet files by range
// request from wherever they are served. The files are public and no
// request carries credentials, so any origin may read them; the headers a
// range reader needs (Content-Range, ...) are exposed, and a preflight
// (OPTIONS with Access-Control-Request-Method) is answered for GET and
// HEAD. The pages themselves stay same-origin.
func crossOrigin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		if !strings.HasPrefix(p, "/latest/") && !strings.HasPrefix(p, "/releases/") && !strings.HasPrefix(p, "/api/") {
			next.ServeHTTP(w, r)
			return
		}
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", "*")
		h.Set("Access-Control-Expose-Headers", "Accept-Ranges, Content-Length, Content-Range, Content-Type, ETag, Last-Modified")
		h.Set("Cross-Origin-Resource-Policy", "cross-origin")
		if r.Method == http.MethodOptions && r.Header.Get("Origin") != "" {
			switch r.Header.Get("Access-Control-Request-Method") {
			case http.MethodGet, http.MethodHead:
				h.Set("Access-Control-Allow-Methods", "GET, HEAD")
				h.Set("Access-Control-Allow-Headers", "Range, If-None-Match, If-Modified-Since, If-Range")
				h.Set("Access-Control-Max-Age", "86400")
				w.WriteHeader(http.StatusNoContent)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// checkRequest refuses methods other than GET and HEAD (and a CORS
// preflight, which crossOrigin answers), and paths that are
// not in clean form (dot segments, doubled or encoded slashes, backslashes):
// the server never redirects or resolves them, it says no.
func checkRequest(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		preflight := r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
		if r.Method != http.MethodGet && r.Method != http.MethodHead && !preflight {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed: this server is read-only", http.StatusMethodNotAllowed)
			return
		}
		p := r.URL.Path
		clean := path.Clean(p)
		if strings.HasSuffix(p, "/") && clean != "/" {
			clean += "/"
		}
		if !strings.HasPrefix(p, "/") || clean != p || strings.ContainsAny(p, "\\\x00") ||
			(r.URL.RawPath != "" && r.URL.RawPath != r.URL.EscapedPath()) || strings.Contains(strings.ToLower(r.URL.RawPath), "%2f") {
			http.Error(w, "bad request path", http.StatusBadRequest)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// limit bounds the requests the server works on at once; the rest get 503
// at once rather than queueing without end. A request holds its slot while
// the server works on it (reading a release, hashing a file, rendering a
// page) and gives it back when it starts sending the body: from then on
// the client's speed sets the pace, and a client that stops reading holds
// only its connection, which the caps on connections bound.
func (s *Server) limit(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case s.sem <- struct{}{}:
		default:
			w.Header().Set("Retry-After", "5")
			http.Error(w, "too many requests at once; try again shortly", http.StatusServiceUnavailable)
			return
		}
		sw := &slotWriter{ResponseWriter: w, sem: s.sem}
		defer sw.free()
		next.ServeHTTP(sw, r)
	})
}

// slotWriter gives a request's slot back at the first byte of the body.
// A handler writes from one goroutine, so freed needs no lock. It passes
// io.ReaderFrom through, so downloads keep using sendfile, and unwraps for
// http.ResponseController.
type slotWriter struct {
	http.ResponseWriter
	sem   chan struct{}
	freed bool
}

func (w *slotWriter) free() {
	if !w.freed {
		w.freed = true
		<-w.sem
	}
}

func (w *slotWriter) Write(p []byte) (int, error) {
	w.free()
	return w.ResponseWriter.Write(p)
}

func (w *slotWriter) ReadFrom(src io.Reader) (int64, error) {
	w.free()
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok {
		return rf.ReadFrom(src)
	}
	return io.Copy(writerOnly{w.ResponseWriter}, src)
}

func (w *slotWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// logRequests writes one access log line per request.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &recorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		level := slog.LevelInfo
		if rec.status >= 500 {
			level = slog.LevelWarn
		}
		s.opts.Log.LogAttrs(r.Context(), level, "request",
			slog.String("method", r.Method), slog.String("path", r.URL.RequestURI()),
			slog.Int("status", rec.status), slog.Int64("bytes", rec.bytes),
			slog.Duration("duration", time.Since(start)), slog.String("remote", r.RemoteAddr))
	})
}

// recorder notes the status and the body bytes of a response. It passes
// io.ReaderFrom through so downloads keep using sendfile, and unwraps for
// http.ResponseController (downloads extend their write deadline).
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(p)
	r.bytes += int64(n)
	return n, err
}

func (r *recorder) ReadFrom(src io.Reader) (int64, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	var n int64
	var err error
	if rf, ok := r.ResponseWriter.(io.ReaderFrom); ok {
		n, err = rf.ReadFrom(src)
	} else {
		n, err = io.Copy(writerOnly{r.ResponseWriter}, src)
	}
	r.bytes += n
	return n, err
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// writerOnly hides every method but Write, so io.Copy does not loop back
// into ReadFrom.
type writerOnly struct{ io.Writer }
