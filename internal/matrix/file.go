package matrix

import (
	"bufio"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
)

// ExpectedFile is where a project keeps its reviewed matrix.
const ExpectedFile = "policies/ACCESS.md"

const fileHeader = `# Access matrix

<!-- Written by ` + "`dbtool policy matrix --update`" + `; checked in CI by ` + "`dbtool policy matrix --check`" + `.
     Review every change to this file: it is what each role can do. -->

Every table and view of the exposed schemas, probed live as each role inside a
transaction that is rolled back (one seeded row per table, owned by "owner").

Roles: %s.

Outcomes: ` + "`rows N`" + ` rows seen or changed; ` + "`empty`" + ` filtered by RLS (0 rows);
` + "`denied`" + ` 42501 (no privilege, or WITH CHECK failed); ` + "`error SQLSTATE`" + ` the statement
failed with that SQLSTATE (42P17 and 23xxx on an allowed write are defects); ` + "`unknown`" + `
no valid row could be built. Functions are called with NULL arguments.

`

var roleNotes = map[string]string{
	"anon":         "anon (no sign-in)",
	"stranger":     "stranger (signed in, owns nothing)",
	"owner":        "owner (signed in, owns the seeded rows)",
	"service_role": "service_role (server key, bypasses RLS)",
}

// WriteMarkdown writes m as the expected file.
func WriteMarkdown(w io.Writer, m *Matrix) error {
	var notes []string
	for _, r := range m.Roles {
		if n, ok := roleNotes[r]; ok {
			notes = append(notes, n)
		} else {
			notes = append(notes, r+" (declared persona)")
		}
	}
	fmt.Fprintf(w, fileHeader, strings.Join(notes, ", "))
	fmt.Fprintf(w, "| object | kind | command | %s |\n", strings.Join(m.Roles, " | "))
	fmt.Fprintf(w, "|---|---|---|%s\n", strings.Repeat("---|", len(m.Roles)))
	for _, row := range rowsOf(m) {
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", row.object, row.kind, row.command, strings.Join(row.labels, " | "))
	}
	return nil
}

type row struct {
	object, kind, command string
	labels                []string
}

func rowsOf(m *Matrix) []row {
	cells := append([]Cell(nil), m.Cells...)
	SortCells(cells, m.Roles)
	roleIdx := map[string]int{}
	for i, r := range m.Roles {
		roleIdx[r] = i
	}
	var out []row
	for _, c := range cells {
		obj := c.Schema + "." + c.Object
		if len(out) == 0 || out[len(out)-1].object != obj || out[len(out)-1].command != c.Command {
			out = append(out, row{object: obj, kind: c.Kind, command: c.Command, labels: make([]string, len(m.Roles))})
		}
		out[len(out)-1].labels[roleIdx[c.Role]] = c.Label()
	}
	return out
}

// WriteTable writes m as an aligned table for a terminal.
func WriteTable(w io.Writer, m *Matrix) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "OBJECT\tKIND\tCOMMAND\t%s\n", strings.ToUpper(strings.Join(m.Roles, "\t")))
	for _, r := range rowsOf(m) {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.object, r.kind, r.command, strings.Join(r.labels, "\t"))
	}
	tw.Flush()
}

// Expected is a parsed expected file: "schema.object command" -> role -> label.
type Expected struct {
	Roles []string
	Cells map[string]map[string]string
}

// ParseMarkdown reads an expected file written by WriteMarkdown (reviewers
// may edit labels by hand; layout outside the table is ignored).
func ParseMarkdown(r io.Reader) (*Expected, error) {
	e := &Expected{Cells: map[string]map[string]string{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	line := 0
	for sc.Scan() {
		line++
		t := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(t, "|") {
			continue
		}
		parts := strings.Split(strings.Trim(t, "|"), "|")
		for i := range parts {
			parts[i] = strings.TrimSpace(parts[i])
		}
		if len(parts) < 4 {
			return nil, fmt.Errorf("line %d: a table row needs object, kind, command and one column per role", line)
		}
		if parts[0] == "object" {
			e.Roles = parts[3:]
			continue
		}
		if strings.HasPrefix(parts[0], "---") {
			continue
		}
		if e.Roles == nil {
			return nil, fmt.Errorf("line %d: row before the header row", line)
		}
		if len(parts)-3 != len(e.Roles) {
			return nil, fmt.Errorf("line %d: %d role columns, the header has %d", line, len(parts)-3, len(e.Roles))
		}
		key := parts[0] + " " + parts[2]
		e.Cells[key] = map[string]string{}
		for i, role := range e.Roles {
			e.Cells[key][role] = parts[3+i]
		}
	}
	return e, sc.Err()
}

// Difference is one cell where the live database and the expected file
// disagree.
type Difference struct {
	Object, Command, Role string
	Expected, Live        string // "" when absent on that side
}

func (d Difference) String() string {
	switch {
	case d.Expected == "":
		return fmt.Sprintf("+ %s %s %s: %s (not in the expected file)", d.Object, d.Command, d.Role, d.Live)
	case d.Live == "":
		return fmt.Sprintf("- %s %s %s: expected %s, no longer in the database", d.Object, d.Command, d.Role, d.Expected)
	}
	return fmt.Sprintf("~ %s %s %s: expected %s, live %s", d.Object, d.Command, d.Role, d.Expected, d.Live)
}

// Diff compares the live matrix with the expected one.
func Diff(exp *Expected, m *Matrix) []Difference {
	var out []Difference
	live := map[string]map[string]string{}
	for _, c := range m.Cells {
		k := c.Key()
		if live[k] == nil {
			live[k] = map[string]string{}
		}
		live[k][c.Role] = c.Label()
	}
	keys := map[string]bool{}
	for k := range live {
		keys[k] = true
	}
	for k := range exp.Cells {
		keys[k] = true
	}
	sorted := make([]string, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)
	roles := append([]string(nil), m.Roles...)
	for _, r := range exp.Roles {
		if !contains(roles, r) {
			roles = append(roles, r)
		}
	}
	for _, k := range sorted {
		obj, cmd, _ := strings.Cut(k, " ")
		for _, r := range roles {
			e, l := exp.Cells[k][r], live[k][r]
			if e != l {
				out = append(out, Difference{Object: obj, Command: cmd, Role: r, Expected: e, Live: l})
			}
		}
	}
	return out
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}
