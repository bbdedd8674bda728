package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"

	"github.com/visastats/visastats/output/serve"
)

func cmdServe(ctx context.Context, g *globals, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on (host:port); the default is reachable from this machine only")
	schema := fs.String("schema", "", "path of the schema documentation (docs/schema.md) to serve at /schema; default: link to the repository")
	if ok, code := parseFlags(fs, g, args, stderr); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "visastats serve: unexpected arguments %q\n", fs.Args())
		return exitUsage
	}
	host, _, err := net.SplitHostPort(*addr)
	if err != nil {
		fmt.Fprintf(stderr, "visastats serve: --addr %q: want host:port, e.g. 127.0.0.1:8080\n", *addr)
		return exitUsage
	}
	cfg, log, code := g.setup(stderr)
	if code != exitOK {
		return code
	}
	srv, err := serve.New(serve.Options{Dir: cfg.Output.Dir, SchemaPath: *schema, Log: log})
	if err != nil {
		fmt.Fprintf(stderr, "visastats serve: %v\n", err)
		return exitFailed
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		log.Warn("serving beyond this machine", "addr", *addr)
	}
	if err := srv.ListenAndServe(ctx, *addr); err != nil {
		fmt.Fprintf(stderr, "visastats serve: %v\n", err)
		return exitFailed
	}
	return exitOK
}
