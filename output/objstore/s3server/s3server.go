// Package s3server starts a real S3-compatible server (versitygw over a
// POSIX folder) for tests: the object-storage publish is tested against
// the protocol as a server speaks it, not against a fake. It is used by
// tests only.
package s3server

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// Module is the server's Go package and version, built with go install
// when no binary is given.
const Module = "github.com/versity/versitygw/cmd/versitygw@v1.8.0"

// EnvBinary names a versitygw binary to use instead of building one.
const EnvBinary = "VISASTATS_S3_SERVER"

// Server is a running S3 server on this machine.
type Server struct {
	// Endpoint is http://127.0.0.1:<port>.
	Endpoint string
	// Access and Secret are its root credentials.
	Access, Secret string
	// Dir holds the buckets, one folder each.
	Dir string
}

// Binary finds the server: $VISASTATS_S3_SERVER, versitygw on PATH, or a
// build cached under the user cache folder, made with go install when
// missing (minutes on a cold build cache). Without one the test is
// skipped, except under CI=true, where it fails.
func Binary(t testing.TB) string {
	t.Helper()
	if p := os.Getenv(EnvBinary); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("%s=%s: %v", EnvBinary, p, err)
		}
		return p
	}
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "visastats", "versitygw-v1.8.0")
	bin := filepath.Join(dir, "versitygw")
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	unavailable := func(format string, args ...any) {
		t.Helper()
		msg := fmt.Sprintf(format, args...)
		if os.Getenv("CI") == "true" {
			t.Fatalf("no S3 server for the object-storage tests: %s", msg)
		}
		t.Skipf("no S3 server (%s); set %s or let the test build %s", msg, EnvBinary, Module)
	}
	if testing.Short() {
		unavailable("not built, and -short does not build it")
	}
	// Build into a fresh folder and rename: two packages testing at once
	// never see half a binary.
	tmp, err := os.MkdirTemp(filepath.Dir(dir), ".build-*")
	if err != nil {
		if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
			unavailable("create %s: %v", dir, err)
		}
		if tmp, err = os.MkdirTemp(filepath.Dir(dir), ".build-*"); err != nil {
			unavailable("create %s: %v", dir, err)
		}
	}
	defer os.RemoveAll(tmp)
	start := time.Now()
	cmd := exec.Command("go", "install", Module)
	cmd.Env = append(os.Environ(), "GOBIN="+tmp, "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		unavailable("go install %s: %v\n%s", Module, err, out)
	}
	t.Logf("built %s in %v", Module, time.Since(start).Round(time.Second))
	if err := os.Rename(tmp, dir); err != nil {
		if _, serr := os.Stat(bin); serr != nil {
			unavailable("keep %s: %v", dir, err)
		}
	}
	return bin
}

// Start runs a fresh server on a free port over a temporary folder and
// stops it when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	bin := Binary(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	s := &Server{Endpoint: "http://" + addr, Access: "visastatstest", Secret: "visastats-test-secret", Dir: t.TempDir()}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "--access", s.Access, "--secret", s.Secret, "--port", addr, "--quiet", "posix", s.Dir)
	logPath := filepath.Join(t.TempDir(), "versitygw.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	defer logFile.Close() // the child keeps its own descriptor
	cmd.Stdout, cmd.Stderr = logFile, logFile
	logs := func() string { b, _ := os.ReadFile(logPath); return string(b) }
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start %s: %v", bin, err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(s.Endpoint + "/")
		if err == nil {
			resp.Body.Close()
			return s
		}
		select {
		case <-done:
			t.Fatalf("%s exited before it was ready: %s", bin, logs())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready on %s after 30s: %v\n%s", bin, addr, err, logs())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Env sets the standard AWS credential variables to the server's root
// user for the rest of the test, the way a deployment passes them.
func (s *Server) Env(t testing.TB) {
	t.Helper()
	t.Setenv("AWS_ACCESS_KEY_ID", s.Access)
	t.Setenv("AWS_SECRET_ACCESS_KEY", s.Secret)
	t.Setenv("AWS_SESSION_TOKEN", "")
}

// Client is a plain S3 client of the server (root user, path-style), for
// a test to look at what a publish left in a bucket.
func (s *Server) Client(t testing.TB) *minio.Client {
	t.Helper()
	u, err := url.Parse(s.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	c, err := minio.New(u.Host, &minio.Options{Creds: credentials.NewStaticV4(s.Access, s.Secret, ""), BucketLookup: minio.BucketLookupPath})
	if err != nil {
		t.Fatal(err)
	}
	return c
}
