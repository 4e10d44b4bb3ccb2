package lint

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5"
	"gopkg.in/yaml.v3"
)

// Ignore silences a rule for matching objects. Rule is a rule name or id
// (or a glob with *); Object is a glob where * matches any run of
// characters (public.audit_*, public.*, *). Reason is mandatory: it is what
// the next reviewer reads.
type Ignore struct {
	Rule   string `yaml:"rule" json:"rule"`
	Object string `yaml:"object" json:"object"`
	Reason string `yaml:"reason" json:"reason"`
}

type ignoreFile struct {
	Ignores []Ignore `yaml:"ignores"`
}

// LoadIgnores reads a file of ignores:
//
//	ignores:
//	  - rule: rls_disabled_in_public
//	    object: public.audit_*
//	    reason: written by triggers only, never granted to API roles
//
// Unknown keys, unknown rules and entries without a rule, an object or a
// reason are errors.
func LoadIgnores(path string) ([]Ignore, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var f ignoreFile
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("lint: %s: %w", path, err)
	}
	if err := validateIgnores(f.Ignores); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f.Ignores, nil
}

func validateIgnores(ignores []Ignore) error {
	for i, ig := range ignores {
		switch {
		case strings.TrimSpace(ig.Rule) == "":
			return fmt.Errorf("lint: ignore %d: rule is missing", i+1)
		case strings.TrimSpace(ig.Object) == "":
			return fmt.Errorf("lint: ignore %d (%s): object is missing (use * for every object)", i+1, ig.Rule)
		case strings.TrimSpace(ig.Reason) == "":
			return fmt.Errorf("lint: ignore %d (%s %s): reason is mandatory", i+1, ig.Rule, ig.Object)
		case !strings.Contains(ig.Rule, "*") && !knownRule(ig.Rule):
			return fmt.Errorf("lint: ignore %d: unknown rule %q", i+1, ig.Rule)
		}
	}
	return nil
}

// glob compiles a pattern where * matches any run of characters and every
// other character matches itself.
func glob(pattern string) *regexp.Regexp {
	parts := strings.Split(pattern, "*")
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	return regexp.MustCompile("^" + strings.Join(parts, ".*") + "$")
}

// inlineIgnore is an "@dbtool-ignore rule: reason" found in a comment.
type inlineIgnore struct {
	Rule   string
	Reason string // empty: not honoured (and reported by ignore_without_reason)
}

// parseInlineIgnores extracts the ignores of a comment: every
// "@dbtool-ignore rule_name: reason", the reason running to the end of the
// line. An ignore without a reason comes back with an empty Reason.
func parseInlineIgnores(comment string) []inlineIgnore {
	pieces := strings.Split(comment, "@dbtool-ignore")
	var out []inlineIgnore
	for _, p := range pieces[1:] {
		line, _, _ := strings.Cut(p, "\n")
		m := inlineSyntax.FindStringSubmatch(line)
		if m == nil {
			out = append(out, inlineIgnore{})
			continue
		}
		out = append(out, inlineIgnore{Rule: m[1], Reason: strings.TrimSpace(m[3])})
	}
	return out
}

// inlineSyntax is the part after "@dbtool-ignore"; rule 0040 uses the same
// pattern in SQL.
var inlineSyntax = regexp.MustCompile(`^\s*([A-Za-z0-9_]+)\s*(:(.*))?$`)

// inlineObjectsSQL names commented objects the way the rules name them.
const inlineObjectsSQL = `
select n.nspname || '.' || c.relname || coalesce('.' || a.attname, ''), d.description
from pg_description d
join pg_class c on d.classoid = 'pg_class'::regclass and c.oid = d.objoid
join pg_namespace n on n.oid = c.relnamespace
left join pg_attribute a on a.attrelid = c.oid and a.attnum = d.objsubid and d.objsubid > 0
where d.description like '%@dbtool-ignore%'
union all
select n.nspname || '.' || p.proname || '(' || oidvectortypes(p.proargtypes) || ')', d.description
from pg_description d
join pg_proc p on d.classoid = 'pg_proc'::regclass and p.oid = d.objoid
join pg_namespace n on n.oid = p.pronamespace
where d.description like '%@dbtool-ignore%'
union all
select n.nspname || '.' || c.relname || '.' || pol.polname, d.description
from pg_description d
join pg_policy pol on d.classoid = 'pg_policy'::regclass and pol.oid = d.objoid
join pg_class c on c.oid = pol.polrelid
join pg_namespace n on n.oid = c.relnamespace
where d.description like '%@dbtool-ignore%'
union all
select n.nspname || '.' || coalesce(c.relname, t.typname) || '.' || k.conname, d.description
from pg_description d
join pg_constraint k on d.classoid = 'pg_constraint'::regclass and k.oid = d.objoid
join pg_namespace n on n.oid = k.connamespace
left join pg_class c on c.oid = k.conrelid
left join pg_type t on t.oid = k.contypid
where d.description like '%@dbtool-ignore%'
union all
select n.nspname || '.' || c.relname || '.' || tg.tgname, d.description
from pg_description d
join pg_trigger tg on d.classoid = 'pg_trigger'::regclass and tg.oid = d.objoid
join pg_class c on c.oid = tg.tgrelid
join pg_namespace n on n.oid = c.relnamespace
where d.description like '%@dbtool-ignore%'
union all
select n.nspname, d.description
from pg_description d
join pg_namespace n on d.classoid = 'pg_namespace'::regclass and n.oid = d.objoid
where d.description like '%@dbtool-ignore%'`

// inlineIgnores reads every "@dbtool-ignore" of the database's comments,
// by object.
func inlineIgnores(ctx context.Context, tx pgx.Tx) (map[string][]inlineIgnore, error) {
	rows, err := tx.Query(ctx, inlineObjectsSQL)
	if err != nil {
		return nil, err
	}
	out := map[string][]inlineIgnore{}
	var object, comment string
	_, err = pgx.ForEachRow(rows, []any{&object, &comment}, func() error {
		out[object] = append(out[object], parseInlineIgnores(comment)...)
		return nil
	})
	return out, err
}

// applyIgnores splits findings into those that count and those an ignore
// matched. An inline ignore on an object also covers the objects inside it
// (a table's columns, policies and constraints; a schema's objects).
// Findings of ignore_without_reason are never ignored.
func applyIgnores(findings []Finding, inline map[string][]inlineIgnore, file []Ignore) ([]Finding, []IgnoredFinding) {
	type compiled struct {
		Ignore
		rule, object *regexp.Regexp
	}
	var fileIgnores []compiled
	for _, ig := range file {
		fileIgnores = append(fileIgnores, compiled{Ignore: ig, rule: glob(ig.Rule), object: glob(ig.Object)})
	}
	var kept []Finding
	var ignored []IgnoredFinding
next:
	for _, f := range findings {
		if f.Rule == ruleIgnoreWithoutReason {
			kept = append(kept, f)
			continue
		}
		for obj := f.Key(); obj != ""; obj = parentObject(obj) {
			for _, ig := range inline[obj] {
				if ig.Reason != "" && (ig.Rule == f.Rule || ig.Rule == f.ID) {
					ignored = append(ignored, IgnoredFinding{Finding: f, Reason: ig.Reason, Source: "comment on " + obj})
					continue next
				}
			}
		}
		for _, ig := range fileIgnores {
			if (ig.rule.MatchString(f.Rule) || ig.rule.MatchString(f.ID)) && (ig.object.MatchString(f.Key()) || ig.object.MatchString(f.Object)) {
				ignored = append(ignored, IgnoredFinding{Finding: f, Reason: ig.Reason, Source: "file"})
				continue next
			}
		}
		kept = append(kept, f)
	}
	return kept, ignored
}

const ruleIgnoreWithoutReason = "ignore_without_reason"

// parentObject is obj without its last dotted part ("" for a schema).
func parentObject(obj string) string {
	if i := strings.Index(obj, "("); i > 0 && strings.HasSuffix(obj, ")") {
		// A function: public.fn(integer) is inside public.
		obj = obj[:i]
	}
	i := strings.LastIndex(obj, ".")
	if i <= 0 {
		return ""
	}
	return obj[:i]
}
