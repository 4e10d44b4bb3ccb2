package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/dbtool-dev/dbtool/dbtest"
	"github.com/dbtool-dev/dbtool/internal/gotest"
	"github.com/dbtool-dev/dbtool/internal/matrix"
	"github.com/dbtool-dev/dbtool/internal/pgtap"
	"github.com/dbtool-dev/dbtool/internal/pgtest"
)

func (a *app) testCmd() *cobra.Command {
	var junit string
	var noMatrix bool
	cmd := &cobra.Command{
		Use:     "test [-- go test flags]",
		Short:   "Migrate a fresh database, check the access matrix, run the Go suites in tests/",
		GroupID: "check",
		Long: `Starts the database (throwaway, container or --database-url), builds the
project's template database (migrations + procedures + policies + platform
layer), checks the live access matrix of a clone against the expected file,
then runs the project's Go suites (go test ./tests/...) against the same
server and template (they find it through DATABASE_URL and the content hash).

Arguments after -- go to go test (e.g. -- -run TestBooking -count=1).
--junit FILE writes a JUnit XML report (suites, the matrix check) for CI.

` + exitHelp,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := a.checkFiles(); err != nil {
				return err
			}
			return a.withDatabase(cmd.Context(), func(url string) error {
				return a.runTests(cmd.Context(), url, args, junit, noMatrix)
			})
		},
	}
	cmd.Flags().StringVar(&junit, "junit", "", "write a JUnit XML report to FILE")
	cmd.Flags().BoolVar(&noMatrix, "no-matrix", false, "skip the access matrix check")
	return cmd
}

func (a *app) runTests(ctx context.Context, serverURL string, goArgs []string, junit string, noMatrix bool) error {
	dir, err := filepath.Abs(a.cfg.Dir)
	if err != nil {
		return cannot(err)
	}
	a.logf("building the template database")
	tpl, err := dbtest.PrepareTemplate(ctx, serverURL, dbtest.Project{Dir: a.cfg.Dir, Layout: a.cfg.Layout, Migrations: a.cfg.Migrations, Procedures: a.cfg.Procedures, Policies: a.cfg.Policies, Platform: a.cfg.Platform})
	if err != nil {
		return a.migErr(err)
	}
	var extras []gotest.Extra
	failed := false
	if !noMatrix {
		name, err := tpl.Clone(ctx)
		if err != nil {
			return cannot(err)
		}
		cloneURL := pgtest.WithDatabase(serverURL, name)
		m, err := matrix.Run(ctx, cloneURL, a.matrixOptions())
		_ = pgtest.AdminExec(context.WithoutCancel(ctx), serverURL, "drop database if exists "+name+" with (force)")
		if err != nil {
			return cannot(fmt.Errorf("access matrix: %w", err))
		}
		a.logf("access matrix: %d cells in %s", len(m.Cells), m.Duration.Round(1e6))
		res := a.checkMatrix(m, m.Findings())
		x := gotest.Extra{Suite: "dbtool", Name: "access matrix matches " + a.cfg.Matrix.Expected}
		if res != nil {
			failed = true
			x.Failure = res.Error()
			fmt.Fprintln(a.stderr, "error:", res)
		}
		extras = append(extras, x)
	}
	pgtapFailed, pgtapExtras, err := a.runPgTAP(ctx, serverURL, dir, tpl)
	if err != nil {
		return err
	}
	extras = append(extras, pgtapExtras...)
	failed = failed || pgtapFailed
	var rep *gotest.Report
	testsDir := filepath.Join(dir, "tests")
	if hasGoFiles(testsDir) {
		args := append([]string{"./tests/..."}, goArgs...)
		env := []string{"DATABASE_URL=" + serverURL, "DBTOOL_BACKEND=url", "DBTOOL_PROJECT_DIR=" + dir}
		a.logf("running go test %s", strings.Join(args, " "))
		rep, err = gotest.RunQuiet(ctx, dir, env, args, a.stdout, a.verbose)
		if err != nil {
			return cannot(err)
		}
		pass, fail, skip := rep.Counts()
		fmt.Fprintf(a.stdout, "%d passed, %d failed, %d skipped\n", pass, fail, skip)
		if rep.Failed() {
			failed = true
		}
	} else {
		a.logf("no Go suites in %s", testsDir)
		rep = &gotest.Report{}
	}
	if junit != "" {
		f, err := os.Create(junit)
		if err != nil {
			return cannot(err)
		}
		werr := rep.WriteJUnit(f, extras)
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			return cannot(werr)
		}
	}
	if failed {
		return silent(ExitProblems)
	}
	return nil
}

func hasGoFiles(dir string) bool {
	found := false
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, "_test.go") {
			found = true
			return filepath.SkipAll
		}
		return nil
	})
	return found
}

// runPgTAP runs the project's pgTAP files with pg_prove's semantics (in
// order, on one database) in parallel where a file cannot affect another
// (pgtap.Run), one worker per core, and prints one line per file (failures
// in full) and a total.
func (a *app) runPgTAP(ctx context.Context, serverURL, dir string, tpl *dbtest.Template) (bool, []gotest.Extra, error) {
	files, err := pgtap.Discover(dir)
	if err != nil {
		return false, nil, cannot(err)
	}
	if len(files) == 0 {
		return false, nil, nil
	}
	base, err := pgtap.Template(ctx, serverURL, tpl.Name)
	if err != nil {
		return false, nil, cannot(fmt.Errorf("pgTAP template: %w", err))
	}
	workers := runtime.NumCPU()
	a.logf("running %d pgTAP file(s), %d at a time; each sees what the files before it committed, as under pg_prove", len(files), workers)
	var mu sync.Mutex
	results := pgtap.Run(ctx, files, pgtap.Options{
		Dir: dir, Workers: workers, Server: serverURL, Template: base,
		Progress: func(f pgtap.File) {
			mu.Lock()
			defer mu.Unlock()
			pass, fail, skip := f.Counts()
			if a.verbose && f.Isolation != "transaction" {
				a.logf("%s: %s", a.rel(f.Path), f.Isolation)
			}
			if !f.Failed() {
				fmt.Fprintf(a.stdout, "ok    %s  %d tests%s (%s)\n", a.rel(f.Path), pass+skip, skipped(skip), f.Duration.Round(time.Millisecond))
				return
			}
			fmt.Fprintf(a.stdout, "FAIL  %s  %d passed, %d failed%s\n", a.rel(f.Path), pass, fail, skipped(skip))
			for _, t := range f.Tests {
				if !t.OK && !strings.HasPrefix(strings.ToUpper(t.Directive), "TODO") {
					fmt.Fprintf(a.stdout, "      not ok %d - %s\n", t.Number, t.Description)
					for _, l := range strings.Split(t.Diagnostics, "\n") {
						if l != "" {
							fmt.Fprintf(a.stdout, "        # %s\n", l)
						}
					}
				}
			}
			if p := f.Problem(); p != "" {
				fmt.Fprintf(a.stdout, "      %s\n", strings.ReplaceAll(p, "\n", "\n      "))
			}
		},
	})
	var extras []gotest.Extra
	failed := false
	var pass, fail, skip, failedFiles int
	for _, f := range results {
		p, fl, s := f.Counts()
		pass, fail, skip = pass+p, fail+fl, skip+s
		if f.Failed() {
			failed = true
			failedFiles++
		}
		for _, t := range f.Tests {
			x := gotest.Extra{Suite: "pgtap " + f.Path, Name: fmt.Sprintf("%d %s", t.Number, t.Description)}
			if !t.OK && !strings.HasPrefix(strings.ToUpper(t.Directive), "TODO") {
				x.Failure = strings.TrimSpace("not ok " + t.Description + "\n" + t.Diagnostics)
			}
			extras = append(extras, x)
		}
		if msg := f.Problem(); msg != "" {
			extras = append(extras, gotest.Extra{Suite: "pgtap " + f.Path, Name: "file", Failure: msg})
		}
	}
	fmt.Fprintf(a.stdout, "pgTAP: %d file(s), %d failed; %d passed, %d failed, %d skipped\n", len(results), failedFiles, pass, fail, skip)
	return failed, extras, nil
}

func skipped(n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf(", %d skipped", n)
}
