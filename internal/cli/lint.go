package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/spf13/cobra"

	"github.com/dbtool-dev/dbtool/internal/coverage"
	"github.com/dbtool-dev/dbtool/internal/lint"
	"github.com/dbtool-dev/dbtool/internal/matrix"
	"github.com/dbtool-dev/dbtool/internal/report"
)

// onDatabase runs fn on the configured database; without a URL (or with
// migrate) the project is migrated onto it first.
func (a *app) onDatabase(cmd *cobra.Command, migrate bool, fn func(url string) error) error {
	migrateFirst := a.cfg.DatabaseURL == "" || migrate
	if migrateFirst {
		if err := a.checkFiles(); err != nil {
			return err
		}
	}
	return a.withDatabase(cmd.Context(), func(url string) error {
		if migrateFirst {
			r, err := a.runner(url, &migrateFlags{})
			if err != nil {
				return usage(err)
			}
			r.Quiet()
			if _, err := r.Up(cmd.Context()); err != nil {
				return a.migErr(err)
			}
			if a.cfg.DatabaseURL == "" {
				a.logf("no DATABASE_URL: looked at a throwaway database built from the files in %s", a.cfg.Dir)
			}
		}
		if err := a.checkSchemas(cmd.Context(), url); err != nil {
			return err
		}
		return fn(url)
	})
}

func (a *app) policyCoverageCmd() *cobra.Command {
	var failUnder float64
	cmd := &cobra.Command{
		Use:   "coverage",
		Short: "Classify every exposed table and view: RLS, policies per command and role, API privileges",
		Long: `For every table, partitioned table, view and materialized view in the exposed
schemas: RLS enabled/forced, the policies per command and role, the privileges
anon/authenticated/service_role hold (TRUNCATE and REFERENCES included, through
role membership too), and a verdict: covered, deny_by_default,
granted_without_policy, exposed_without_rls, policy_rls_off. Totals and the
percentage of objects classified safe (covered or deny_by_default).

Exits 1 when the percentage is under --fail-under (default 100), and always
when an object is exposed without RLS. Without a database URL the project is migrated onto a
throwaway database first.

` + exitHelp,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.onDatabase(cmd, false, func(url string) error {
				rep, err := a.coverage(cmd.Context(), url)
				if err != nil {
					return cannot(err)
				}
				if a.format == "json" {
					if err := a.printJSON(rep); err != nil {
						return err
					}
				} else {
					writeCoverage(a, rep)
				}
				if n := rep.Totals[coverage.ExposedWithoutRLS]; n > 0 {
					return problems(fmt.Errorf("%d object(s) exposed to API roles without row level security", n))
				}
				if rep.Percent < failUnder {
					return problems(fmt.Errorf("coverage %.1f%% is under --fail-under %.1f%%", rep.Percent, failUnder))
				}
				return nil
			})
		},
	}
	cmd.Flags().Float64Var(&failUnder, "fail-under", 100, "exit 1 when fewer than PCT percent of the objects are covered or deny-by-default")
	a.addFormatFlag(cmd)
	return cmd
}

func (a *app) coverage(ctx context.Context, url string) (*coverage.Report, error) {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	return coverage.Run(ctx, conn, a.cfg.Schemas, []string{a.cfg.Roles.Anon, a.cfg.Roles.Authenticated})
}

func writeCoverage(a *app, rep *coverage.Report) {
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "OBJECT\tKIND\tRLS\tPOLICIES\tVERDICT\tDETAIL")
	for _, o := range rep.Objects {
		rls := "off"
		if o.RLSEnabled {
			rls = "on"
			if o.RLSForced {
				rls = "forced"
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\n", o.Display(), o.Kind, rls, len(o.Policies), o.Verdict, coverageDetail(o))
	}
	tw.Flush()
	var parts []string
	for _, v := range coverage.Verdicts {
		parts = append(parts, fmt.Sprintf("%d %s", rep.Totals[v], v))
	}
	fmt.Fprintf(a.stdout, "%d objects: %s; %.1f%% covered or deny-by-default\n", rep.Total, strings.Join(parts, ", "), rep.Percent)
}

func coverageDetail(o coverage.Object) string {
	var parts []string
	if len(o.Uncovered) > 0 {
		parts = append(parts, "no policy for: "+strings.Join(o.Uncovered, ", "))
	}
	parts = append(parts, o.Notes...)
	return strings.Join(parts, "; ")
}

type lintFlags struct {
	failOn        string
	rules         string
	ignoreFile    string
	withMatrix    bool
	baseline      string
	writeBaseline string
}

func (a *app) lintCmd() *cobra.Command {
	var f lintFlags
	cmd := &cobra.Command{
		Use:     "lint",
		Short:   "Find security, correctness and performance defects in the database",
		GroupID: "check",
		Long: `Runs dbtool's rule catalogue (` + fmt.Sprint(len(lint.Rules())) + ` rules, one SQL query each; list them with
--list) against the database: RLS and grants, SECURITY DEFINER functions,
views, policy recursion (confirmed by the live access matrix with --matrix),
self-escalation, secrets readable by API roles, run-time traps and
performance. Levels: error, warn, info; --fail-on LEVEL (default error) sets
the exit code.

Ignores need a reason: inline in the object's comment
("@dbtool-ignore <rule>: <reason>") or in lint-ignore.yaml:
  ignores:
    - {rule: multiple_permissive_policies, object: "public.*", reason: "one policy per audience, reviewed"}

Formats: text, json, markdown (pull request comment), junit, sarif (code
scanning). A legacy database adopts the gate with --write-baseline FILE once
(reviewed and committed), then --baseline FILE: only new findings count. Without a database URL the project is migrated onto a throwaway
database first.

` + exitHelp,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if list, _ := cmd.Flags().GetBool("list"); list {
				tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tNAME\tLEVEL\tCATEGORY\tTITLE")
				for _, r := range lint.Rules() {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.ID, r.Name, r.Level, r.Category, r.Title)
				}
				return tw.Flush()
			}
			switch a.format {
			case "text", "json", "markdown", "junit", "sarif":
			default:
				return usage(fmt.Errorf("unknown --format %q: want text, json, markdown, junit or sarif", a.format))
			}
			if lint.Rank(f.failOn) == 0 && f.failOn != "none" && f.failOn != "" {
				return usage(fmt.Errorf("unknown --fail-on %q: want error, warn, info or none", f.failOn))
			}
			return a.onDatabase(cmd, false, func(url string) error {
				res, err := a.lint(cmd.Context(), url, f, nil)
				if err != nil {
					return err
				}
				if f.writeBaseline != "" {
					out, err := os.Create(f.writeBaseline)
					if err != nil {
						return cannot(err)
					}
					werr := lint.WriteBaseline(out, res.Findings)
					if cerr := out.Close(); werr == nil {
						werr = cerr
					}
					if werr != nil {
						return cannot(werr)
					}
					a.logf("wrote %s: %d finding(s) accepted as the baseline; lint --baseline %s reports only new ones", f.writeBaseline, len(res.Findings), f.writeBaseline)
					return nil
				}
				if f.baseline != "" {
					b, err := lint.LoadBaseline(f.baseline)
					if err != nil {
						return usage(err)
					}
					var old int
					res.Findings, old = b.New(res.Findings)
					a.logf("baseline %s: %d finding(s) already there, %d new", f.baseline, old, len(res.Findings))
				}
				rules, _ := lint.Select(splitRules(f.rules))
				switch a.format {
				case "json":
					err = lint.WriteJSON(a.stdout, res)
				case "markdown":
					lint.WriteMarkdown(a.stdout, res)
				case "junit":
					err = lint.WriteJUnit(a.stdout, res, rules, a.failOn(f))
				case "sarif":
					err = lint.WriteSARIF(a.stdout, res, rules, Version, a.locator())
				default:
					lint.WriteText(a.stdout, res)
				}
				if err != nil {
					return cannot(err)
				}
				if lint.Exceeds(res.Findings, a.failOn(f)) {
					return silent(ExitProblems)
				}
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&f.failOn, "fail-on", "", "lowest level that exits 1: error, warn, info or none (default from dbtool.yaml lint.fail_on, else error)")
	cmd.Flags().StringVar(&f.rules, "rules", "", "comma-separated rule names or ids to run (default all)")
	cmd.Flags().StringVar(&f.ignoreFile, "ignore-file", "", "reviewed ignores (default lint-ignore.yaml when it exists)")
	cmd.Flags().BoolVar(&f.withMatrix, "matrix", false, "also probe the live access matrix to confirm policy recursion (rolled back)")
	cmd.Flags().Bool("list", false, "list the rules and exit")
	cmd.Flags().StringVar(&f.baseline, "baseline", "", "report only findings that are not in this baseline file (adopt the gate on a legacy database)")
	cmd.Flags().StringVar(&f.writeBaseline, "write-baseline", "", "write the current findings to this file as the baseline, and exit 0")
	cmd.Flags().StringVar(&a.format, "format", "text", "output format: text, json, markdown, junit or sarif")
	return cmd
}

func splitRules(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func (a *app) failOn(f lintFlags) string {
	if f.failOn != "" {
		return f.failOn
	}
	return a.cfg.Lint.FailOn
}

// lint runs the rules on url, with ignores and (optionally) the matrix.
func (a *app) lint(ctx context.Context, url string, f lintFlags, m *matrix.Matrix) (lint.Result, error) {
	opts := lint.Options{Schemas: a.cfg.Schemas, Roles: []string{a.cfg.Roles.Anon, a.cfg.Roles.Authenticated}, Rules: splitRules(f.rules), Matrix: m}
	if _, err := lint.Select(opts.Rules); err != nil {
		return lint.Result{}, usage(err)
	}
	ignoreFile := f.ignoreFile
	explicit := ignoreFile != ""
	if !explicit {
		ignoreFile = a.cfg.Lint.IgnoreFile
	}
	if ignoreFile != "" {
		if !filepath.IsAbs(ignoreFile) {
			ignoreFile = filepath.Join(a.cfg.Dir, ignoreFile)
		}
		ign, err := lint.LoadIgnores(ignoreFile)
		switch {
		case errors.Is(err, fs.ErrNotExist) && !explicit:
		case err != nil:
			return lint.Result{}, problems(err)
		default:
			opts.Ignores = ign
		}
	}
	if f.withMatrix && m == nil {
		var err error
		if opts.Matrix, err = matrix.Run(ctx, url, a.matrixOptions()); err != nil {
			return lint.Result{}, cannot(fmt.Errorf("access matrix: %w", err))
		}
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return lint.Result{}, cannot(err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	res, err := lint.Run(ctx, conn, opts)
	if err != nil {
		return res, cannot(err)
	}
	lint.SortFindings(res.Findings)
	return res, nil
}

// locator maps findings to the project file that defines the object, for
// SARIF: a table's policies file, a routine's procedures file.
func (a *app) locator() lint.Locator {
	return func(object, objectType string) string {
		name := object
		if i := strings.IndexByte(name, '('); i >= 0 {
			name = name[:i]
		}
		parts := strings.Split(name, ".")
		var cands []string
		switch objectType {
		case "function", "procedure":
			base := parts[len(parts)-1]
			cands = []string{filepath.Join(a.cfg.Procedures, base+".sql"), filepath.Join(a.cfg.Procedures, "private", base+".sql"), filepath.Join(a.cfg.Procedures, "triggers", base+".sql")}
		default:
			if len(parts) >= 2 {
				cands = []string{filepath.Join(a.cfg.Policies, parts[1]+".sql")}
			}
		}
		for _, c := range cands {
			if _, err := os.Stat(filepath.Join(a.cfg.Dir, c)); err == nil {
				return filepath.ToSlash(c)
			}
		}
		return ""
	}
}

func (a *app) reportCmd() *cobra.Command {
	var htmlFile string
	cmd := &cobra.Command{
		Use:     "report --html FILE",
		Short:   "Write one self-contained HTML page for a security reviewer",
		GroupID: "check",
		Long: `The page holds the live access matrix as a colour grid, the policy coverage and
the lint findings. Without a database URL the project is migrated onto a
throwaway database first.

` + exitHelp,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if htmlFile == "" {
				return usage(errors.New("--html FILE is required"))
			}
			return a.onDatabase(cmd, false, func(url string) error {
				d, err := a.reportData(cmd.Context(), url)
				if err != nil {
					return err
				}
				if err := writeReport(htmlFile, d); err != nil {
					return cannot(err)
				}
				a.logf("wrote %s", htmlFile)
				return failedSections(d)
			})
		},
	}
	cmd.Flags().StringVar(&htmlFile, "html", "", "the HTML file to write")
	return cmd
}

func writeReport(path string, d report.Data) error {
	out, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := report.Write(out, d); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// reportData gathers the page's sections. A section that fails (the
// matrix on a schema it cannot probe, a lint rule's query) is left out and
// named in d.Failed; the others are still written.
func (a *app) reportData(ctx context.Context, url string) (report.Data, error) {
	abs, _ := filepath.Abs(a.cfg.Dir)
	d := report.Data{Database: "project " + filepath.Base(abs) + ", schemas " + strings.Join(a.cfg.Schemas, ", "), Generated: time.Now()}
	fail := func(section string, err error) {
		if d.Failed == nil {
			d.Failed = map[string]string{}
		}
		d.Failed[section] = err.Error()
	}
	m, err := matrix.Run(ctx, url, a.matrixOptions())
	if err != nil {
		fail("access matrix", err)
		m = nil
	} else {
		d.Matrix = m
		if exp, err := a.readExpected(); err == nil {
			d.Expected = a.cfg.Matrix.Expected
			d.Changes = matrix.Diff(exp, m)
		}
	}
	if cov, err := a.coverage(ctx, url); err != nil {
		fail("policy coverage", err)
	} else {
		d.CoveragePct = cov.Percent
		for _, o := range cov.Objects {
			d.Coverage = append(d.Coverage, report.CoverageRow{Object: o.Display(), Kind: o.Kind, RLS: o.RLSEnabled, Verdict: o.Verdict, Detail: coverageDetail(o)})
		}
	}
	if res, err := a.lint(ctx, url, lintFlags{}, m); err != nil {
		fail("lint", err)
	} else {
		d.Ignored = len(res.Ignored)
		for _, f := range res.Ignored {
			d.IgnoredRows = append(d.IgnoredRows, report.IgnoredRow{Reason: f.Reason, Source: f.Source, FindingRow: report.FindingRow{
				Rule: f.Rule, Level: f.Level, Category: f.Category, Object: f.Key(), ObjectType: f.ObjectType, Detail: f.Detail}})
		}
		for _, f := range res.Findings {
			d.Findings = append(d.Findings, report.FindingRow{Rule: f.Rule, Level: f.Level, Category: f.Category, Object: f.Key(),
				ObjectType: f.ObjectType, Detail: f.Detail, Remediation: f.Remediation})
		}
	}
	return d, nil
}

// failedSections is the error for a page written without some sections.
func failedSections(d report.Data) error {
	if len(d.Failed) == 0 {
		return nil
	}
	var names []string
	for k, v := range d.Failed {
		names = append(names, k+": "+v)
	}
	sort.Strings(names)
	return cannot(fmt.Errorf("the page was written without %d section(s):\n  %s", len(d.Failed), strings.Join(names, "\n  ")))
}

// checkSchemas refuses exposed schemas the database does not have (a typo
// would otherwise read as "0 objects, 100%").
func (a *app) checkSchemas(ctx context.Context, url string) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return cannot(err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var missing []string
	if err := conn.QueryRow(ctx, `select coalesce(array_agg(s), '{}') from unnest($1::text[]) s
		where not exists (select 1 from pg_namespace n where n.nspname = s)`, a.cfg.Schemas).Scan(&missing); err != nil {
		return cannot(err)
	}
	if len(missing) > 0 {
		return usage(fmt.Errorf("schema %s does not exist in the database (exposed schemas come from --schemas, DBTOOL_SCHEMAS, "+
			"dbtool.yaml schemas: or supabase/config.toml [api] schemas)", strings.Join(missing, ", ")))
	}
	return nil
}
