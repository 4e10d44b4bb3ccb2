package matrix

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/dbtool-dev/dbtool/internal/catalog"
	"github.com/dbtool-dev/dbtool/internal/pgerr"
	"github.com/dbtool-dev/dbtool/internal/sqltree"
)

// seedAttempts bounds the candidate rows tried per table.
const seedAttempts = 12

// seed inserts one plausible row into every table (parents before
// children), as the owner and with the owner persona's claims. Tables no
// valid row could be built for are listed in m.Unseeded.
func (p *prober) seed(ctx context.Context, rels []catalog.Relation, m *Matrix) error {
	byName := map[string]catalog.Relation{}
	for _, r := range rels {
		byName[r.Display()] = r
	}
	// FK targets outside the exposed schemas are seeded too (auth.users is
	// the personas' own rows).
	for i := 0; i < len(rels); i++ {
		for _, c := range rels[i].Columns {
			if c.FK == nil {
				continue
			}
			key := c.FK.Schema + "." + c.FK.Table
			if _, ok := byName[key]; ok || key == "auth.users" {
				continue
			}
			extra, err := catalog.Relations(ctx, p.conn, []string{c.FK.Schema})
			if err != nil {
				return err
			}
			for _, e := range extra {
				if _, ok := byName[e.Display()]; !ok {
					byName[e.Display()] = e
					if e.Display() == key {
						rels = append(rels, e)
					}
				}
			}
		}
	}
	for _, r := range topoOrder(rels) {
		if r.Kind != catalog.KindTable && r.Kind != catalog.KindPartitioned {
			continue
		}
		if r.IsPartition {
			continue
		}
		// Rows the project's triggers made when the personas signed up (a
		// profile each) are the seed: no second row.
		if p.signupRows[r.Display()] {
			m.Seeded = append(m.Seeded, r.Display())
			continue
		}
		why, err := p.seedOne(ctx, r)
		if err != nil {
			return err
		}
		if why == "" {
			m.Seeded = append(m.Seeded, r.Display())
		} else {
			m.Unseeded = append(m.Unseeded, r.Display())
			if m.UnseededWhy == nil {
				m.UnseededWhy = map[string]string{}
			}
			m.UnseededWhy[r.Display()] = why
		}
	}
	return nil
}

// choice is which candidate each column takes in a generated row.
type choice struct {
	idx    map[string]int  // column -> candidate index
	fkOff  map[string]bool // optional reference left NULL
	global int             // fallback: advance every column
}

func newChoice() *choice { return &choice{idx: map[string]int{}, fkOff: map[string]bool{}} }

// advance moves the columns a failed constraint names to their next
// candidate; when the error names no column we know, every column moves.
func (ch *choice) advance(r catalog.Relation, constraint string) {
	moved := false
	if constraint != "" {
		for _, c := range r.Columns {
			for _, n := range c.CheckNames {
				if n == constraint {
					moved = true
					if c.FK != nil && !c.NotNull {
						ch.fkOff[c.Name] = true
					} else {
						ch.idx[c.Name]++
					}
				}
			}
		}
	}
	if !moved {
		ch.global++
	}
}

// seedOne inserts one row into r; it returns why it could not ("" when it did).
func (p *prober) seedOne(ctx context.Context, r catalog.Relation) (string, error) {
	why := ""
	ch := newChoice()
	for attempt := 0; attempt < seedAttempts; attempt++ {
		sql, ok, err := p.insertSQLChoice(ctx, r, 1, ch, p.ownerID)
		if err != nil {
			return "", err
		}
		if !ok {
			return "a required column has no usable value (type or reference)", nil
		}
		batch := "savepoint dbtool_seed; " + sql + "; release savepoint dbtool_seed"
		_, err = p.conn.PgConn().Exec(ctx, batch).ReadAll()
		if err == nil {
			p.choices[r.Display()] = ch
			return "", nil
		}
		why = err.Error()
		constraint := ""
		if pe, ok := pgerr.PG(err); ok {
			constraint = pe.ConstraintName
		}
		ch.advance(r, constraint)
		if _, err := p.conn.Exec(ctx, "rollback to savepoint dbtool_seed; release savepoint dbtool_seed"); err != nil {
			return "", err
		}
	}
	return why, nil
}

// topoOrder puts referenced tables before the tables referencing them.
func topoOrder(rels []catalog.Relation) []catalog.Relation {
	idx := map[string]int{}
	for i, r := range rels {
		idx[r.Display()] = i
	}
	state := make([]int, len(rels)) // 0 new, 1 visiting, 2 done
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
			if j, ok := idx[c.FK.Schema+"."+c.FK.Table]; ok && j != i {
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

// insertSQL builds the probe insert (variant 2) for r from the choices
// that seeded it, or reports that no row can be built.
func (p *prober) insertSQL(r catalog.Relation, variant int, actingID string) (string, bool) {
	ch := p.choices[r.Display()]
	if ch == nil {
		ch = newChoice()
	}
	sql, ok, err := p.insertSQLChoice(context.Background(), r, variant, ch, actingID)
	return sql, ok && err == nil
}

// insertSQLChoice builds an INSERT of one row: columns with defaults keep
// them, nullable columns without a reference stay NULL, the rest get a
// value from their CHECK constraints, type and name, as ch picks; variant
// makes values differ from the seed row.
func (p *prober) insertSQLChoice(ctx context.Context, r catalog.Relation, variant int, ch *choice, actingID string) (string, bool, error) {
	var cols, vals []string
	for i, c := range r.Columns {
		if c.Generated || c.Identity == "a" {
			continue
		}
		if c.FK != nil {
			if !c.NotNull && (ch.fkOff[c.Name] || ch.global%2 == 1) {
				continue
			}
			v, err := p.fkValue(ctx, c.FK, actingID)
			if err != nil {
				return "", false, err
			}
			if v == "" {
				if c.NotNull && !c.HasDefault {
					return "", false, nil
				}
				continue
			}
			cols, vals = append(cols, pgx.Identifier{c.Name}.Sanitize()), append(vals, v+"::"+c.Type)
			continue
		}
		if c.HasDefault || !c.NotNull {
			continue
		}
		cands := candidates(c, i, variant)
		if len(cands) == 0 {
			return "", false, nil
		}
		cols = append(cols, pgx.Identifier{c.Name}.Sanitize())
		vals = append(vals, "("+cands[(ch.idx[c.Name]+ch.global)%len(cands)]+")::"+c.Type)
	}
	if len(cols) == 0 {
		return "insert into " + r.QualifiedName() + " default values", true, nil
	}
	return fmt.Sprintf("insert into %s (%s) values (%s)", r.QualifiedName(), strings.Join(cols, ", "), strings.Join(vals, ", ")), true, nil
}

// fkValue returns a literal referencing an existing row of the target, or "".
func (p *prober) fkValue(ctx context.Context, fk *catalog.ForeignKey, actingID string) (string, error) {
	if fk.Schema == "auth" && fk.Table == "users" && fk.Column == "id" {
		id := actingID
		if id == "" {
			id = p.ownerID
		}
		if id == "" {
			return "", nil
		}
		return quote(id), nil
	}
	key := fk.Schema + "." + fk.Table + "." + fk.Column
	if p.freshFK {
		var v *string
		err := p.conn.QueryRow(ctx, newestRowSQL(pgx.Identifier{fk.Column}.Sanitize(), pgx.Identifier{fk.Schema, fk.Table}.Sanitize())).Scan(&v)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return "", err
		}
		if v == nil {
			return "", nil
		}
		return quote(*v), nil
	}
	if v, ok := p.values[key]; ok || p.probing {
		return v, nil
	}
	// A parent row of the owner's (their id in one of its columns: the
	// personal account their sign-up made) before any other, so the owner's
	// rows do not hang under the stranger's parent.
	var v *string
	err := p.conn.QueryRow(ctx, fmt.Sprintf("select x.%s::text from %s x where x.%s is not null order by (x::text like '%%' || $1 || '%%') desc limit 1",
		pgx.Identifier{fk.Column}.Sanitize(), pgx.Identifier{fk.Schema, fk.Table}.Sanitize(), pgx.Identifier{fk.Column}.Sanitize()), p.ownerID).Scan(&v)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return "", err
	}
	if v == nil {
		return "", nil // not cached: a later seed may fill the target
	}
	p.values[key] = quote(*v)
	return p.values[key], nil
}

var (
	numberLit = regexp.MustCompile(`(?:^|[^\w.])(-?\d+(?:\.\d+)?)`)
)

// candidates are SQL expressions for a NOT NULL column without a default.
func candidates(c catalog.Column, pos, variant int) []string {
	checks := strings.Join(c.Checks, " ")
	suffix := ""
	if variant > 1 {
		suffix = strconv.Itoa(variant)
	}
	shift := fmt.Sprintf("interval '%d days'", 1+(variant-1)*7)
	if c.TypeKind == "e" {
		var out []string
		for _, l := range c.EnumLabels {
			out = append(out, quote(l))
		}
		return out
	}
	if c.Category == "A" {
		return []string{"'{}'"}
	}
	switch c.BaseType {
	case "text", "character varying", "character", "citext", "name":
		// The values checks list for the column (= ANY (ARRAY[...]),
		// = ANY ('{...}'), IN, =) first, then their other literals, then
		// guesses from the name.
		var listed, other []string
		for _, def := range c.Checks {
			l, o := sqltree.CheckValues(def, c.Name)
			listed, other = append(listed, l...), append(other, o...)
		}
		var out []string
		seen := map[string]bool{}
		for _, lit := range append(listed, other...) {
			if !strings.ContainsAny(lit, "^$[]\\*+?") && !seen[lit] { // not a regular expression
				seen[lit] = true
				out = append(out, quote(lit))
			}
		}
		return append(out, textByName(c.Name, suffix)...)
	case "uuid":
		return []string{"gen_random_uuid()"}
	case "smallint", "integer", "bigint", "numeric", "real", "double precision", "money":
		var out []string
		seen := map[string]bool{}
		for _, m := range numberLit.FindAllStringSubmatch(checks, -1) {
			for _, v := range []string{m[1], plusOne(m[1])} {
				if !seen[v] {
					seen[v] = true
					out = append(out, v)
				}
			}
		}
		return append(out, "1", "0", "100")
	case "boolean":
		return []string{"true", "false"}
	case "timestamp with time zone", "timestamp without time zone":
		return []string{fmt.Sprintf("date_trunc('hour', now()) + %s + interval '%d hours'", shift, pos)}
	case "date":
		return []string{fmt.Sprintf("current_date + %d", 1+(variant-1)*7+pos)}
	case "time without time zone", "time with time zone":
		return []string{fmt.Sprintf("time '08:00' + interval '%d hours'", pos%12)}
	case "interval":
		return []string{"interval '1 hour'", "interval '30 minutes'"}
	case "tstzrange", "tsrange":
		start := fmt.Sprintf("date_trunc('hour', now()) + %s + interval '%d hours'", shift, pos)
		return []string{fmt.Sprintf("tstzrange(%s, %s + interval '1 hour')", start, start)}
	case "daterange":
		return []string{fmt.Sprintf("daterange(current_date + %d, current_date + %d)", 1+(variant-1)*7, 2+(variant-1)*7)}
	case "int4range", "int8range", "numrange":
		return []string{"'[1,10)'"}
	case "jsonb", "json":
		return []string{"'{}'"}
	case "inet", "cidr":
		return []string{"'127.0.0.1'"}
	case "bytea":
		return []string{"sha256(" + quote("probe"+suffix) + "::bytea)", "'\\x00'"}
	case "tsvector":
		return []string{"''"}
	}
	return nil
}

func plusOne(s string) string {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return strconv.FormatInt(n+1, 10)
	}
	return s
}

// textByName guesses a valid value from a column's name.
func textByName(name, suffix string) []string {
	n := strings.ToLower(name)
	switch {
	case strings.Contains(n, "email"):
		return []string{quote("probe" + suffix + "@example.test")}
	case strings.Contains(n, "zone") || n == "tz":
		return []string{"'UTC'", "'Europe/Berlin'"}
	case strings.Contains(n, "slug"):
		return []string{quote("probe-slug" + suffix)}
	case strings.Contains(n, "phone"):
		return []string{quote("+1555010" + fmt.Sprint(len(suffix)))}
	case strings.Contains(n, "url") || strings.Contains(n, "website"):
		return []string{quote("https://example.test/" + suffix)}
	case strings.Contains(n, "currency"):
		return []string{"'USD'", "'EUR'"}
	case strings.Contains(n, "country"):
		return []string{"'US'", "'DE'"}
	case strings.Contains(n, "locale") || strings.Contains(n, "lang"):
		return []string{"'en'"}
	case strings.Contains(n, "color") || strings.Contains(n, "colour"):
		return []string{"'#000000'"}
	case strings.Contains(n, "hash") || strings.Contains(n, "token") || strings.Contains(n, "digest"):
		return []string{"encode(sha256(gen_random_uuid()::text::bytea), 'hex')"}
	}
	return []string{quote("probe" + suffix), quote("PROBE" + suffix), quote("probe.probe" + suffix), quote("Probe " + suffix), quote("probe-" + suffix + "x")}
}
