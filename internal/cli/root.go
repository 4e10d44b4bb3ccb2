// Package cli is dbtool's command line: one file per command group over the
// library packages. Data goes to stdout, progress and errors to stderr.
package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/dbtool-dev/dbtool/internal/config"
	"github.com/dbtool-dev/dbtool/internal/pgserver"
)

// Exit codes, the same for every command.
const (
	ExitOK       = 0 // success
	ExitProblems = 1 // the command ran and found problems (failed migration, drift, ...)
	ExitUsage    = 2 // bad flags or arguments
	ExitCannot   = 3 // the command could not run (no database, connection or SQL error)
	// ExitInterrupted: Ctrl-C (SIGINT) or SIGTERM, after cleaning up (128 + SIGINT, as shells report it).
	ExitInterrupted = 130
)

const exitHelp = `Exit codes:
  0  success
  1  the command ran and found problems (a failing or refused migration, drift, ...)
  2  usage error (unknown flag, bad argument)
  3  dbtool could not run (no database, connection failure, lock timeout)
  130 interrupted (Ctrl-C): what was running was rolled back and throwaway databases removed`

// exitError carries an exit code through cobra.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func problems(err error) error { return &exitError{ExitProblems, err} }
func cannot(err error) error   { return &exitError{ExitCannot, err} }
func usage(err error) error    { return &exitError{ExitUsage, err} }

// silent is returned when a command already printed its findings and only
// the exit code remains to be set.
func silent(code int) error { return &exitError{code, nil} }

// app holds what every command shares: resolved configuration and streams.
type app struct {
	stdout, stderr io.Writer
	getenv         func(string) string

	// flags (global)
	dir         string
	databaseURL string
	backend     string
	schemas     string
	format      string
	verbose     bool

	cfg config.Config

	progressShown bool // a progress line is on the terminal
	// throwaway: the server is dbtool's own (local cluster or container),
	// removed when the command ends.
	throwaway bool
}

func (a *app) logf(format string, args ...any) {
	fmt.Fprintf(a.stderr, format+"\n", args...)
}

// Main runs dbtool with args and returns the process exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	a := &app{stdout: stdout, stderr: stderr, getenv: os.Getenv}
	root := a.rootCmd()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if ctx.Err() != nil {
		// Ctrl-C or SIGTERM: every command has cleaned up by the time it
		// returns (throwaway servers removed, a running file rolled back).
		a.endProgress()
		if err != nil {
			fmt.Fprintln(stderr, "error:", err)
		}
		fmt.Fprintln(stderr, "interrupted; cleaned up")
		return ExitInterrupted
	}
	if err == nil {
		return ExitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintln(stderr, "error:", ee.err)
		}
		return ee.code
	}
	// Cobra's own errors are usage errors (unknown command or flag).
	fmt.Fprintln(stderr, "error:", err)
	fmt.Fprintln(stderr, "run 'dbtool --help' for usage")
	return ExitUsage
}

func (a *app) rootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "dbtool",
		Short: "Migrate, test and check PostgreSQL/Supabase databases whose rules live in the database",
		Long: `dbtool runs forward-only migrations plus repeatable procedures/ and policies/,
and proves what each API role (anon, a signed-in user, service_role) can do.

Without --database-url or DATABASE_URL, commands run on a throwaway PostgreSQL
built from the local server binaries (or a container with --backend docker),
which is removed when the command ends.

` + envHelp() + "\n\n" + exitHelp,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			return a.resolve(cmd)
		},
	}
	pf := root.PersistentFlags()
	pf.StringVar(&a.dir, "dir", ".", "project folder (holds migrations/, procedures/, policies/ and an optional dbtool.yaml)")
	pf.StringVar(&a.databaseURL, "database-url", "", "PostgreSQL URL to use (env DATABASE_URL); empty: a throwaway database")
	pf.StringVar(&a.backend, "backend", "", "where a database comes from: auto, local, docker or url (env DBTOOL_BACKEND; default auto)")
	pf.StringVar(&a.schemas, "schemas", "", "comma-separated exposed schemas (env DBTOOL_SCHEMAS; default public)")
	pf.BoolVarP(&a.verbose, "verbose", "v", false, "print every step (each file as it is applied, container logs)")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usage(err) })
	root.AddGroup(&cobra.Group{ID: "schema", Title: "Schema changes:"}, &cobra.Group{ID: "check", Title: "Checks and tests:"},
		&cobra.Group{ID: "local", Title: "Local database:"})
	root.AddCommand(a.migrateCmd(), a.policyCmd(), a.lintCmd(), a.reportCmd(), a.checkCmd(), a.testCmd(), a.dbCmd(), a.versionCmd())
	return root
}

func envHelp() string {
	keys := make([]string, 0, len(config.Env))
	for k := range config.Env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("Environment (a flag beats its variable, a variable beats dbtool.yaml):")
	for _, k := range keys {
		fmt.Fprintf(&b, "\n  %-25s %s", k, config.Env[k])
	}
	return b.String()
}

// resolve builds the configuration: flag > env > dbtool.yaml > default.
func (a *app) resolve(cmd *cobra.Command) error {
	if cmd.Name() == "version" || cmd.Name() == "help" {
		return nil
	}
	if st, err := os.Stat(a.dir); err != nil || !st.IsDir() {
		return usage(fmt.Errorf("--dir %s: no such folder (the project folder holds migrations/ or supabase/)", a.dir))
	}
	cfg, err := config.Load(a.dir, a.getenv)
	if err != nil {
		return usage(err)
	}
	if err := cfg.CheckFolders(); err != nil {
		return usage(err)
	}
	if a.databaseURL != "" {
		cfg.DatabaseURL = a.databaseURL
	}
	if a.backend != "" {
		cfg.Backend = a.backend
	}
	if a.schemas != "" {
		cfg.Schemas = config.SplitList(a.schemas)
	}
	if _, err := pgserver.ParseBackend(cfg.Backend); err != nil {
		return usage(err)
	}
	if a.format != "" && a.format != "text" && a.format != "json" && cmd.Name() != "lint" {
		return usage(fmt.Errorf("unknown --format %q: want text or json", a.format))
	}
	a.cfg = cfg
	return nil
}

// withDatabase runs fn with a database URL: the configured one, or a
// throwaway server that is stopped and removed afterwards (also on error and
// on Ctrl-C, which cancels ctx).
func (a *app) withDatabase(ctx context.Context, fn func(url string) error) error {
	backend, _ := pgserver.ParseBackend(a.cfg.Backend)
	start := time.Now()
	srv, err := pgserver.Start(ctx, pgserver.Options{URL: a.cfg.DatabaseURL, Backend: backend, Image: a.cfg.Image, Logf: a.logf, Verbose: a.verbose,
		LikeSupabase: true})
	if err != nil {
		return cannot(err)
	}
	a.throwaway = srv.Backend != pgserver.BackendURL
	switch srv.Backend {
	case pgserver.BackendLocal:
		a.logf("using a throwaway PostgreSQL in %s (ready in %s); it is removed when dbtool exits; set DATABASE_URL to use a server",
			srv.Dir, time.Since(start).Round(time.Millisecond))
	case pgserver.BackendDocker:
		a.logf("using a throwaway PostgreSQL container (ready in %s); it is removed when dbtool exits; set DATABASE_URL to use a server",
			time.Since(start).Round(time.Millisecond))
	}
	defer func() {
		if err := srv.Stop(context.WithoutCancel(ctx)); err != nil {
			a.logf("warning: stopping the throwaway database: %v", err)
		}
	}()
	return fn(srv.URL)
}

// printJSON writes v as indented JSON to stdout.
func (a *app) printJSON(v any) error {
	enc := json.NewEncoder(a.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func (a *app) addFormatFlag(cmd *cobra.Command) {
	cmd.Flags().StringVar(&a.format, "format", "text", "output format: text or json")
}

// Version is set at build time (-ldflags "-X .../cli.Version=...").
var Version = "dev"

func (a *app) versionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print dbtool's version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			fmt.Fprintln(a.stdout, versionString())
			return nil
		},
	}
}

// versionString: the module version and the VCS revision the binary was
// built from (go build stamps them), or the -ldflags Version.
func versionString() string {
	v, rev, modified, when := Version, "", false, ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			case "vcs.time":
				when = s.Value
			}
		}
	}
	out := "dbtool " + v
	if rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		out += " (" + rev
		if modified {
			out += ", modified"
		}
		if when != "" {
			out += ", " + when
		}
		out += ")"
	}
	return out
}

// unknownSubcommand makes a command group fail on a subcommand it does not
// have (cobra would print the help and exit 0).
func unknownSubcommand(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return cmd.Help()
	}
	if cmd.Name() == "migrate" && (args[0] == "down" || args[0] == "rollback" || args[0] == "revert") {
		return usage(fmt.Errorf("there are no down migrations: dbtool is forward-only. To revert a change, write a new migration " +
			"that undoes it (dbtool migrate new revert_<what>) and apply it with dbtool migrate up"))
	}
	return usage(fmt.Errorf("unknown command %q for %q; run '%s --help'", args[0], cmd.CommandPath(), cmd.CommandPath()))
}

// urlSource says where the database URL came from, for errors.
func (a *app) urlSource() string {
	switch {
	case a.databaseURL != "":
		return "--database-url"
	case a.cfg.DatabaseURL != "":
		return "DATABASE_URL"
	}
	return "the throwaway server dbtool started"
}
