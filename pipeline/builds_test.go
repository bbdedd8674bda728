package pipeline

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/visastats/visastats/sources"
	"github.com/visastats/visastats/sources/ectest"
)

// Shared builds.
//
// A published run costs from seconds (tinyConfig) to a minute (every
// shipped input): the export and the workbook dominate. Most tests only
// read what a run published, so they share a build:
//
//   - fullBuild runs the pipeline once per test binary on every shipped
//     input, as make run does (with the Russia topic workbook). TestMain
//     starts it at once when a test that reads it is selected.
//   - tinyBuild runs it once on tinyConfig with the 2023 EC workbook.
//
// A shared build is made the first time a test asks for it, under the
// directory TestMain removes at the end. Tests read its release, its
// database (opened read-only) and its report, and never write into it; a
// test that must change one (run again on top of a published release,
// kill runs, fail runs) takes its own copy with copyBuild. A test that
// needs another build keeps its own, on tinyConfig plus the inputs it is
// about.
//
// To share a new kind of build, add a sharedBuild field to builds and a
// function like tinyBuild that passes it a config.

// builtRelease is a published run: its configuration, its report and its
// latest link.
type builtRelease struct {
	Config Config
	Report *Report
	Latest string // <output.dir>/latest
}

// sharedBuild is one build, made once.
type sharedBuild struct {
	once sync.Once
	b    *builtRelease
	err  error
}

// builds are the shared builds of this test binary, under root.
var builds struct {
	root       string
	full, tiny sharedBuild
}

func TestMain(m *testing.M) {
	flag.Parse()
	root, err := os.MkdirTemp("", "visastats-pipeline-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	builds.root = root
	// The full build is the longest step of the suite and the tests that
	// read it run last (they are parallel tests): when one of them will
	// run, the build starts now, beside the sequential tests. It reads its
	// inputs by relative paths, so no test may change the working
	// directory (t.Chdir).
	var early sync.WaitGroup
	if willRun("TestRunRealFigures") && !testing.Short() {
		early.Add(1)
		go func() {
			defer early.Done()
			builds.full.make("full", fullConfig)
		}()
	}
	code := m.Run()
	early.Wait()
	os.RemoveAll(root)
	os.Exit(code)
}

// willRun says whether the -test.run pattern selects the top-level test
// name (and -test.skip does not skip it).
func willRun(name string) bool {
	match := func(flagName string) (set, matched bool) {
		f := flag.Lookup(flagName)
		if f == nil || f.Value.String() == "" {
			return false, false
		}
		first, _, _ := strings.Cut(f.Value.String(), "/")
		ok, err := regexp.MatchString(first, name)
		return true, ok && err == nil
	}
	if set, ok := match("test.run"); set && !ok {
		return false
	}
	if f := flag.Lookup("test.list"); f != nil && f.Value.String() != "" {
		return false
	}
	_, skipped := match("test.skip")
	return !skipped
}

// make runs the pipeline on the config configure returns for a fresh
// directory under the shared root, once; a second call waits for the
// first.
func (s *sharedBuild) make(name string, configure func(dir string) Config) {
	s.once.Do(func() {
		cfg := configure(filepath.Join(builds.root, name))
		rep, err := Run(context.Background(), cfg, quietLog(), RunOptions{})
		if err != nil {
			s.err = fmt.Errorf("shared build %s: %w", name, err)
			return
		}
		s.b = &builtRelease{Config: cfg, Report: rep, Latest: filepath.Join(cfg.Output.Dir, "latest")}
	})
}

// get makes the build (see make) and returns the published run.
func (s *sharedBuild) get(t testing.TB, name string, configure func(dir string) Config) *builtRelease {
	t.Helper()
	s.make(name, configure)
	if s.err != nil {
		t.Fatal(s.err)
	}
	return s.b
}

// fullBuild is the run on every shipped input, with the Russia topic
// workbook. Read only. Skipped in -short mode (make test-short), where it
// would be most of the time.
func fullBuild(t testing.TB) *builtRelease {
	t.Helper()
	if testing.Short() {
		t.Skip("the full build of every shipped input is skipped in -short mode")
	}
	return builds.full.get(t, "full", fullConfig)
}

// fullConfig is the configuration of the full build, under dir.
func fullConfig(dir string) Config {
	cfg := configIn(dir, sources.ECSchengenConfig{Path: ecDir})
	cfg.Sources.UNHCR.Paths = fullUNHCR
	cfg.Output.Topics = []TopicConfig{{File: "russia.xlsx", Title: "visastats: Russia", Country: "RU"}}
	cfg.Output.Profiles = ProfilesAll
	cfg.DuckDB.Threads = 0 // one per core, as make run
	return cfg
}

// tinyBuild is the run on tinyConfig with the 2023 EC workbook. Read only.
func tinyBuild(t testing.TB) *builtRelease {
	t.Helper()
	return builds.tiny.get(t, "tiny", func(dir string) Config {
		return tinify(configIn(dir, ec2023(t)))
	})
}

// ec2023 is the shipped 2023 EC workbook, the one most tests load.
func ec2023(t testing.TB) sources.ECSchengenConfig {
	t.Helper()
	return sources.ECSchengenConfig{Files: []sources.ECSchengenFile{{Path: ectest.File(t, "2023"), Year: 2023}}}
}

// tinyEurostat and tinyUNHCR are the smallest shipped inputs of those
// sources: a run on them with one EC workbook takes a few seconds, against
// a minute for every shipped input. Tests about what a run does (fetch,
// lock, publish, fail) use them; tests about figures use the inputs that
// hold the figures.
var (
	tinyEurostat = []string{"../data/eurostat/migr_asydcfsta_legacy-appsso-csv_labels_2008-2016.csv"}
	tinyUNHCR    = []string{"../data/unhcr/rdf_footnotes.csv", "../data/unhcr/api_v1_asylum-decisions_coo-DZA_page1.json"}
)

// tinyConfig is testConfig with the smallest shipped Eurostat and UNHCR
// inputs.
func tinyConfig(t testing.TB, ec sources.ECSchengenConfig) Config {
	t.Helper()
	return tinify(testConfig(t, ec))
}

func tinify(cfg Config) Config {
	cfg.Sources.Eurostat.Paths = tinyEurostat
	cfg.Sources.UNHCR.Paths = tinyUNHCR
	return cfg
}

// copyBuild copies a shared build (database, releases, latest link,
// snapshots, run records) into a fresh temp dir and returns its config
// pointed at the copy, for a test that runs on top of it.
func copyBuild(t *testing.T, b *builtRelease) Config {
	t.Helper()
	from := filepath.Dir(b.Config.Output.Dir)
	if filepath.Dir(filepath.Dir(b.Config.Database)) != from || b.Config.Snapshots != "" {
		t.Fatalf("shared build %s: database and output not under one folder", from)
	}
	to := t.TempDir()
	if err := copyTree(from, to); err != nil {
		t.Fatal(err)
	}
	cfg := b.Config
	rel := func(p string) string {
		r, err := filepath.Rel(from, p)
		if err != nil {
			t.Fatal(err)
		}
		return filepath.Join(to, r)
	}
	cfg.Database = rel(b.Config.Database)
	cfg.Output.Dir = rel(b.Config.Output.Dir)
	return cfg
}

// copyTree copies the regular files, folders and symbolic links (as
// links) under from into to.
func copyTree(from, to string) error {
	return filepath.WalkDir(from, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		r, err := filepath.Rel(from, p)
		if err != nil {
			return err
		}
		dst := filepath.Join(to, r)
		switch {
		case d.IsDir():
			return os.MkdirAll(dst, 0o755)
		case d.Type()&os.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(target, dst)
		case d.Type().IsRegular():
			in, err := os.Open(p)
			if err != nil {
				return err
			}
			defer in.Close()
			out, err := os.Create(dst)
			if err != nil {
				return err
			}
			if _, err := io.Copy(out, in); err != nil {
				out.Close()
				return err
			}
			return out.Close()
		}
		return fmt.Errorf("copy %s: not a file, folder or link", p)
	})
}
