// Package report renders dbtool's security review page: one self-contained
// HTML file (no external assets) with the live access matrix as a colour
// grid, policy coverage and lint findings.
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

// FindingRow is one lint finding.
type FindingRow struct {
	Rule, Level, Category, Object, ObjectType, Detail, Remediation string
}

// Data is everything the page shows.
type Data struct {
	Title       string
	Database    string // a description of what was checked (never a URL with a password)
	Generated   time.Time
	Matrix      *matrix.Matrix
	Coverage    []CoverageRow
	CoveragePct float64
	Findings    []FindingRow
	Ignored     int
}

type gridRow struct {
	Object, Kind, Command string
	Cells                 []gridCell
}

type gridCell struct {
	Label, Class, Title string
}

type view struct {
	Data
	Roles    []string
	Grid     []gridRow
	Levels   map[string]int
	Verdicts map[string]int
}

// cellClass picks a colour for a matrix outcome.
func cellClass(c matrix.Cell) string {
	switch c.Outcome {
	case matrix.Denied:
		return "denied"
	case matrix.Empty:
		return "empty"
	case matrix.Rows:
		return "rows"
	case matrix.Unknown:
		return "unknown"
	}
	if c.SQLState == "42P17" || strings.HasPrefix(c.SQLState, "23") && (c.Command == "insert" || c.Command == "update") {
		return "defect"
	}
	return "error"
}

// Write renders the page.
func Write(w io.Writer, d Data) error {
	v := view{Data: d, Levels: map[string]int{}, Verdicts: map[string]int{}}
	if v.Title == "" {
		v.Title = "dbtool security review"
	}
	if d.Matrix != nil {
		v.Roles = d.Matrix.Roles
		cells := append([]matrix.Cell(nil), d.Matrix.Cells...)
		matrix.SortCells(cells, d.Matrix.Roles)
		idx := map[string]int{}
		for i, r := range v.Roles {
			idx[r] = i
		}
		for _, c := range cells {
			obj := c.Schema + "." + c.Object
			if n := len(v.Grid); n == 0 || v.Grid[n-1].Object != obj || v.Grid[n-1].Command != c.Command {
				v.Grid = append(v.Grid, gridRow{Object: obj, Kind: c.Kind, Command: c.Command, Cells: make([]gridCell, len(v.Roles))})
			}
			title := c.Label()
			if c.Message != "" {
				title += ": " + c.Message
			}
			v.Grid[len(v.Grid)-1].Cells[idx[c.Role]] = gridCell{Label: c.Label(), Class: cellClass(c), Title: title}
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
	return page.Execute(w, v)
}
