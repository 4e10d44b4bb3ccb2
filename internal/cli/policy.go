package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/dbtool-dev/dbtool/internal/matrix"
)

func (a *app) policyCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "policy",
		Short:   "Prove what each role can do: the live access matrix",
		GroupID: "check",
		Args:    cobra.ArbitraryArgs,
		RunE:    unknownSubcommand,
	}
	cmd.AddCommand(a.policyMatrixCmd(), a.policyCoverageCmd())
	return cmd
}

type matrixFlags struct {
	check, update, migrate bool
}

func (a *app) policyMatrixCmd() *cobra.Command {
	var f matrixFlags
	cmd := &cobra.Command{
		Use:   "matrix",
		Short: "Probe every table, view and function as each role and print what happened",
		Long: `For every table and view of the exposed schemas, each role (anon, stranger: a
signed-in user owning nothing, owner: the signed-in user owning the seeded
rows, service_role, plus personas declared in dbtool.yaml) and each command
(select, insert, update, delete, truncate), and for every function and role
(execute), dbtool tries the operation inside a savepoint that is rolled back
and classifies the outcome: rows N, empty (filtered by RLS), denied (42501),
error SQLSTATE, unknown (no valid row could be built). One row per table is
seeded first; nothing is ever committed.

Without a database URL, the project is migrated onto a throwaway database
first. With one, the database is probed as it is (add --migrate to migrate it).

--check compares with the reviewed file (policies/ACCESS.md) and exits 1 with
a readable diff; --update rewrites it. Recursion in a policy (42P17) and
integrity errors on writes that privileges allowed are always reported and
fail --check.

` + exitHelp,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.check && f.update {
				return usage(errors.New("--check and --update exclude each other"))
			}
			return a.onDatabase(cmd, f.migrate, func(url string) error {
				return a.runMatrix(cmd, url, f)
			})
		},
	}
	cmd.Flags().BoolVar(&f.check, "check", false, "compare with the expected file; exit 1 with a diff when they differ")
	cmd.Flags().BoolVar(&f.update, "update", false, "rewrite the expected file from the live database")
	cmd.Flags().BoolVar(&f.migrate, "migrate", false, "migrate the database at --database-url before probing")
	a.addFormatFlag(cmd)
	return cmd
}

func (a *app) matrixOptions() matrix.Options {
	opts := matrix.Options{Schemas: a.cfg.Schemas, SkipFunctions: a.cfg.Matrix.SkipFunctions, CallExternal: a.cfg.Matrix.CallExternal}
	for _, p := range a.cfg.Matrix.Personas {
		opts.Personas = append(opts.Personas, matrix.Persona{Name: p.Name, Role: p.Role, Claims: p.Claims, Setup: p.Setup, Metadata: p.Metadata})
	}
	return opts
}

func (a *app) expectedPath() string {
	p := a.cfg.Matrix.Expected
	if !filepath.IsAbs(p) {
		p = filepath.Join(a.cfg.Dir, p)
	}
	return p
}

func (a *app) runMatrix(cmd *cobra.Command, url string, f matrixFlags) error {
	m, err := matrix.Run(cmd.Context(), url, a.matrixOptions())
	if err != nil {
		return cannot(fmt.Errorf("access matrix: %w", err))
	}
	a.logf("access matrix: %d cells in %s (%.0f cells/s)", len(m.Cells), m.Duration.Round(time.Millisecond), float64(len(m.Cells))/m.Duration.Seconds())
	if len(m.Unseeded) > 0 {
		a.logf("no valid seed row could be built for %d relation(s); their cells may read empty or unknown:", len(m.Unseeded))
		for _, r := range m.Unseeded {
			a.logf("  %s: %s", r, m.UnseededWhy[r])
		}
	}
	switch {
	case f.update:
		var buf bytes.Buffer
		matrix.WriteMarkdown(&buf, m)
		if err := os.MkdirAll(filepath.Dir(a.expectedPath()), 0o755); err != nil {
			return cannot(err)
		}
		if err := os.WriteFile(a.expectedPath(), buf.Bytes(), 0o644); err != nil {
			return cannot(err)
		}
		a.logf("wrote %s", a.expectedPath())
	case a.format == "json":
		// JSON only on stdout: the cells, the defect cells, the judge's
		// findings and what could not be seeded, in one object.
		matrix.SortCells(m.Cells, m.Roles)
		out := struct {
			*matrix.Matrix
			Findings    []matrix.Cell       `json:"findings"`
			Differences []matrix.Difference `json:"differences,omitempty"`
		}{Matrix: m, Findings: append([]matrix.Cell{}, m.Findings()...)}
		if f.check {
			exp, err := a.readExpected()
			if err != nil {
				return err
			}
			out.Differences = matrix.Diff(exp, m)
		}
		if err := a.printJSON(out); err != nil {
			return err
		}
		if f.check && (len(out.Differences) > 0 || len(out.Findings) > 0 || matrix.JudgedErrors(m) > 0) {
			return silent(ExitProblems)
		}
		return nil
	default:
		if !f.check {
			matrix.WriteTable(a.stdout, m)
		}
	}
	findings := m.Findings()
	for _, c := range findings {
		fmt.Fprintf(a.stdout, "finding: %s.%s %s as %s: %s %s\n", c.Schema, c.Object, c.Command, c.Role, c.SQLState, c.Message)
	}
	writeJudgements(a, m)
	if f.check {
		return a.checkMatrix(m, findings)
	}
	return nil
}

// writeJudgements prints the judge's findings, errors first (info ones only
// with their count: "public read" tables are by design).
func writeJudgements(a *app, m *matrix.Matrix) {
	infos := 0
	for _, j := range m.Judgements {
		if j.Level == "info" {
			infos++
			continue
		}
		fmt.Fprintln(a.stdout, "judge: "+j.String())
		if j.Probe != "" {
			fmt.Fprintln(a.stdout, "       probe: "+j.Probe)
		}
	}
	if infos > 0 {
		a.logf("judge: %d info (public read by design; see --format json)", infos)
	}
}

func (a *app) readExpected() (*matrix.Expected, error) {
	file, err := os.Open(a.expectedPath())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, problems(fmt.Errorf("%s does not exist: review `dbtool policy matrix` and write it with --update", a.expectedPath()))
	}
	if err != nil {
		return nil, cannot(err)
	}
	defer file.Close()
	exp, err := matrix.ParseMarkdown(file)
	if err != nil {
		return nil, problems(fmt.Errorf("%s: %w", a.expectedPath(), err))
	}
	return exp, nil
}

// checkMatrix compares m with the expected file; error-level judgements
// fail it too (they need no expected file).
func (a *app) checkMatrix(m *matrix.Matrix, findings []matrix.Cell) error {
	exp, err := a.readExpected()
	if err != nil {
		return err
	}
	diff := matrix.Diff(exp, m)
	// Real leaks first: a cell that now lets anon or a stranger see or
	// change rows it did not; then everything else that changed.
	var leaks, rest []matrix.Difference
	for _, d := range diff {
		if (d.Role == "anon" || d.Role == "stranger") && strings.HasPrefix(d.Live, "rows") && !strings.HasPrefix(d.Expected, "rows") {
			leaks = append(leaks, d)
		} else {
			rest = append(rest, d)
		}
	}
	if len(leaks) > 0 {
		fmt.Fprintf(a.stdout, "access opened for anon or a stranger (%d):\n", len(leaks))
		for _, d := range leaks {
			fmt.Fprintln(a.stdout, "  "+d.String())
		}
		if len(rest) > 0 {
			fmt.Fprintf(a.stdout, "other changes (%d):\n", len(rest))
		}
	}
	for _, d := range rest {
		fmt.Fprintln(a.stdout, d.String())
	}
	judged := matrix.JudgedErrors(m)
	if len(diff) > 0 || len(findings) > 0 || judged > 0 {
		return problems(fmt.Errorf("the live access matrix differs from %s in %d cell(s), %d finding(s), %d error(s) of the judge; "+
			"if the change is intended, run dbtool policy matrix --update and review the diff", a.expectedPath(), len(diff), len(findings), judged))
	}
	fmt.Fprintf(a.stdout, "access matrix matches %s (%d cells)\n", a.expectedPath(), len(m.Cells))
	return nil
}
