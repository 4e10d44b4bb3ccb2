package plan

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/dbtool-dev/dbtool/internal/catalog"
	"github.com/dbtool-dev/dbtool/internal/sqltree"
)

// generateRows fills the tables the pending statements name, and the
// tables their foreign keys reference (transitively), with n representative
// rows, so that statements whose cost grows with a
// table are measured on rows, and statements that fail on a non-empty table
// fail here too. Triggers (foreign keys included) are off while it runs
// (session_replication_role = replica): foreign key columns are still
// filled from the parent's rows; CHECK, unique and exclusion constraints
// still hold (conflicting rows are skipped). A table no valid row could be
// generated for is noted in the result, not fatal.
func generateRows(ctx context.Context, conn *pgx.Conn, schemas []string, n int, touched map[string]bool, res *Result) error {
	rels, err := catalog.Relations(ctx, conn, schemas)
	if err != nil {
		return err
	}
	if auth, err := catalog.Relations(ctx, conn, []string{"auth"}); err == nil {
		for _, r := range auth {
			if r.Name == "users" {
				rels = append([]catalog.Relation{r}, rels...)
			}
		}
	}
	var tables []catalog.Relation
	for _, r := range rels {
		if (r.Kind == catalog.KindTable || r.Kind == catalog.KindPartitioned) && !r.IsPartition {
			tables = append(tables, r)
		}
	}
	tables = withParents(tables, touched)
	tables = parentsFirst(tables)
	if _, err := conn.Exec(ctx, "begin; set local session_replication_role = replica"); err != nil {
		return err
	}
	for _, r := range tables {
		if err := fillTable(ctx, conn, r, n); err != nil {
			res.RowNotes = append(res.RowNotes, fmt.Sprintf("%s: no rows generated: %v", r.Display(), err))
		}
	}
	if _, err := conn.Exec(ctx, "commit"); err != nil {
		return err
	}
	for _, r := range tables {
		var cnt int64
		if err := conn.QueryRow(ctx, "select count(*) from "+r.QualifiedName()).Scan(&cnt); err != nil {
			return err
		}
		res.Rows[r.Display()] = cnt
	}
	_, err = conn.Exec(ctx, "analyze")
	return err
}

// parentsFirst orders tables so a table comes after the tables its foreign
// keys reference (cycles keep their order).
func parentsFirst(rels []catalog.Relation) []catalog.Relation {
	byName := map[string]int{}
	for i, r := range rels {
		byName[r.Display()] = i
	}
	state := make([]int, len(rels))
	var out []catalog.Relation
	var visit func(i int)
	visit = func(i int) {
		if state[i] != 0 {
			return
		}
		state[i] = 1
		for _, c := range rels[i].Columns {
			if c.FK == nil {
				continue
			}
			if j, ok := byName[c.FK.Schema+"."+c.FK.Table]; ok && j != i {
				visit(j)
			}
		}
		state[i] = 2
		out = append(out, rels[i])
	}
	for i := range rels {
		visit(i)
	}
	return out
}

// candidates are the expressions tried for a column, in order (g is the
// row number).
func candidates(c catalog.Column) []string {
	// Values CHECKs list for the column (col IN (...), = ANY (ARRAY[...]),
	// = ANY ('{...}'), col = '...'); a pattern (~, LIKE) is not a value.
	var lits []string
	for _, chk := range c.Checks {
		listed, _ := sqltree.CheckValues(chk, c.Name)
		for _, v := range listed {
			lits = append(lits, "'"+strings.ReplaceAll(v, "'", "''")+"'")
		}
	}
	switch {
	case c.TypeKind == "e" && len(c.EnumLabels) > 0:
		var out []string
		for _, l := range c.EnumLabels {
			out = append(out, "'"+strings.ReplaceAll(l, "'", "''")+"'")
		}
		return out
	case c.Category == "N":
		return []string{"g", "1", "0", "(g % 5) + 1", "100"}
	case c.Category == "S":
		out := append([]string{}, lits...)
		return append(out, "'r' || g", "'row-' || g", "'user' || g || '@example.com'", "'Row ' || g", "lower(md5(g::text))", "'EUR'", "'US'", "'a.b'", "'example.com'",
			"'+1555' || lpad(g::text, 7, '0')", "'x'")
	case c.Category == "B":
		return []string{"false", "true"}
	case c.Category == "D":
		switch {
		case strings.HasPrefix(c.BaseType, "date"):
			return []string{"current_date + (g % 365)", "current_date - (g % 365) - 1", "current_date"}
		case strings.HasPrefix(c.BaseType, "time with") || strings.HasPrefix(c.BaseType, "time without"):
			return []string{"'09:00'", "'17:00'"}
		}
		return []string{"now() + g * interval '1 minute'", "now() + g * interval '1 minute' + interval '1 hour'",
			"now() - g * interval '1 minute'", "now()"}
	case c.BaseType == "bytea":
		return []string{"sha256(g::text::bytea)", "'\\x00'"}
	case c.BaseType == "uuid":
		return []string{"gen_random_uuid()"}
	case strings.HasPrefix(c.BaseType, "json"):
		return []string{"'{}'", "'[]'"}
	case c.Category == "A":
		return []string{"'{}'"}
	case c.Category == "T":
		return []string{"interval '1 hour'", "interval '30 minutes'"}
	case c.Category == "I":
		return []string{"'127.0.0.1'"}
	case c.TypeKind == "r":
		return []string{"'[2030-01-01,2030-01-02)'"}
	}
	return append(lits, "'1'")
}

func fillTable(ctx context.Context, conn *pgx.Conn, r catalog.Relation, n int) error {
	type col struct {
		c     catalog.Column
		cands []string
		idx   int
		fk    bool
	}
	var cols []*col
	for _, c := range r.Columns {
		if c.Generated || c.Identity == "a" {
			continue
		}
		switch {
		case c.FK != nil && c.NotNull:
			// A default (auth.uid()) has no caller here: take a parent's key.
			cols = append(cols, &col{c: c, fk: true})
		case c.FK != nil:
			continue // nullable references stay NULL
		case c.HasDefault || c.Identity == "a" || c.Identity == "d":
			continue
		case !c.NotNull:
			continue
		default:
			cols = append(cols, &col{c: c, cands: candidates(c)})
		}
	}
	var lastErr error
	for attempt := 0; attempt < 24; attempt++ {
		var names, exprs, joins []string
		for i, c := range cols {
			names = append(names, pgx.Identifier{c.c.Name}.Sanitize())
			if c.fk {
				parent := pgx.Identifier{c.c.FK.Schema, c.c.FK.Table}.Sanitize()
				alias := fmt.Sprintf("p%d", i)
				joins = append(joins, fmt.Sprintf("(select array_agg(%s) a from (select %s from %s limit 10000) x) %s",
					pgx.Identifier{c.c.FK.Column}.Sanitize(), pgx.Identifier{c.c.FK.Column}.Sanitize(), parent, alias))
				exprs = append(exprs, fmt.Sprintf("%s.a[1 + (g - 1) %% greatest(cardinality(%s.a), 1)]", alias, alias))
				continue
			}
			exprs = append(exprs, "("+c.cands[c.idx%len(c.cands)]+")::"+c.c.Type)
		}
		var sql string
		if len(cols) == 0 {
			// Every column has a default: one statement inserting n rows of defaults.
			sql = fmt.Sprintf("do $gen$ begin for i in 1..%d loop insert into %s default values; end loop; end $gen$",
				n, r.QualifiedName())
		} else {
			from := fmt.Sprintf("generate_series(1, %d) g", n)
			if len(joins) > 0 {
				from += ", " + strings.Join(joins, ", ")
			}
			sql = fmt.Sprintf("insert into %s (%s) select %s from %s on conflict do nothing",
				r.QualifiedName(), strings.Join(names, ", "), strings.Join(exprs, ", "), from)
		}
		if _, err := conn.Exec(ctx, "savepoint gen"); err != nil {
			return err
		}
		_, err := conn.Exec(ctx, sql)
		if err == nil {
			_, err = conn.Exec(ctx, "release savepoint gen")
			return err
		}
		lastErr = err
		if _, rerr := conn.Exec(ctx, "rollback to savepoint gen"); rerr != nil {
			return rerr
		}
		var pe *pgconn.PgError
		if !errors.As(err, &pe) {
			return err
		}
		// Repair: move the columns the failed constraint names to their
		// next candidate, one column at a time (an odometer).
		advanced := false
		for i := len(cols) - 1; i >= 0 && !advanced; i-- {
			c := cols[i]
			if c.fk || len(c.cands) < 2 {
				continue
			}
			if !namesColumn(pe, c.c) {
				continue
			}
			c.idx++
			if c.idx%len(c.cands) != 0 {
				advanced = true
			}
		}
		if !advanced {
			break
		}
	}
	if lastErr == nil {
		lastErr = errors.New("no valid row")
	}
	return lastErr
}

func namesColumn(pe *pgconn.PgError, c catalog.Column) bool {
	if pe.ColumnName == c.Name {
		return true
	}
	for _, n := range c.CheckNames {
		if n == pe.ConstraintName {
			return true
		}
	}
	return pe.ConstraintName == "" && pe.ColumnName == ""
}

// withParents keeps the tables named (by schema.name or by bare name) and
// the tables they reference, transitively.
func withParents(tables []catalog.Relation, touched map[string]bool) []catalog.Relation {
	byName := map[string]catalog.Relation{}
	for _, r := range tables {
		byName[r.Display()] = r
	}
	keep := map[string]bool{}
	var add func(r catalog.Relation)
	add = func(r catalog.Relation) {
		if keep[r.Display()] {
			return
		}
		keep[r.Display()] = true
		for _, c := range r.Columns {
			if c.FK == nil {
				continue
			}
			if p, ok := byName[c.FK.Schema+"."+c.FK.Table]; ok {
				add(p)
			}
		}
	}
	for _, r := range tables {
		if touched[r.Display()] || touched[r.Name] {
			add(r)
		}
	}
	var out []catalog.Relation
	for _, r := range tables {
		if keep[r.Display()] {
			out = append(out, r)
		}
	}
	return out
}
