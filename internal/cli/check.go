package cli

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dbtool-dev/dbtool/internal/coverage"
	"github.com/dbtool-dev/dbtool/internal/lint"
	"github.com/dbtool-dev/dbtool/internal/matrix"
	"github.com/dbtool-dev/dbtool/internal/migrate"
	"github.com/dbtool-dev/dbtool/internal/pgtest"
)

// gate is one step of dbtool check.
type gate struct {
	name   string
	ok     bool
	detail string
}

func (a *app) checkCmd() *cobra.Command {
	var htmlFile, base, failOn string
	cmd := &cobra.Command{
		Use:     "check",
		Short:   "The CI gate: migrate a fresh database, verify, coverage, lint, access matrix",
		GroupID: "check",
		Long: `Creates a fresh database (on a throwaway server, or on the server of
--database-url, dropped afterwards), then:
  1. migrate up        every migration, procedure and policy applies
  2. migrate verify    applied history matches the files, no drift
  3. coverage          100% of exposed objects classified, none exposed without RLS
  4. lint              no finding at --fail-on level (default error) after reviewed ignores
  5. policy matrix     the live access matrix matches policies/ACCESS.md, no defect cells
  6. migrate plan      with --base REF: no error-level finding in what the files
                       changed since REF lock, rewrite, open or break (dbtool migrate plan)
Every gate runs and is reported; the exit code is 1 when any fails.
--html FILE also writes the security review page.

` + exitHelp,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := a.countFiles()
			if err != nil {
				return err
			}
			if n == 0 {
				return a.nothingToCheck()
			}
			if failOn != "" {
				if lint.Rank(failOn) == 0 {
					return usage(fmt.Errorf("--fail-on %q: want error, warn or info", failOn))
				}
				a.cfg.Lint.FailOn = failOn
			}
			return a.withDatabase(cmd.Context(), func(serverURL string) error {
				return a.runCheck(cmd.Context(), serverURL, htmlFile, base)
			})
		},
	}
	cmd.Flags().StringVar(&htmlFile, "html", "", "also write the HTML security review page to FILE")
	cmd.Flags().StringVar(&failOn, "fail-on", "", "lowest lint level that fails the lint gate: error, warn or info (default error, or lint.fail_on in dbtool.yaml)")
	cmd.Flags().StringVar(&base, "base", "", "also plan the changes since git ref REF (e.g. origin/main): dbtool migrate plan --base REF")
	return cmd
}

func (a *app) runCheck(ctx context.Context, serverURL, htmlFile, base string) error {
	// On dbtool's own server the project goes into the database postgres,
	// as on Supabase (pg_cron's jobs can live there only); on a server of
	// yours, into a fresh database dropped afterwards.
	url := serverURL
	if !a.throwaway {
		name := pgtest.RandomName("dbtool_check_")
		if err := pgtest.AdminExec(ctx, serverURL, "create database "+name+" template template0"); err != nil {
			return cannot(fmt.Errorf("create a fresh database (the role needs CREATEDB): %w", err))
		}
		defer pgtest.AdminExec(context.WithoutCancel(ctx), serverURL, "drop database if exists "+name+" with (force)")
		url = pgtest.WithDatabase(serverURL, name)
	}
	var gates []gate

	r, err := a.runner(url, &migrateFlags{})
	if err != nil {
		return usage(err)
	}
	r.Quiet()
	up, err := r.Up(ctx)
	if err != nil {
		if me := a.migErr(err); isCannot(me) {
			return me
		}
		gates = append(gates, gate{"migrate up", false, err.Error()})
		return a.finishCheck(gates)
	}
	gates = append(gates, gate{"migrate up", true, fmt.Sprintf("%d migrations, %d repeatable files in %s", len(up.Migrations), len(up.Repeatables), up.Duration.Round(1e6))})

	v, err := r.Verify(ctx)
	if err != nil {
		return a.migErr(err)
	}
	g := gate{name: "migrate verify", ok: v.OK(), detail: "history matches the files, no drift"}
	if !v.OK() {
		var ps []string
		for _, p := range v.Problems {
			ps = append(ps, p.String())
		}
		g.detail = strings.Join(ps, "\n")
	}
	gates = append(gates, g)

	cov, err := a.coverage(ctx, url)
	if err != nil {
		return cannot(err)
	}
	g = gate{name: "coverage", ok: cov.Percent >= 100 && cov.Totals[coverage.ExposedWithoutRLS] == 0,
		detail: fmt.Sprintf("%d objects, %.1f%% covered or deny-by-default", cov.Total, cov.Percent)}
	if !g.ok {
		var bad []string
		for _, o := range cov.Objects {
			if o.Verdict != coverage.Covered && o.Verdict != coverage.DenyByDefault {
				bad = append(bad, fmt.Sprintf("%s: %s %s", o.Display(), o.Verdict, coverageDetail(o)))
			}
		}
		g.detail += "\n" + strings.Join(bad, "\n")
	}
	gates = append(gates, g)

	m, err := matrix.Run(ctx, url, a.matrixOptions())
	if err != nil {
		return cannot(fmt.Errorf("access matrix: %w", err))
	}
	res, err := a.lint(ctx, url, lintFlags{}, m)
	if err != nil {
		return err
	}
	failOn := a.cfg.Lint.FailOn
	g = gate{name: "lint", ok: !lint.Exceeds(res.Findings, failOn)}
	counts := map[string]int{}
	for _, f := range res.Findings {
		counts[f.Level]++
	}
	g.detail = fmt.Sprintf("%d error, %d warn, %d info, %d ignored with a reason (fails on %s)", counts["error"], counts["warn"], counts["info"], len(res.Ignored), failOn)
	if !g.ok {
		var fs []string
		for _, f := range res.Findings {
			if lint.Rank(f.Level) >= lint.Rank(failOn) {
				fs = append(fs, fmt.Sprintf("%s %s %s: %s", f.Level, f.Rule, f.Key(), f.Detail))
			}
		}
		g.detail += "\n" + strings.Join(fs, "\n")
	}
	gates = append(gates, g)

	var out strings.Builder
	saved := a.stdout
	a.stdout = &out
	merr := a.checkMatrix(m, m.Findings())
	a.stdout = saved
	g = gate{name: "policy matrix", ok: merr == nil, detail: fmt.Sprintf("%d cells match %s", len(m.Cells), a.cfg.Matrix.Expected)}
	if merr != nil {
		g.detail = strings.TrimSpace(out.String()) + "\n" + merr.Error()
	}
	gates = append(gates, g)

	if base != "" {
		g, err := a.planGate(ctx, serverURL, base)
		if err != nil {
			return err
		}
		gates = append(gates, g)
	}

	if htmlFile != "" {
		d, err := a.reportData(ctx, url)
		if err != nil {
			return err
		}
		if err := writeReport(htmlFile, d); err != nil {
			return cannot(err)
		}
		if err := failedSections(d); err != nil {
			a.logf("warning: %v", err)
		}
		a.logf("wrote %s", htmlFile)
	}
	return a.finishCheck(gates)
}

func isCannot(err error) bool {
	ee, ok := err.(*exitError)
	return ok && ee.code == ExitCannot
}

func (a *app) finishCheck(gates []gate) error {
	failed := 0
	for _, g := range gates {
		mark := "PASS"
		if !g.ok {
			mark = "FAIL"
			failed++
		}
		lines := strings.Split(g.detail, "\n")
		fmt.Fprintf(a.stdout, "%s  %-15s %s\n", mark, g.name, lines[0])
		for _, l := range lines[1:] {
			fmt.Fprintf(a.stdout, "      %s\n", l)
		}
	}
	if failed > 0 {
		fmt.Fprintf(a.stdout, "check failed: %d of %d gates\n", failed, len(gates))
		return silent(ExitProblems)
	}
	fmt.Fprintf(a.stdout, "check passed: %d gates\n", len(gates))
	return nil
}

// nothingToCheck refuses to pass the gate on a folder without a single
// migration or repeatable file: every gate would pass on nothing (a wrong
// --dir, or migrations kept somewhere dbtool does not look).
func (a *app) nothingToCheck() error {
	where := filepath.Join(a.cfg.Dir, a.cfg.Migrations) + ", procedures/ and policies/ (dbtool layout), and " +
		filepath.Join(a.cfg.Dir, "supabase", "migrations") + " (Supabase CLI layout)"
	if a.project().Layout == migrate.LayoutSupabase {
		where = filepath.Join(a.cfg.Dir, a.cfg.Migrations) + " (Supabase CLI layout)"
	}
	return usage(fmt.Errorf("nothing to check in %s: no migration or repeatable file; dbtool looks in %s (set --dir to the project's root)", a.cfg.Dir, where))
}
