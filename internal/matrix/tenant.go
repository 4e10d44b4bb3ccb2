package matrix

import (
	"context"
	"fmt"
	"regexp"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/dbtool-dev/dbtool/internal/catalog"
)

// Second-tenant judgements. The stranger owns nothing, so a policy that asks
// only a session-level question ("is the caller a subscriber?", "a member
// of some company?") hides the owner's rows from them and still hands them
// to every other tenant. A second owner, seeded like the first (their own
// rows in every table, children referencing their own parent rows), must
// see and change none of the first owner's rows.
const (
	JudgeTenantReads  = "matrix_second_tenant_reads_owner_rows"
	JudgeTenantWrites = "matrix_second_tenant_changes_owner_rows"
	secondOwner       = "second_owner"
)

var privilegeTable = regexp.MustCompile(`(?i)(admin|role|permission|privilege|moderator|superuser|grant)`)

// secondTenant seeds the second owner and judges what they see and change.
// It runs after every other probe: its rows stay for the rest of the
// transaction (a new probe savepoint is taken after them).
func (p *prober) secondTenant(ctx context.Context, rels []catalog.Relation, m *Matrix, public map[string]string, flagged map[string]bool) error {
	var owner *persona
	for i := range p.personas {
		if p.personas[i].Name == "owner" {
			owner = &p.personas[i]
		}
	}
	if owner == nil || owner.failed != "" || p.ownerID == "" {
		return nil
	}
	if err := p.reset(ctx); err != nil {
		return err
	}
	if _, err := p.conn.Exec(ctx, "release savepoint dbtool_probe"); err != nil {
		return err
	}
	before := len(p.personas)
	if err := p.createPersonas(ctx, []Persona{{Name: secondOwner, Role: "authenticated"}}); err != nil {
		return err
	}
	if len(p.personas) == before {
		return nil
	}
	second := p.personas[len(p.personas)-1]
	p.personas = p.personas[:before] // not a matrix column: judged here only
	if second.failed != "" {
		_, err := p.conn.Exec(ctx, "savepoint dbtool_probe")
		return err
	}
	// Seed as the second owner: their claims, their id in user columns,
	// and references to the newest parent rows (theirs).
	if _, err := p.conn.Exec(ctx, second.setSQL+"; reset role"); err != nil {
		return err
	}
	seeded := map[string]bool{}
	for _, s := range m.Seeded {
		seeded[s] = true
	}
	p.probing, p.freshFK = false, true
	total := func() (map[string]int64, error) {
		out := map[string]int64{}
		for _, r := range rels {
			if r.Kind != catalog.KindTable && r.Kind != catalog.KindPartitioned || r.IsPartition {
				continue
			}
			var n int64
			if err := p.conn.QueryRow(ctx, "select count(*) from "+r.QualifiedName()).Scan(&n); err != nil {
				return nil, err
			}
			out[r.Display()] = n
		}
		return out, nil
	}
	rowsBefore, err := total()
	if err != nil {
		return err
	}
	mine := map[string]int64{}
	for _, r := range topoOrder(rels) {
		if r.Kind != catalog.KindTable && r.Kind != catalog.KindPartitioned || r.IsPartition || !seeded[r.Display()] {
			continue
		}
		if n := p.own[secondOwner][r.Display()]; n > 0 || p.signupRows[r.Display()] {
			mine[r.Display()] = n
			continue
		}
		// Grants of global power (platform admins, roles, permissions) are
		// not part of a tenant: a second owner who is an admin sees
		// everything by design.
		if privilegeTable.MatchString(r.Name) {
			continue
		}
		// A row referencing a parent the second owner has no row in would
		// hang under the first owner's parent: not theirs to compare.
		orphan := false
		for _, c := range r.Columns {
			if c.FK == nil || (c.FK.Schema == "auth" && c.FK.Table == "users") || c.FK.Schema+"."+c.FK.Table == r.Display() {
				continue
			}
			if _, ok := mine[c.FK.Schema+"."+c.FK.Table]; !ok {
				orphan = true
			}
		}
		if orphan {
			continue
		}
		ch := p.choices[r.Display()]
		if ch == nil {
			ch = newChoice()
		}
		sql, ok, err := p.insertSQLChoice(ctx, r, 3, ch, second.id)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		if _, err := p.conn.PgConn().Exec(ctx, "savepoint dbtool_seed; "+sql+"; release savepoint dbtool_seed").ReadAll(); err != nil {
			if _, err := p.conn.Exec(ctx, "rollback to savepoint dbtool_seed; release savepoint dbtool_seed"); err != nil {
				return err
			}
			continue // their row could not be made: nothing to compare
		}
		mine[r.Display()] = 1
	}
	// Theirs: every row their seeding made, the project's triggers' rows
	// (history, notifications) included.
	rowsAfter, err := total()
	if err != nil {
		return err
	}
	for t := range mine {
		mine[t] = rowsAfter[t] - rowsBefore[t] + p.own[secondOwner][t]
	}
	p.probing, p.freshFK = true, false
	// Back to the owner's claims, as the probes expect, and a new probe
	// savepoint that keeps the second owner's rows.
	if _, err := p.conn.Exec(ctx, owner.setSQL+"; reset role; savepoint dbtool_probe"); err != nil {
		return err
	}
	for _, r := range rels {
		own, ok := mine[r.Display()]
		if !ok || own == 0 || p.counts[r.Display()] == 0 || flagged[r.Display()] {
			continue
		}
		label := func(cmd string, n int64) string { return fmt.Sprintf("rows %d", n) }
		j := func(rule, level, cmd string, n int64, detail string) {
			m.Judgements = append(m.Judgements, Judgement{Rule: rule, Level: level, Schema: r.Schema, Object: r.Name, Kind: kindOf(r),
				Role: secondOwner, Command: cmd, Cell: label(cmd, n), Detail: detail})
		}
		res, err := p.result(ctx, second, "select count(*) from "+r.QualifiedName())
		if err == nil {
			n, _ := strconv.ParseInt(string(res.Rows[0][0]), 10, 64)
			others := n - own - p.own["stranger"][r.Display()]
			if others > 0 {
				if why, ok := public[r.Display()]; ok {
					j(JudgeTenantReads, judgeLevelInfo, "select", n, "public read: "+why)
				} else {
					j(JudgeTenantReads, judgeLevelError, "select", n, fmt.Sprintf(
						"a second tenant (a signed-in user with rows of their own) reads %d rows that are not theirs; the stranger, who owns nothing, does not: the policies ask who the caller is, not whose row it is", others))
				}
			}
		}
		if col := p.updCol[r.Display()+"\x00authenticated"]; col != "" {
			id := pgx.Identifier{col}.Sanitize()
			res, err := p.result(ctx, second, fmt.Sprintf("update %s set %s = %s", r.QualifiedName(), id, id))
			if err == nil && res.CommandTag.RowsAffected() > own {
				j(JudgeTenantWrites, judgeLevelError, "update", res.CommandTag.RowsAffected(), fmt.Sprintf(
					"a second tenant can update %d rows that are not theirs", res.CommandTag.RowsAffected()-own))
			}
		}
		if err := p.crossTenantInsert(ctx, r, second, m); err != nil {
			return err
		}
	}
	return p.reset(ctx)
}

// crossTenantInsert: the second owner inserts a row of their own whose
// parent references point at the first owner's rows (a document into
// another company, an item onto another tenant's order). When the insert
// passes and a referenced parent is invisible to them, they wrote into
// another tenant.
func (p *prober) crossTenantInsert(ctx context.Context, r catalog.Relation, second persona, m *Matrix) error {
	if r.Kind != catalog.KindTable && r.Kind != catalog.KindPartitioned {
		return nil
	}
	var refs []*catalog.Column
	for i := range r.Columns {
		c := &r.Columns[i]
		if c.FK != nil && !(c.FK.Schema == "auth" && c.FK.Table == "users") && c.FK.Schema+"."+c.FK.Table != r.Display() {
			refs = append(refs, c)
		}
	}
	if len(refs) == 0 {
		return nil
	}
	ch := p.choices[r.Display()]
	if ch == nil {
		return nil
	}
	sql, ok, err := p.insertSQLChoice(ctx, r, 4, ch, second.id) // probing: parents from the cache, the first owner's
	if err != nil || !ok {
		return err
	}
	if _, err := p.result(ctx, second, sql); err != nil {
		return nil // refused: as it should be
	}
	for _, c := range refs {
		v := p.values[c.FK.Schema+"."+c.FK.Table+"."+c.FK.Column]
		if v == "" {
			continue
		}
		res, err := p.result(ctx, second, fmt.Sprintf("select count(*) from %s where %s = %s",
			pgx.Identifier{c.FK.Schema, c.FK.Table}.Sanitize(), pgx.Identifier{c.FK.Column}.Sanitize(), v))
		if err != nil || string(res.Rows[0][0]) != "0" {
			continue // a parent they may see (public, or shared with them)
		}
		m.Judgements = append(m.Judgements, Judgement{Rule: JudgeTenantWrites, Level: judgeLevelError, Schema: r.Schema, Object: r.Name,
			Kind: kindOf(r), Role: secondOwner, Command: "insert", Cell: "rows 1", Probe: sql,
			Detail: fmt.Sprintf("a second tenant inserted a row whose %s points at a %s row they cannot see (the first owner's): nothing checks that the parent is theirs", c.Name, c.FK.Schema+"."+c.FK.Table)})
		return nil
	}
	return nil
}

// newestRowSQL reads a referenced value from the row inserted last (the
// highest transaction id): during the second owner's seeding, their own.
func newestRowSQL(col, table string) string {
	return fmt.Sprintf("select %s::text from %s where %s is not null order by (xmin::text)::bigint desc limit 1",
		col, table, col)
}
