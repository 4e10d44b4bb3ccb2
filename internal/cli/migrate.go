package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/dbtool-dev/dbtool/internal/migrate"
	"github.com/dbtool-dev/dbtool/internal/pgerr"
)

type migrateFlags struct {
	seed             bool
	acceptDrift      bool
	lockTimeout      time.Duration
	ddlLockTimeout   time.Duration
	statementTimeout time.Duration
}

func (a *app) migrateCmd() *cobra.Command {
	var f migrateFlags
	cmd := &cobra.Command{
		Use:     "migrate",
		Short:   "Apply and inspect forward-only migrations and repeatable procedures/policies",
		GroupID: "schema",
		Long: `Versioned files in migrations/ ({version}_{name}.up.sql) are applied once, in
version order, each in one transaction, by golang-migrate. Then every file in
procedures/ and policies/ whose content changed since it was last applied is
applied again (procedures first, each folder in path order, each set in one
transaction); such files must be re-runnable (CREATE OR REPLACE FUNCTION,
DROP POLICY IF EXISTS + CREATE POLICY). dbtool keeps its ledger in the dbtool
schema and sends NOTIFY pgrst, 'reload schema' after a change.

Forward-only: there are no down migrations. Revert with a new migration.

` + exitHelp,
		Args: cobra.ArbitraryArgs,
		RunE: unknownSubcommand,
	}
	pf := cmd.PersistentFlags()
	pf.DurationVar(&f.lockTimeout, "lock-timeout", 0, "how long to wait for another dbtool migrate on the same database (env DBTOOL_LOCK_TIMEOUT; default 60s)")
	pf.DurationVar(&f.ddlLockTimeout, "ddl-lock-timeout", 0, "lock_timeout while applying SQL, so DDL never queues behind traffic forever (env DBTOOL_DDL_LOCK_TIMEOUT; default 10s; -1s: none)")
	pf.DurationVar(&f.statementTimeout, "statement-timeout", 0, "statement_timeout while applying SQL (env DBTOOL_STATEMENT_TIMEOUT; default 10m; -1s: none)")
	cmd.AddCommand(a.migrateUpCmd(&f), a.migrateStatusCmd(&f), a.migrateVerifyCmd(&f), a.migrateNewCmd(), a.migratePlanCmd(&f), a.migrateRepairCmd(&f))
	return cmd
}

func (a *app) runner(url string, f *migrateFlags) (*migrate.Runner, error) {
	opts := migrate.Options{
		URL:              url,
		Project:          a.project(),
		LockTimeout:      a.cfg.LockTimeout,
		DDLLockTimeout:   a.cfg.DDLLockTimeout,
		StatementTimeout: a.cfg.StatementTimeout,
		Logf:             a.logf,
		Progress:         a.progress,
		Seed:             f.seed,
		AcceptDrift:      f.acceptDrift,
		Platform:         a.cfg.Platform,
	}
	if f.lockTimeout != 0 {
		opts.LockTimeout = f.lockTimeout
	}
	if f.ddlLockTimeout != 0 {
		opts.DDLLockTimeout = f.ddlLockTimeout
	}
	if f.statementTimeout != 0 {
		opts.StatementTimeout = f.statementTimeout
	}
	return migrate.New(opts)
}

// withRunner validates the files, gets a database and runs fn with a
// Runner on it: the shape of every migrate subcommand.
func (a *app) withRunner(ctx context.Context, f *migrateFlags, fn func(r *migrate.Runner) error) error {
	if err := a.checkFiles(); err != nil {
		return err
	}
	return a.withDatabase(ctx, func(url string) error {
		r, err := a.runner(url, f)
		if err != nil {
			return usage(err)
		}
		return fn(r)
	})
}

// checkFiles validates the project's files before any database is started.
func (a *app) checkFiles() error {
	_, err := a.countFiles()
	return err
}

// countFiles validates the project's files and counts them (versioned and
// repeatable together).
func (a *app) countFiles() (int, error) {
	migs, err := a.project().LoadMigrations()
	if err != nil {
		return 0, a.migErr(err)
	}
	reps, err := a.project().LoadRepeatables()
	if err != nil {
		return 0, a.migErr(err)
	}
	return len(migs) + len(reps), nil
}

func (a *app) project() migrate.Project {
	return migrate.Project{Dir: a.cfg.Dir, Migrations: a.cfg.Migrations, Procedures: a.cfg.Procedures, Policies: a.cfg.Policies,
		Layout: a.cfg.Layout, Seeds: a.cfg.Seeds}
}

// migrateErrIn maps migrate's errors to exit codes (problems in the
// project's files or SQL are 1; not being able to run is 3), with the paths
// in err made relative to where the user stands (they are relative to the
// project folder dir).
func migrateErrIn(dir string, err error) error {
	relPaths(dir, err)
	var (
		pe *migrate.ProjectError
		ve *migrate.ValidationError
		fe *pgerr.FileError
		de *migrate.DriftError
	)
	switch {
	case err == nil:
		return nil
	case errors.As(err, &pe), errors.As(err, &ve), errors.As(err, &fe), errors.As(err, &de):
		return problems(err)
	}
	return cannot(err)
}

func (a *app) migrateUpCmd(f *migrateFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Apply pending migrations and changed procedures/policies",
		Long: `Apply the platform layer (on plain PostgreSQL), the pending versioned files and
the changed repeatable files. Re-running is a no-op and says so.

Refuses to run when an applied migration was edited or a pending one is older
than the last applied version (golang-migrate would skip it silently). A
failing file leaves the database exactly as it was; the error names the file,
line and SQLSTATE.

` + exitHelp,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withRunner(cmd.Context(), f, func(r *migrate.Runner) error {
				res, err := r.Up(cmd.Context())
				a.endProgress()
				if err != nil {
					return a.migErr(err)
				}
				if a.format == "json" {
					return a.printJSON(upJSON(res))
				}
				a.printUp(res)
				return nil
			})
		},
	}
	a.addFormatFlag(cmd)
	cmd.Flags().BoolVar(&f.acceptDrift, "accept-drift", false, "accept changes made outside dbtool that no file restores (grants, RLS switches, objects no file defines) instead of refusing; recorded in dbtool.drift_accepted")
	cmd.Flags().BoolVar(&f.seed, "seed", false, "then apply the seed files not applied yet (supabase/seed.sql or [db.seed] sql_paths of supabase/config.toml, or seeds: in dbtool.yaml), recorded in supabase_migrations.seed_files as the Supabase CLI does")
	return cmd
}

type upOut struct {
	Changed     bool                 `json:"changed"`
	Platform    []int                `json:"platform_applied"`
	Supabase    bool                 `json:"supabase"`
	Migrations  []string             `json:"migrations_applied"`
	Repeatables []string             `json:"repeatables_applied"`
	Recovered   string               `json:"recovered,omitempty"`
	Missing     []string             `json:"missing,omitempty"`
	Skipped     []string             `json:"skipped,omitempty"`
	Seeds       []migrate.SeedResult `json:"seeds,omitempty"`
	Drift       []migrate.Drift      `json:"drift,omitempty"`
	Repaired    []migrate.Drift      `json:"repaired,omitempty"`
	Accepted    []migrate.Drift      `json:"accepted,omitempty"`
	DurationMS  int64                `json:"duration_ms"`
}

func upJSON(r *migrate.UpResult) upOut {
	o := upOut{Changed: r.Changed(), Platform: r.Platform.Applied, Supabase: r.Platform.Supabase, Recovered: r.Recovered,
		Missing: r.Missing, Skipped: r.Skipped, Seeds: r.Seeds, Drift: r.Drift, Repaired: r.Repaired, Accepted: r.Accepted, DurationMS: r.Duration.Milliseconds(), Migrations: []string{}, Repeatables: []string{}}
	for _, m := range r.Migrations {
		o.Migrations = append(o.Migrations, m.Path)
	}
	for _, m := range r.Repeatables {
		o.Repeatables = append(o.Repeatables, m.Path)
	}
	return o
}

func (a *app) printUp(r *migrate.UpResult) {
	w := a.stdout
	if r.Platform.Supabase {
		fmt.Fprintln(w, "Supabase database detected: platform layer not installed (Supabase provides it)")
	} else if len(r.Platform.Applied) > 0 {
		fmt.Fprintf(w, "platform layer installed (versions %v)\n", r.Platform.Applied)
	}
	for _, m := range r.Migrations {
		fmt.Fprintf(w, "applied   %s\n", a.rel(m.Path))
	}
	for _, m := range r.Repeatables {
		fmt.Fprintf(w, "applied   %s\n", a.rel(m.Path))
	}
	for _, sd := range r.Seeds {
		if sd.State != "unchanged" {
			fmt.Fprintf(w, "seeded    %s\n", a.rel(sd.Path)+map[string]string{"applied": "", "changed": " (changed: new hash recorded, not run again)"}[sd.State])
		}
	}
	for _, m := range r.Missing {
		fmt.Fprintf(a.stderr, "warning: applied migration %s is no longer in the folder\n", m)
	}
	for _, d := range r.Repaired {
		fmt.Fprintf(w, "repaired  %s: applied %s again\n", d.Describe(), a.rel(d.Path))
	}
	for _, d := range r.Accepted {
		fmt.Fprintf(w, "accepted  %s (recorded in dbtool.drift_accepted)\n", d.Describe())
	}
	if !r.Changed() {
		fmt.Fprintln(w, "nothing to apply: the database is up to date")
		return
	}
	fmt.Fprintf(w, "done: %d migration(s), %d repeatable file(s) in %s\n", len(r.Migrations), len(r.Repeatables), r.Duration.Round(time.Millisecond))
}

func (a *app) migrateStatusCmd(f *migrateFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "status",
		Short: "List every migration and repeatable file with its state",
		Long: `States: applied, pending, edited (changed since applied), missing (applied but
no longer in the folder), out_of_order (pending but older than the last applied
version), dirty (a failed or killed golang-migrate run; migrate up resolves it).
Exit 1 when a file is edited, missing or out of order. Needs a database
(DATABASE_URL or --database-url): a throwaway one has no history.

` + exitHelp,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := a.needDatabase("migrate status", "lists which files that database has applied"); err != nil {
				return err
			}
			return a.withRunner(cmd.Context(), f, func(r *migrate.Runner) error {
				st, err := r.Status(cmd.Context())
				if err != nil {
					return a.migErr(err)
				}
				counts := st.Counts()
				bad := counts[migrate.StateEdited]+counts[migrate.StateMissing]+counts[migrate.StateOutOfOrder] > 0
				if a.format == "json" {
					if st.Entries == nil {
						st.Entries = []migrate.Entry{}
					}
					if err := a.printJSON(st); err != nil {
						return err
					}
					if bad {
						return silent(ExitProblems)
					}
					return nil
				}
				tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "KIND\tFILE\tSTATE\tAPPLIED AT\tCHECKSUM")
				for _, e := range st.Entries {
					at := "-"
					if e.AppliedAt != nil {
						at = e.AppliedAt.UTC().Format("2006-01-02 15:04:05")
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", e.Kind, e.Path, e.State, at, e.Checksum[:min(12, len(e.Checksum))])
				}
				tw.Flush()
				var parts []string
				for _, s := range []string{migrate.StateApplied, migrate.StatePending, migrate.StateEdited, migrate.StateMissing, migrate.StateOutOfOrder, migrate.StateDirty} {
					if counts[s] > 0 {
						parts = append(parts, fmt.Sprintf("%d %s", counts[s], s))
					}
				}
				if len(parts) == 0 {
					parts = []string{"no files"}
				}
				fmt.Fprintln(a.stderr, strings.Join(parts, ", "))
				if bad {
					return silent(ExitProblems)
				}
				return nil
			})
		},
	}
	a.addFormatFlag(cmd)
	return cmd
}

func (a *app) migrateVerifyCmd(f *migrateFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Fail when applied history or live functions/policies differ from the files",
		Long: `Exit 1 when an applied migration file was edited, removed or arrives out of
order, when golang-migrate's version is dirty, or when live functions,
policies or table security settings (RLS switches, grants) were changed
outside dbtool since its last migrate (drift, e.g. an edit in a dashboard).
Pending files are listed but are not a failure. Changes nothing.

` + exitHelp,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := a.needDatabase("migrate verify", "checks that database's history and live objects against the files (dbtool check verifies the files on a throwaway database)"); err != nil {
				return err
			}
			return a.withRunner(cmd.Context(), f, func(r *migrate.Runner) error {
				res, err := r.Verify(cmd.Context())
				if err != nil {
					return a.migErr(err)
				}
				if a.format == "json" {
					if res.Problems == nil {
						res.Problems = []migrate.Problem{}
					}
					if res.Pending == nil {
						res.Pending = []string{}
					}
					if err := a.printJSON(res); err != nil {
						return err
					}
				} else {
					for _, p := range res.Problems {
						fmt.Fprintln(a.stdout, p.String())
					}
					for _, p := range res.Pending {
						fmt.Fprintf(a.stderr, "pending: %s\n", p)
					}
					if res.OK() {
						fmt.Fprintln(a.stdout, "verified: applied history matches the files and no drift was found")
					} else {
						fmt.Fprintf(a.stdout, "%d problem(s)\n", len(res.Problems))
					}
				}
				if !res.OK() {
					return silent(ExitProblems)
				}
				return nil
			})
		},
	}
	a.addFormatFlag(cmd)
	return cmd
}

func (a *app) migrateNewCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "new NAME",
		Short: "Create migrations/YYYYMMDDHHMMSS_name.up.sql",
		Long: `Create an empty forward-only migration named after the UTC time (raised above
the newest existing version when needed) and print its path. There is no down
file: to revert a change, write a new migration.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path, err := a.project().NewFile(args[0], time.Now())
			if err != nil {
				var pe *migrate.ProjectError
				if errors.As(err, &pe) {
					return problems(err)
				}
				return usage(err)
			}
			fmt.Fprintln(a.stdout, path)
			return nil
		},
	}
}

// rel turns a project-relative path into one relative to the current
// directory (what a user can open or click).
func (a *app) rel(path string) string { return relTo(a.cfg.Dir, path) }

func relTo(dir, path string) string {
	if dir == "" || dir == "." || filepath.IsAbs(path) {
		return path
	}
	full := filepath.Join(dir, filepath.FromSlash(path))
	cwd, err := os.Getwd()
	if err != nil {
		return full
	}
	abs, err := filepath.Abs(full)
	if err != nil {
		return full
	}
	// Below the current directory: relative; elsewhere: absolute (a
	// path full of ../ is harder to read than where the file is).
	if r, err := filepath.Rel(cwd, abs); err == nil && !strings.HasPrefix(r, "..") {
		return r
	}
	return abs
}

// relPaths rewrites the file paths inside migrate's errors (project
// relative) to paths relative to the current directory.
func relPaths(dir string, err error) {
	fix := func(p string) string {
		file, rest, _ := strings.Cut(p, ":")
		if rest != "" {
			return relTo(dir, file) + ":" + rest
		}
		return relTo(dir, file)
	}
	var (
		fe *pgerr.FileError
		ve *migrate.ValidationError
	)
	if errors.As(err, &fe) {
		fe.File = fix(fe.File)
	}
	if errors.As(err, &ve) {
		for i := range ve.Problems {
			ve.Problems[i].Path = fix(ve.Problems[i].Path)
		}
	}
	// errors.Join of several ProjectErrors: fix each.
	var walk func(error)
	walk = func(e error) {
		if e == nil {
			return
		}
		if x, ok := e.(*migrate.ProjectError); ok {
			x.Path = fix(x.Path)
		}
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, x := range j.Unwrap() {
				walk(x)
			}
		}
	}
	walk(err)
}

// migErr maps migrate's errors to exit codes, paths relative to the current
// directory; a connection failure says where the URL came from.
func (a *app) migErr(err error) error {
	var ce *migrate.ConnectError
	if errors.As(err, &ce) {
		return cannot(fmt.Errorf("cannot connect to the database from %s: %v\n  check that the server is running and that the URL's host, port, user, password and database are right", a.urlSource(), ce.Err))
	}
	return migrateErrIn(a.cfg.Dir, err)
}

// progress shows the file being applied on a terminal, on one line that
// the next one overwrites (nothing in CI or when stderr is a file).
func (a *app) progress(path string) {
	if a.verbose {
		fmt.Fprintf(a.stderr, "applying %s\n", a.rel(path))
		return
	}
	if !a.interactive() {
		return
	}
	fmt.Fprintf(a.stderr, "\r\033[Kapplying %s", a.rel(path))
	a.progressShown = true
}

// endProgress clears the progress line.
func (a *app) endProgress() {
	if a.progressShown {
		fmt.Fprint(a.stderr, "\r\033[K")
		a.progressShown = false
	}
}

// interactive: stderr is a terminal (and CI is not set).
func (a *app) interactive() bool {
	if a.getenv("CI") != "" {
		return false
	}
	f, ok := a.stderr.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// needDatabase refuses a command that is meaningless on a throwaway
// database built for the occasion.
func (a *app) needDatabase(command, what string) error {
	if a.cfg.DatabaseURL != "" {
		return nil
	}
	return usage(fmt.Errorf("%s %s: set DATABASE_URL or --database-url (a throwaway database would have no history to check)", command, what))
}

func (a *app) migrateRepairCmd(f *migrateFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "repair FILE...",
		Short: "Accept applied migration files that were edited since, after review",
		Long: `An applied migration is history: editing it makes migrate up refuse to run
and migrate verify fail. When the edit changes nothing in the database (a
comment, formatting) or its effect was made true by other means, repair
records the file's new checksum (and, for Supabase projects, its statements
in supabase_migrations.schema_migrations), with who and when in
dbtool.repairs. The edit itself is not applied. Needs DATABASE_URL.

` + exitHelp,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := a.needDatabase("migrate repair", "records an edited file as reviewed in that database's history"); err != nil {
				return err
			}
			return a.withRunner(cmd.Context(), f, func(r *migrate.Runner) error {
				lines, err := r.Repair(cmd.Context(), args)
				for _, l := range lines {
					fmt.Fprintln(a.stdout, l)
				}
				return a.migErr(err)
			})
		},
	}
}
