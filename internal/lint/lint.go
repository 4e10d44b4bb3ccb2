// Package lint checks a database's catalog for security, correctness and
// performance defects of database-first PostgreSQL/Supabase projects: tables
// exposed without row level security, SECURITY DEFINER functions open to
// anyone, views that bypass RLS, recursive or escalating policies, run-time
// traps and missing indexes.
//
// The rules follow supabase/splinter: each rule is one embedded SQL file
// rules/NNNN_rule_name.sql with a header (id, name, level, category, title,
// description, remediation) and a query returning the same three columns
// for every rule: object, object_type and detail. The query receives $1, the
// exposed schemas (text[]), and $2, the API roles (text[]). Each rule has its
// documentation next to it (rules/NNNN_rule_name.md). Numbers are never
// reused.
//
// Findings can be ignored inline, with "@dbtool-ignore rule_name: reason" in
// the object's COMMENT ON, or with a file of ignores (LoadIgnores). A reason
// is mandatory: an inline ignore without one is itself a finding
// (ignore_without_reason), and a file entry without one does not load.
package lint

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"

	"github.com/dbtool-dev/dbtool/internal/matrix"
)

// Levels, from the least to the most severe.
const (
	Info  = "info"
	Warn  = "warn"
	Error = "error"
)

// Categories of rules.
const (
	Security    = "security"
	Performance = "performance"
	Correctness = "correctness"
)

// Object types a finding can be about.
var ObjectTypes = []string{
	"table", "partitioned table", "view", "materialized view", "function", "policy",
	"column", "constraint", "index", "schema", "trigger", "database", "role",
}

// DefaultSchemas and DefaultRoles are used when Options leaves them empty.
var (
	DefaultSchemas = []string{"public"}
	DefaultRoles   = []string{"anon", "authenticated"}
)

// Rule is one rule of the catalogue.
type Rule struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Level       string `json:"level"`
	Category    string `json:"category"`
	Title       string `json:"title"`
	Description string `json:"description"`
	Remediation string `json:"remediation"`
	// Requires names an extension the rule needs; without it the rule is
	// skipped silently. Its schema replaces @extschema@ in the query.
	Requires string `json:"requires,omitempty"`
	// Analyzer names a Go analyzer (analyzers.go) that reads PostgreSQL's
	// parse tree of the query's fourth column (input) and keeps, drops or
	// rewrites each candidate row. Empty: the query's rows are findings.
	Analyzer string `json:"analyzer,omitempty"`
	SQL      string `json:"-"`
	Doc      string `json:"-"` // the rule's markdown documentation
}

// Finding is one defect found by a rule.
type Finding struct {
	Rule        string `json:"rule"` // the rule's name
	ID          string `json:"id"`
	Level       string `json:"level"`
	Category    string `json:"category"`
	Title       string `json:"title"`
	Object      string `json:"object"`              // schema-qualified name: public.notes, public.fn, public.notes.policy_name
	Signature   string `json:"signature,omitempty"` // a routine's argument types ("integer, text"); Object is its name
	ObjectType  string `json:"object_type"`
	Detail      string `json:"detail"`
	Remediation string `json:"remediation"`
}

// Key is the object as people write it: a routine with its argument types
// (public.fn(integer, text)), anything else its name. Ignores, baselines
// and the human outputs use it.
func (f Finding) Key() string {
	if f.ObjectType == "function" {
		return f.Object + "(" + f.Signature + ")"
	}
	return f.Object
}

// splitSignature moves a routine's argument types out of Object.
func splitSignature(f *Finding) {
	if f.ObjectType != "function" || f.Signature != "" {
		return
	}
	if i := strings.Index(f.Object, "("); i > 0 && strings.HasSuffix(f.Object, ")") {
		f.Object, f.Signature = f.Object[:i], f.Object[i+1:len(f.Object)-1]
	}
}

// IgnoredFinding is a finding an ignore matched, with the ignore's reason
// and where the ignore was declared ("comment on public.notes" or "file").
type IgnoredFinding struct {
	Finding
	Reason string `json:"reason"`
	Source string `json:"source"`
}

// Result is what Run found: the findings that count, and the ignored ones.
type Result struct {
	Findings []Finding        `json:"findings"`
	Ignored  []IgnoredFinding `json:"ignored"`
}

// Options configure Run.
type Options struct {
	// Schemas the API exposes (PostgREST's db-schemas); default public.
	Schemas []string
	// Roles the API acts as for untrusted callers; default anon and
	// authenticated. Roles that do not exist are left out.
	Roles []string
	// Rules to run, by name or id; empty runs every rule.
	Rules []string
	// Ignores from a file (see LoadIgnores); inline ignores are always read
	// from the database's comments.
	Ignores []Ignore
	// Matrix, when given, is a live access matrix of the same database:
	// its 42P17 cells confirm policy_recursion findings, and a 42P17 cell
	// the static rule missed is reported too.
	Matrix *matrix.Matrix
}

// DB is what Run needs: a *pgx.Conn, a pgx.Tx or a *pgxpool.Pool. Run works
// in a transaction (or savepoint) of its own and changes nothing.
type DB interface {
	Begin(ctx context.Context) (pgx.Tx, error)
}

//go:embed rules/*.sql rules/*.md
var ruleFiles embed.FS

var (
	rulesOnce sync.Once
	rules     []Rule
	rulesErr  error
)

// Rules returns the catalogue, ordered by id.
func Rules() []Rule {
	rulesOnce.Do(func() { rules, rulesErr = loadRules(ruleFiles) })
	if rulesErr != nil {
		// The catalogue is embedded: a malformed file is a build defect,
		// caught by the package's tests.
		panic(rulesErr)
	}
	return append([]Rule(nil), rules...)
}

var fileName = regexp.MustCompile(`^(\d{4})_([a-z0-9_]+)\.sql$`)

func loadRules(fsys fs.FS) ([]Rule, error) {
	entries, err := fs.ReadDir(fsys, "rules")
	if err != nil {
		return nil, err
	}
	var out []Rule
	ids, names := map[string]bool{}, map[string]bool{}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		m := fileName.FindStringSubmatch(e.Name())
		if m == nil {
			return nil, fmt.Errorf("lint: rule file %s: want NNNN_rule_name.sql", e.Name())
		}
		b, err := fs.ReadFile(fsys, "rules/"+e.Name())
		if err != nil {
			return nil, err
		}
		r, err := parseRule(string(b))
		if err != nil {
			return nil, fmt.Errorf("lint: rule file %s: %w", e.Name(), err)
		}
		if r.ID != m[1] || r.Name != m[2] {
			return nil, fmt.Errorf("lint: rule file %s declares %s %s", e.Name(), r.ID, r.Name)
		}
		if ids[r.ID] || names[r.Name] {
			return nil, fmt.Errorf("lint: rule %s %s declared twice", r.ID, r.Name)
		}
		ids[r.ID], names[r.Name] = true, true
		doc, err := fs.ReadFile(fsys, "rules/"+strings.TrimSuffix(e.Name(), ".sql")+".md")
		if err != nil {
			return nil, fmt.Errorf("lint: rule %s has no documentation: %w", r.Name, err)
		}
		r.Doc = string(doc)
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// parseRule reads the header comment block ("-- key: value" lines, a line
// "--   more" continues the previous value) and keeps the file as the query.
func parseRule(src string) (Rule, error) {
	r := Rule{SQL: src}
	var last *string
	for _, line := range strings.Split(src, "\n") {
		if !strings.HasPrefix(line, "--") {
			break
		}
		body := strings.TrimPrefix(line, "--")
		key, val, ok := strings.Cut(body, ":")
		key = strings.TrimSpace(key)
		var dst *string
		switch {
		case ok && key == "id":
			dst = &r.ID
		case ok && key == "name":
			dst = &r.Name
		case ok && key == "level":
			dst = &r.Level
		case ok && key == "category":
			dst = &r.Category
		case ok && key == "title":
			dst = &r.Title
		case ok && key == "description":
			dst = &r.Description
		case ok && key == "remediation":
			dst = &r.Remediation
		case ok && key == "requires":
			dst = &r.Requires
		case ok && key == "analyzer":
			dst = &r.Analyzer
		}
		if dst != nil {
			*dst = strings.TrimSpace(val)
			last = dst
			continue
		}
		if last != nil && strings.HasPrefix(body, "   ") && strings.TrimSpace(body) != "" {
			*last += " " + strings.TrimSpace(body)
			continue
		}
		last = nil
	}
	switch {
	case r.ID == "" || r.Name == "" || r.Title == "" || r.Description == "" || r.Remediation == "":
		return r, fmt.Errorf("header needs id, name, level, category, title, description and remediation")
	case Rank(r.Level) == 0:
		return r, fmt.Errorf("level %q: want error, warn or info", r.Level)
	case r.Category != Security && r.Category != Performance && r.Category != Correctness:
		return r, fmt.Errorf("category %q: want security, performance or correctness", r.Category)
	}
	return r, nil
}

// Rank orders levels: info 1, warn 2, error 3; 0 for anything else.
func Rank(level string) int {
	switch level {
	case Info:
		return 1
	case Warn:
		return 2
	case Error:
		return 3
	}
	return 0
}

// Exceeds reports whether any finding is at level or more severe: the
// --fail-on logic. An unknown level (or "none") never fails.
func Exceeds(findings []Finding, level string) bool {
	floor := Rank(level)
	if floor == 0 {
		return false
	}
	for _, f := range findings {
		if Rank(f.Level) >= floor {
			return true
		}
	}
	return false
}

// Select returns the rules named (by name or id) in filter, or every rule
// when filter is empty. An unknown name is an error.
func Select(filter []string) ([]Rule, error) {
	all := Rules()
	if len(filter) == 0 {
		return all, nil
	}
	want := map[string]bool{}
	for _, f := range filter {
		want[f] = true
	}
	var out []Rule
	for _, r := range all {
		if want[r.Name] || want[r.ID] {
			out = append(out, r)
			delete(want, r.Name)
			delete(want, r.ID)
		}
	}
	for f := range want {
		if !knownRule(f) {
			return nil, fmt.Errorf("lint: unknown rule %q", f)
		}
	}
	return out, nil
}

func knownRule(s string) bool {
	for _, r := range Rules() {
		if r.Name == s || r.ID == s {
			return true
		}
	}
	return false
}

// Run runs the rules on the database and applies the ignores. It works in a
// transaction of its own (a savepoint when db is a transaction), rolled back
// at the end, with search_path set to pg_catalog so that every name in
// expressions is printed schema-qualified.
func Run(ctx context.Context, db DB, opts Options) (Result, error) {
	var res Result
	if len(opts.Schemas) == 0 {
		opts.Schemas = DefaultSchemas
	}
	if len(opts.Roles) == 0 {
		opts.Roles = DefaultRoles
	}
	selected, err := Select(opts.Rules)
	if err != nil {
		return res, err
	}
	if err := validateIgnores(opts.Ignores); err != nil {
		return res, err
	}
	tx, err := db.Begin(ctx)
	if err != nil {
		return res, err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	// Catalog queries are short: JIT compilation (on by default above a cost
	// a 1,000-table catalog reaches) costs seconds and saves nothing.
	if _, err := tx.Exec(ctx, "set local jit = off"); err != nil {
		return res, err
	}
	if _, err := tx.Exec(ctx, "set local search_path = pg_catalog"); err != nil {
		return res, err
	}
	if err := prepareCallerChecks(ctx, tx); err != nil {
		return res, fmt.Errorf("lint: which routines check their caller: %w", err)
	}
	extensions, err := installedExtensions(ctx, tx)
	if err != nil {
		return res, err
	}
	var findings []Finding
	checkRules := map[string]Rule{}
	for _, r := range selected {
		if r.Name == rulePlpgsqlCheckError || r.Name == rulePlpgsqlCheckWarning {
			checkRules[r.Name] = r
		}
	}
	if len(checkRules) > 0 {
		ext, err := ensurePlpgsqlCheck(ctx, tx, extensions)
		if err != nil {
			return res, fmt.Errorf("lint: plpgsql_check: %w", err)
		}
		if ext != "" {
			found, err := runPlpgsqlCheck(ctx, tx, ext, checkRules, opts.Schemas)
			if err != nil {
				return res, fmt.Errorf("lint: plpgsql_check: %w", err)
			}
			findings = append(findings, found...)
		}
	}
	for _, r := range selected {
		if _, ok := checkRules[r.Name]; ok {
			continue // run above, routine by routine
		}
		sql := r.SQL
		if r.Requires != "" {
			schema, ok := extensions[r.Requires]
			if !ok {
				continue
			}
			sql = strings.ReplaceAll(sql, "@extschema@", pgx.Identifier{schema}.Sanitize())
		}
		found, err := runRule(ctx, tx, r, sql, opts.Schemas, opts.Roles)
		if err != nil {
			return res, fmt.Errorf("lint: rule %s %s: %w", r.ID, r.Name, err)
		}
		findings = append(findings, found...)
	}
	if opts.Matrix != nil && selectedRule(selected, ruleRecursion) {
		findings = confirmRecursion(findings, opts.Matrix)
	}
	findings = append(findings, judgementFindings(opts.Matrix)...)
	for i := range findings {
		splitSignature(&findings[i])
	}
	inline, err := inlineIgnores(ctx, tx)
	if err != nil {
		return res, err
	}
	res.Findings, res.Ignored = applyIgnores(findings, inline, opts.Ignores)
	sortFindings(res.Findings)
	sort.SliceStable(res.Ignored, func(i, j int) bool { return less(res.Ignored[i].Finding, res.Ignored[j].Finding) })
	if res.Findings == nil {
		res.Findings = []Finding{}
	}
	if res.Ignored == nil {
		res.Ignored = []IgnoredFinding{}
	}
	return res, nil
}

func selectedRule(rs []Rule, name string) bool {
	for _, r := range rs {
		if r.Name == name {
			return true
		}
	}
	return false
}

func installedExtensions(ctx context.Context, tx pgx.Tx) (map[string]string, error) {
	rows, err := tx.Query(ctx, `select e.extname, n.nspname from pg_extension e join pg_namespace n on n.oid = e.extnamespace`)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	var name, schema string
	_, err = pgx.ForEachRow(rows, []any{&name, &schema}, func() error {
		out[name] = schema
		return nil
	})
	return out, err
}

var placeholder = regexp.MustCompile(`\$([12])\b`)

// runRule runs one rule's query. A rule passes only the parameters it
// references ($1, or $1 and $2).
func runRule(ctx context.Context, tx pgx.Tx, r Rule, sql string, schemas, roles []string) ([]Finding, error) {
	n := 0
	for _, m := range placeholder.FindAllStringSubmatch(sql, -1) {
		if k := int(m[1][0] - '0'); k > n {
			n = k
		}
	}
	args := []any{schemas, roles}[:n]
	rows, err := tx.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	// NULLs (a concatenation with a missing value) read as empty strings.
	var object, objectType, detail, input *string
	dest := []any{&object, &objectType, &detail}
	var analyze analyzer
	if r.Analyzer != "" {
		var ok bool
		if analyze, ok = analyzers[r.Analyzer]; !ok {
			rows.Close()
			return nil, fmt.Errorf("no analyzer %q", r.Analyzer)
		}
		dest = append(dest, &input)
	}
	var out []Finding
	_, err = pgx.ForEachRow(rows, dest, func() error {
		f := Finding{
			Rule: r.Name, ID: r.ID, Level: r.Level, Category: r.Category, Title: r.Title,
			Object: deref(object), ObjectType: deref(objectType), Detail: deref(detail), Remediation: r.Remediation,
		}
		if analyze != nil {
			keep, detail := analyze(deref(input), f.Detail)
			if !keep {
				return nil
			}
			f.Detail = detail
		}
		out = append(out, f)
		return nil
	})
	return out, err
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func less(a, b Finding) bool {
	if Rank(a.Level) != Rank(b.Level) {
		return Rank(a.Level) > Rank(b.Level)
	}
	if a.ID != b.ID {
		return a.ID < b.ID
	}
	if a.Key() != b.Key() {
		return a.Key() < b.Key()
	}
	return a.Detail < b.Detail
}

// sortFindings orders findings by severity (errors first), rule id, object
// and detail.
func sortFindings(fs []Finding) {
	sort.SliceStable(fs, func(i, j int) bool { return less(fs[i], fs[j]) })
}

const ruleRecursion = "policy_recursion"

// confirmRecursion merges the live matrix into the static recursion rule:
// a static finding on a table whose probe failed with 42P17 says so, and a
// table or function that failed with 42P17 without a static finding is
// reported as well.
func confirmRecursion(findings []Finding, m *matrix.Matrix) []Finding {
	type hit struct {
		kind  string
		cells []string
	}
	hits := map[string]*hit{}
	var order []string
	for _, c := range m.Cells {
		if c.Outcome != matrix.Error || c.SQLState != "42P17" || (c.Kind != "table" && c.Kind != "function") {
			continue
		}
		key := c.Schema + "." + c.Object
		h, ok := hits[key]
		if !ok {
			h = &hit{kind: c.Kind}
			hits[key] = h
			order = append(order, key)
		}
		h.cells = append(h.cells, c.Role+" "+c.Command)
	}
	if len(hits) == 0 {
		return findings
	}
	confirmed := map[string]bool{}
	for i, f := range findings {
		if f.Rule != ruleRecursion {
			continue
		}
		table := f.Object
		if f.ObjectType == "policy" {
			if i := strings.LastIndex(table, "."); i > 0 {
				table = table[:i]
			}
		}
		if h, ok := hits[table]; ok {
			findings[i].Detail += "; confirmed by the live matrix (42P17 for " + strings.Join(h.cells, ", ") + ")"
			confirmed[table] = true
		}
	}
	var rule Rule
	for _, r := range Rules() {
		if r.Name == ruleRecursion {
			rule = r
		}
	}
	for _, key := range order {
		if confirmed[key] {
			continue
		}
		h := hits[key]
		findings = append(findings, Finding{
			Rule: rule.Name, ID: rule.ID, Level: rule.Level, Category: rule.Category, Title: rule.Title,
			Object: key, ObjectType: h.kind, Remediation: rule.Remediation,
			Detail: "the live matrix found infinite recursion (42P17) for " + strings.Join(h.cells, ", ") +
				"; the static check missed it (the cycle goes through code it cannot follow)",
		})
	}
	return findings
}
