package lint

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5"
)

const (
	rulePlpgsqlCheckError   = "plpgsql_check_error"
	rulePlpgsqlCheckWarning = "plpgsql_check_warning"
)

// ensurePlpgsqlCheck creates plpgsql_check inside the lint transaction
// (rolled back with it) when the server has the extension and the
// database does not. It returns the extension's schema, "" when it cannot.
func ensurePlpgsqlCheck(ctx context.Context, tx pgx.Tx, extensions map[string]string) (string, error) {
	if s, ok := extensions["plpgsql_check"]; ok {
		return s, nil
	}
	var available bool
	if err := tx.QueryRow(ctx, `select exists (select 1 from pg_available_extensions where name = 'plpgsql_check')`).Scan(&available); err != nil {
		return "", err
	}
	if !available {
		return "", nil
	}
	if _, err := tx.Exec(ctx, "savepoint dbtool_plpgsql_check"); err != nil {
		return "", err
	}
	if _, err := tx.Exec(ctx, "create schema dbtool_lint_plpgsql_check; create extension plpgsql_check with schema dbtool_lint_plpgsql_check"); err != nil {
		// Not allowed here (a non-superuser on a hosted database): skip.
		_, rerr := tx.Exec(ctx, "rollback to savepoint dbtool_plpgsql_check")
		return "", rerr
	}
	_, err := tx.Exec(ctx, "release savepoint dbtool_plpgsql_check")
	return "dbtool_lint_plpgsql_check", err
}

var (
	chosenWarning = regexp.MustCompile(`(?i)\bout\b.*\b(variable|parameter)|return next|return query|without return`)
	tempTable     = regexp.MustCompile(`(?i)create\s+(temp|temporary)\s+table`)
)

// runPlpgsqlCheck checks every PL/pgSQL routine of the project with
// plpgsql_check: each under its own search_path (its SET search_path, else
// the database's), each trigger function against every table it is
// attached to. Errors belong to rule 0034, the chosen warnings (an OUT
// parameter never assigned, a set-returning function that returns no row)
// to rule 0059.
func runPlpgsqlCheck(ctx context.Context, tx pgx.Tx, ext string, rules map[string]Rule, schemas []string) ([]Finding, error) {
	var dbPath string
	if err := tx.QueryRow(ctx, `select reset_val from pg_settings where name = 'search_path'`).Scan(&dbPath); err != nil {
		return nil, err
	}
	rows, err := tx.Query(ctx, `
select p.oid::int8, n.nspname || '.' || p.proname || '(' || oidvectortypes(p.proargtypes) || ')',
       (select substr(s, 13) from unnest(p.proconfig) s where s like 'search\_path=%'),
       array(select t.tgrelid::regclass::text from pg_trigger t where t.tgfoid = p.oid and not t.tgisinternal order by 1),
       p.prorettype = 'trigger'::regtype, p.prosrc
from pg_proc p
join pg_namespace n on n.oid = p.pronamespace
join pg_language l on l.oid = p.prolang and l.lanname = 'plpgsql'
where p.prokind in ('f', 'p')
  and p.prorettype <> 'event_trigger'::regtype
  and pg_temp.dbtool_project_schema(n.nspname, $1::text[]) and n.nspname <> 'dbtool_lint_plpgsql_check'
  and not exists (select 1 from pg_depend e where e.classid = 'pg_proc'::regclass and e.objid = p.oid and e.deptype = 'e')
order by 2`, schemas)
	if err != nil {
		return nil, err
	}
	type fn struct {
		oid     int64
		name    string
		path    *string
		tables  []string
		trigger bool
		src     string
	}
	var fns []fn
	var f fn
	if _, err := pgx.ForEachRow(rows, []any{&f.oid, &f.name, &f.path, &f.tables, &f.trigger, &f.src}, func() error {
		fns = append(fns, f)
		return nil
	}); err != nil {
		return nil, err
	}
	var out []Finding
	add := func(r Rule, object, detail string) {
		out = append(out, Finding{Rule: r.Name, ID: r.ID, Level: r.Level, Category: r.Category, Title: r.Title,
			Object: object, ObjectType: "function", Detail: detail, Remediation: r.Remediation})
	}
	// One query per search_path: every (routine, table) pair of the group
	// in a lateral join. A group whose query fails (plpgsql_check itself
	// raising) is checked pair by pair, each in a savepoint.
	type job struct {
		fn  int
		rel string // "" for no table
	}
	groups := map[string][]job{}
	var order []string
	for i, x := range fns {
		path := dbPath
		if x.path != nil {
			path = plpgsqlPath(*x.path)
		}
		if _, ok := groups[path]; !ok {
			order = append(order, path)
		}
		if !x.trigger {
			groups[path] = append(groups[path], job{i, ""})
			continue
		}
		for _, t := range x.tables { // a trigger function no table uses cannot be checked
			groups[path] = append(groups[path], job{i, t})
		}
	}
	checkFn := pgx.Identifier{ext}.Sanitize() + ".plpgsql_check_function_tb"
	batch := "select j.i, r.level, r.lineno, r.statement, r.message, r.sqlstate from unnest($1::int[], $2::oid[], $3::text[]) as j(i, f, t) " +
		"cross join lateral " + checkFn + "(j.f::regprocedure, case when j.t = '' then 0::oid::regclass else j.t::regclass end, " +
		"fatal_errors => false, other_warnings => true, extra_warnings => true) r"
	collect := func(rows pgx.Rows, jobs []job) error {
		var i int32
		var level, message string
		var line *int32
		var stmt, state *string
		_, err := pgx.ForEachRow(rows, []any{&i, &level, &line, &stmt, &message, &state}, func() error {
			j := jobs[i]
			x := fns[j.fn]
			d := "line " + intOr(line, "?")
			if stmt != nil {
				d += " (" + *stmt + ")"
			}
			if j.rel != "" {
				d += " (on " + j.rel + ")"
			}
			d += ": " + message
			if state != nil {
				d += " [" + *state + "]"
			}
			switch {
			case level == "error":
				if state != nil && *state == "42P01" && tempTable.MatchString(x.src) {
					return nil // a temporary table the routine creates when it runs
				}
				if r, ok := rules[rulePlpgsqlCheckError]; ok {
					add(r, x.name, d)
				}
			case strings.HasPrefix(level, "warning") && chosenWarning.MatchString(message):
				if r, ok := rules[rulePlpgsqlCheckWarning]; ok {
					add(r, x.name, d)
				}
			}
			return nil
		})
		return err
	}
	run := func(jobs []job) error {
		idx, oids, rels := make([]int32, len(jobs)), make([]uint32, len(jobs)), make([]string, len(jobs))
		for k, j := range jobs {
			idx[k], oids[k], rels[k] = int32(k), uint32(fns[j.fn].oid), j.rel
		}
		if _, err := tx.Exec(ctx, "savepoint dbtool_check"); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, batch, idx, oids, rels)
		if err == nil {
			err = collect(rows, jobs)
		}
		if err != nil {
			_, rerr := tx.Exec(ctx, "rollback to savepoint dbtool_check; release savepoint dbtool_check")
			if rerr != nil {
				return rerr
			}
			return err
		}
		_, err = tx.Exec(ctx, "release savepoint dbtool_check")
		return err
	}
	for _, path := range order {
		if _, err := tx.Exec(ctx, "select pg_catalog.set_config('search_path', $1, true)", path); err != nil {
			return nil, err
		}
		jobs := groups[path]
		before := len(out)
		if err := run(jobs); err != nil {
			out = out[:before]
			for _, j := range jobs {
				_ = run([]job{j}) // the one that raises is skipped
			}
		}
	}
	if _, err := tx.Exec(ctx, "set local search_path = pg_catalog"); err != nil {
		return nil, err
	}
	return out, nil
}

func intOr(p *int32, def string) string {
	if p == nil {
		return def
	}
	return fmt.Sprint(*p)
}

// plpgsqlPath turns a stored search_path (proconfig) into a set_config value.
func plpgsqlPath(p string) string {
	if strings.TrimSpace(p) == `""` {
		return ""
	}
	return p
}
