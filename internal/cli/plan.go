package cli

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/spf13/cobra"

	"github.com/dbtool-dev/dbtool/internal/migrate"
	"github.com/dbtool-dev/dbtool/internal/pgserver"
	"github.com/dbtool-dev/dbtool/internal/plan"
)

type planFlags struct {
	base     string
	rows     int
	format   string
	noMatrix bool
}

func (a *app) migratePlanCmd(f *migrateFlags) *cobra.Command {
	var pf planFlags
	cmd := &cobra.Command{
		Use:   "plan",
		Short: "Show what pending migrations lock, rewrite, open and break, before they run",
		Long: `Builds the database as it is before the change on a throwaway PostgreSQL,
fills every table with representative rows (--rows), then applies the pending
files statement by statement in one transaction and reports, per statement,
the locks it takes on existing tables (and how long they would be held: the
lock lasts until the file commits), the tables it rewrites, its duration and
rows; the access matrix cells that open or close; grants added or revoked for
the API roles; and the PostgREST surface (tables, columns, routines and their
argument names) added, removed or renamed. Rules (docs/migrate-plan.md):
P000 statement_fails, P001 access_exclusive_existing_table,
P002 index_not_concurrently, P003 add_column_rewrites_table,
P004 add_column_not_null_without_default, P005 set_not_null_without_check,
P006 column_type_change_rewrites, P007 constraint_without_not_valid,
P008 drop_or_rename_in_use, P009 no_lock_timeout, P010 access_opened,
P011 new_security_definer_exposed, P012 api_breaking_change.

What is pending:
  --base REF          the files at git ref REF are the "before" (a pull request:
                      --base origin/main); the working tree is the "after"
  DATABASE_URL        (without --base) the files that database has not applied
                      are pending; its table sizes (pg_class.reltuples) scale
                      the lock estimates. Only read: the plan never runs there.
  neither             --base HEAD: uncommitted changes are pending

The target database is never written to: the plan runs on a throwaway server.

Exit codes: 0 no error-level finding, 1 an error-level finding (or a
statement that fails on a database with rows), 2 usage, 3 could not run.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if !contains(plan.Formats, pf.format) {
				return usage(fmt.Errorf("unknown --format %q: want %s", pf.format, strings.Join(plan.Formats, ", ")))
			}
			if pf.rows < 1 {
				return usage(fmt.Errorf("--rows must be at least 1"))
			}
			return a.runPlan(cmd.Context(), f, pf)
		},
	}
	cmd.Flags().StringVar(&pf.base, "base", "", "git ref whose files are the database before the change (default HEAD without DATABASE_URL)")
	cmd.Flags().IntVar(&pf.rows, "rows", 10000, "representative rows generated, before the pending files run, in each table they touch (and the tables those reference)")
	cmd.Flags().StringVar(&pf.format, "format", "text", "output format: text, json, markdown (a pull-request comment) or sarif")
	cmd.Flags().BoolVar(&pf.noMatrix, "no-matrix", false, "skip the access matrix before and after (faster; the API and grant diffs remain)")
	return cmd
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if x == y {
			return true
		}
	}
	return false
}

func (a *app) runPlan(ctx context.Context, f *migrateFlags, pf planFlags) error {
	if err := a.checkFiles(); err != nil {
		return err
	}
	head := a.project()
	opts := plan.Options{
		Head:        head,
		Schemas:     a.cfg.Schemas,
		Rows:        pf.rows,
		LockTimeout: a.ddlLockTimeout(f) > 0,
		Personas:    a.matrixOptions().Personas,
		NoMatrix:    pf.noMatrix,
		Logf:        a.logf,
	}
	base := pf.base
	if base == "" && a.cfg.DatabaseURL == "" {
		base = "HEAD"
	}
	if base != "" {
		dir, cleanup, err := gitProject(ctx, a.cfg.Dir, base)
		if err != nil {
			return usage(err)
		}
		defer cleanup()
		opts.Base = migrate.Project{Dir: dir, Migrations: head.Migrations, Procedures: head.Procedures, Policies: head.Policies}
		a.logf("plan: before = the files at %s; after = the working tree", base)
	}
	if a.cfg.DatabaseURL != "" {
		sizes, pendingBase, err := a.target(ctx, f, head, base == "")
		if err != nil {
			return cannot(err)
		}
		opts.TargetRows = sizes
		if base == "" {
			opts.Base = pendingBase
			defer os.RemoveAll(pendingBase.Dir)
		}
		a.logf("plan: lock estimates use the sizes of the target database (read only)")
	}

	backend, _ := pgserver.ParseBackend(a.cfg.Backend)
	if backend == pgserver.BackendURL {
		backend = pgserver.BackendAuto
	}
	srv, err := pgserver.Start(ctx, pgserver.Options{Backend: backend, Image: a.cfg.Image, Logf: a.logf})
	if err != nil {
		return cannot(err)
	}
	defer srv.Stop(context.WithoutCancel(ctx)) //nolint:errcheck
	opts.ServerURL = srv.URL

	res, err := plan.Run(ctx, opts)
	if errors.Is(err, plan.ErrNothingPending) {
		a.logf("%v", err)
		if pf.format == "json" {
			return a.printJSON(&plan.Result{})
		}
		return nil
	}
	if err != nil {
		return a.migErr(err)
	}
	if err := plan.Write(a.stdout, res, pf.format); err != nil {
		return cannot(err)
	}
	if res.Failed() {
		return silent(ExitProblems)
	}
	return nil
}

func (a *app) ddlLockTimeout(f *migrateFlags) time.Duration {
	d := a.cfg.DDLLockTimeout
	if f.ddlLockTimeout != 0 {
		d = f.ddlLockTimeout
	}
	if d == 0 {
		d = migrate.DefaultDDLLockTimeout
	}
	return d
}

// target reads the target's table sizes and, when asked, a copy of the
// project without the versioned files the target has not applied.
func (a *app) target(ctx context.Context, f *migrateFlags, head migrate.Project, wantBase bool) (map[string]float64, migrate.Project, error) {
	conn, err := pgx.Connect(ctx, a.cfg.DatabaseURL)
	if err != nil {
		return nil, migrate.Project{}, fmt.Errorf("connect to the target (DATABASE_URL): %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	sizes := map[string]float64{}
	rows, err := conn.Query(ctx, `
		select n.nspname || '.' || c.relname, greatest(c.reltuples, 0)::float8
		from pg_class c join pg_namespace n on n.oid = c.relnamespace
		where c.relkind in ('r', 'p', 'm') and n.nspname not in ('pg_catalog', 'information_schema')`)
	if err != nil {
		return nil, migrate.Project{}, err
	}
	for rows.Next() {
		var k string
		var v float64
		if err := rows.Scan(&k, &v); err != nil {
			rows.Close()
			return nil, migrate.Project{}, err
		}
		sizes[k] = v
	}
	if err := rows.Err(); err != nil {
		return nil, migrate.Project{}, err
	}
	if !wantBase {
		return sizes, migrate.Project{}, nil
	}
	r, err := a.runner(a.cfg.DatabaseURL, f)
	if err != nil {
		return nil, migrate.Project{}, err
	}
	st, err := r.Status(ctx)
	if err != nil {
		return nil, migrate.Project{}, err
	}
	pending := map[string]bool{}
	for _, e := range st.Entries {
		if e.Kind == "migration" && e.State == "pending" {
			pending[e.Path] = true
		}
	}
	dir, err := os.MkdirTemp("", "dbtool-plan-base-")
	if err != nil {
		return nil, migrate.Project{}, err
	}
	for _, sub := range []string{head.Migrations, head.Procedures, head.Policies} {
		if sub == "" {
			continue
		}
		src := filepath.Join(head.Dir, sub)
		err := filepath.WalkDir(src, func(p string, e os.DirEntry, err error) error {
			if err != nil || e.IsDir() {
				return err
			}
			rel, _ := filepath.Rel(head.Dir, p)
			if pending[filepath.ToSlash(rel)] {
				return nil
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			out := filepath.Join(dir, rel)
			if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
				return err
			}
			return os.WriteFile(out, b, 0o644)
		})
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, migrate.Project{}, err
		}
	}
	return sizes, migrate.Project{Dir: dir, Migrations: head.Migrations, Procedures: head.Procedures, Policies: head.Policies}, nil
}

// gitProject writes the project folder as it is at ref into a temporary
// folder (git archive of the folder's path inside the repository).
func gitProject(ctx context.Context, dir, ref string) (string, func(), error) {
	prefix, err := exec.CommandContext(ctx, "git", "-C", dir, "rev-parse", "--show-prefix").Output()
	if err != nil {
		return "", nil, fmt.Errorf("--base %s: %s is not in a git repository (pass --base only in a checkout, or set DATABASE_URL)", ref, dir)
	}
	tree := ref + ":" + strings.TrimSuffix(strings.TrimSpace(string(prefix)), "/")
	var out, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "git", "-C", dir, "archive", "--format=tar", tree)
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		return "", nil, fmt.Errorf("--base %s: git archive %s: %s", ref, tree, strings.TrimSpace(stderr.String()))
	}
	tmp, err := os.MkdirTemp("", "dbtool-plan-base-")
	if err != nil {
		return "", nil, err
	}
	cleanup := func() { os.RemoveAll(tmp) }
	tr := tar.NewReader(&out)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			cleanup()
			return "", nil, err
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		p := filepath.Join(tmp, filepath.FromSlash(h.Name))
		if !strings.HasPrefix(p, tmp+string(os.PathSeparator)) {
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			cleanup()
			return "", nil, err
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			cleanup()
			return "", nil, err
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			cleanup()
			return "", nil, err
		}
	}
	return tmp, cleanup, nil
}

// planGate is dbtool check's "migrate plan" gate: the changes since base,
// planned on serverURL.
func (a *app) planGate(ctx context.Context, serverURL, base string) (gate, error) {
	dir, cleanup, err := gitProject(ctx, a.cfg.Dir, base)
	if err != nil {
		return gate{}, usage(err)
	}
	defer cleanup()
	head := a.project()
	res, err := plan.Run(ctx, plan.Options{
		ServerURL: serverURL, Head: head, Schemas: a.cfg.Schemas, Rows: 100,
		Base:        migrate.Project{Dir: dir, Migrations: head.Migrations, Procedures: head.Procedures, Policies: head.Policies},
		LockTimeout: a.ddlLockTimeout(&migrateFlags{}) > 0, Personas: a.matrixOptions().Personas,
	})
	if errors.Is(err, plan.ErrNothingPending) {
		return gate{name: "migrate plan", ok: true, detail: "nothing changed since " + base}, nil
	}
	if err != nil {
		return gate{name: "migrate plan", ok: false, detail: err.Error()}, nil
	}
	e, w, i := res.Counts()
	g := gate{name: "migrate plan", ok: !res.Failed(),
		detail: fmt.Sprintf("%d files changed since %s: %d error, %d warn, %d info, %d access changes, %d API changes", len(res.Files), base, e, w, i, len(res.Access), len(res.API))}
	for _, f := range res.Findings {
		if f.Level == plan.LevelError {
			where := f.Object
			if f.File != "" {
				where = fmt.Sprintf("%s:%d", f.File, f.Line)
			}
			g.detail += fmt.Sprintf("\n%s %s %s: %s", f.Level, f.Rule, where, f.Detail)
		}
	}
	return g, nil
}
