// Package report renders dbtool's security review page: one self-contained
// HTML file (no external assets) that fits a 1400-pixel screen. It puts
// first what changed against the reviewed access matrix (policies/ACCESS.md),
// then a compact grid of the live access matrix (objects down, roles across,
// one letter per command) coloured by risk rather than by outcome, then the
// findings with their evidence, the ignored ones with their reasons, and the
// policy coverage.
package report

import (
	"embed"
	"fmt"
	"html/template"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/dbtool-dev/dbtool/internal/matrix"
)

//go:embed report.html.tmpl
var files embed.FS

var page = template.Must(template.New("report.html.tmpl").Funcs(template.FuncMap{
	"lower": strings.ToLower,
	"pct":   func(f float64) string { return fmt.Sprintf("%.1f%%", f) },
}).ParseFS(files, "report.html.tmpl"))

// CoverageRow is one object of the coverage report.
type CoverageRow struct {
	Object  string
	Kind    string
	RLS     bool
	Verdict string
	Detail  string
}

// FindingRow is one lint finding (the matrix judge's included: their
// Detail carries the confirming cell).
type FindingRow struct {
	Rule, Level, Category, Object, ObjectType, Detail, Remediation string
}

// IgnoredRow is a finding an ignore silenced, with the reviewed reason.
type IgnoredRow struct {
	FindingRow
	Reason, Source string
}

// Data is everything the page shows.
type Data struct {
	Title     string
	Database  string // a description of what was checked (never a URL with a password)
	Generated time.Time
	Matrix    *matrix.Matrix
	// Expected names the reviewed matrix file; Changes are the cells that
	// differ from it (nil when there is no such file).
	Expected    string
	Changes     []matrix.Difference
	Coverage    []CoverageRow
	CoveragePct float64
	Findings    []FindingRow
	IgnoredRows []IgnoredRow
	Ignored     int
	// Failed names the sections that could not be built, with why: the
	// page shows the others and says so.
	Failed map[string]string
}

// Risk classes of a grid cell, worst first.
const (
	riskHigh   = "risk-high"   // anon changes rows, or a judge error (a stranger reads or changes the owner's rows...)
	riskMedium = "risk-medium" // a judge warning, a defect cell (42P17, 23xxx on an allowed write)
	riskPublic = "risk-public" // public read by design
	riskOwn    = "risk-own"    // the role works on rows it may (owner, service_role, personas)
	riskNone   = "risk-none"   // denied or filtered everywhere
)

type gridRow struct {
	Object, Kind string
	Commands     string // the letters, in order
	Cells        []gridCell
}

type gridCell struct {
	Letters []letter
	Class   string
	Title   string
}

type letter struct {
	Char, Class string
}

type view struct {
	Data
	Roles    []string
	Grid     []gridRow
	Levels   map[string]int
	Verdicts map[string]int
	Risky    int
}

var commandLetter = map[string]string{"select": "S", "insert": "I", "update": "U", "delete": "D", "truncate": "T", "execute": "X"}

// letterFor: the command's letter as the outcome shows it. Upper case:
// rows seen or changed; lower case: allowed, 0 rows (filtered); "·":
// denied; "?": unknown; "!": an error.
func letterFor(c matrix.Cell) letter {
	l := commandLetter[c.Command]
	switch c.Outcome {
	case matrix.Rows:
		return letter{l, "on"}
	case matrix.Empty:
		return letter{strings.ToLower(l), "filtered"}
	case matrix.Denied:
		return letter{"·", "off"}
	case matrix.Unknown:
		return letter{"?", "unknown"}
	}
	if c.SQLState == "42P17" || strings.HasPrefix(c.SQLState, "23") && (c.Command == "insert" || c.Command == "update") {
		return letter{"!", "defect"}
	}
	return letter{"!", "failed"}
}

func rank(class string) int {
	switch class {
	case riskHigh:
		return 5
	case riskMedium:
		return 4
	case riskPublic:
		return 3
	case riskOwn:
		return 2
	}
	return 1
}

// Write renders the page.
func Write(w io.Writer, d Data) error {
	v := view{Data: d, Levels: map[string]int{}, Verdicts: map[string]int{}}
	if v.Title == "" {
		v.Title = "dbtool security review"
	}
	if d.Matrix != nil {
		v.Roles = d.Matrix.Roles
		v.Grid = grid(d.Matrix)
		for _, r := range v.Grid {
			for _, c := range r.Cells {
				if c.Class == riskHigh {
					v.Risky++
				}
			}
		}
	}
	order := map[string]int{"error": 0, "warn": 1, "info": 2}
	sort.SliceStable(v.Findings, func(i, j int) bool {
		if order[v.Findings[i].Level] != order[v.Findings[j].Level] {
			return order[v.Findings[i].Level] < order[v.Findings[j].Level]
		}
		return v.Findings[i].Rule+v.Findings[i].Object < v.Findings[j].Rule+v.Findings[j].Object
	})
	for _, f := range v.Findings {
		v.Levels[f.Level]++
	}
	for _, c := range v.Coverage {
		v.Verdicts[c.Verdict]++
	}
	if v.Ignored == 0 {
		v.Ignored = len(v.IgnoredRows)
	}
	return page.Execute(w, v)
}

// grid folds the matrix into one row per object and one cell per role,
// each holding a letter per command, coloured by the worst risk.
func grid(m *matrix.Matrix) []gridRow {
	cells := append([]matrix.Cell(nil), m.Cells...)
	matrix.SortCells(cells, m.Roles)
	idx := map[string]int{}
	for i, r := range m.Roles {
		idx[r] = i
	}
	risk := map[string]string{} // object + role -> class from the judge
	for _, j := range m.Judgements {
		k := j.Display() + " " + j.Role
		c := riskPublic
		switch j.Level {
		case "error":
			c = riskHigh
		case "warn":
			c = riskMedium
		}
		if rank(c) > rank(risk[k]) {
			risk[k] = c
		}
	}
	var rows []gridRow
	for _, c := range cells {
		obj := c.Schema + "." + c.Object
		if n := len(rows); n == 0 || rows[n-1].Object != obj {
			rows = append(rows, gridRow{Object: obj, Kind: c.Kind, Cells: make([]gridCell, len(m.Roles))})
		}
		row := &rows[len(rows)-1]
		if !strings.Contains(row.Commands, commandLetter[c.Command]) {
			row.Commands += commandLetter[c.Command]
		}
		gc := &row.Cells[idx[c.Role]]
		l := letterFor(c)
		gc.Letters = append(gc.Letters, l)
		title := c.Command + ": " + c.Label()
		if c.Message != "" {
			title += " (" + c.Message + ")"
		}
		if gc.Title != "" {
			gc.Title += "\n"
		}
		gc.Title += title
		class := riskNone
		switch {
		case c.Role == "anon" && l.Class == "on" && c.Command != "select" && c.Command != "truncate" && c.Command != "execute":
			class = riskHigh
		case l.Class == "defect":
			class = riskMedium
		case l.Class == "on" && c.Command == "select" && (c.Role == "anon" || c.Role == "stranger"):
			class = riskPublic // unless the judge says otherwise below
		case l.Class == "on":
			class = riskOwn
		}
		if j := risk[obj+" "+c.Role]; rank(j) > rank(class) {
			class = j
		}
		if rank(class) > rank(gc.Class) {
			gc.Class = class
		}
	}
	return rows
}
