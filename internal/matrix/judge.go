package matrix

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/dbtool-dev/dbtool/internal/catalog"
	"github.com/dbtool-dev/dbtool/internal/sqltree"
)

// Judgement is a matrix cell (or an attack probe) that breaks one of the
// built-in expectations, which need no reviewed ACCESS.md:
//   - a signed-in stranger (owns nothing) must not read or change the owner's
//     rows, unless the table is public by design (then: "public read", info);
//   - anon must not change rows;
//   - a signed-in user must not create rows owned by someone else, nor raise
//     an authority column (role, is_admin, plan, credits...) on their own row;
//   - service_role can do what its grants say;
//   - seeding a table must not fail for a reason other than a constraint
//     (a type mismatch in a trigger, recursion, a missing partition).
//
// Levels follow the lint contract: error is exploitable through the API
// today by anon or an ordinary signed-in user, and the cell is the proof.
type Judgement struct {
	Rule    string `json:"rule"`
	Level   string `json:"level"` // error, warn, info
	Schema  string `json:"schema"`
	Object  string `json:"object"`
	Kind    string `json:"kind"`
	Role    string `json:"role,omitempty"`
	Command string `json:"command,omitempty"`
	Cell    string `json:"cell,omitempty"` // the confirming outcome, e.g. "rows 1"
	Detail  string `json:"detail"`
	Probe   string `json:"probe,omitempty"` // the SQL an attack probe ran
}

// Display is schema.object.
func (j Judgement) Display() string { return j.Schema + "." + j.Object }

func (j Judgement) String() string {
	s := fmt.Sprintf("%s %s %s", j.Level, j.Rule, j.Display())
	if j.Role != "" {
		s += fmt.Sprintf(" (%s %s: %s)", j.Role, j.Command, j.Cell)
	}
	return s + ": " + j.Detail
}

// Rules of the judge, for docs and lint.
const (
	JudgeStrangerReads   = "matrix_stranger_reads_owner_rows"
	JudgeStrangerWrites  = "matrix_stranger_changes_owner_rows"
	JudgeAnonWrites      = "matrix_anon_writes"
	JudgeSpoofOwner      = "matrix_insert_as_another_user"
	JudgeRaiseAuthority  = "matrix_owner_raises_authority"
	JudgeServiceDenied   = "matrix_service_role_denied"
	JudgeSeedingFails    = "matrix_seeding_fails"
	judgeLevelError      = "error"
	judgeLevelWarn       = "warn"
	judgeLevelInfo       = "info"
	authorityColumnNames = `^(role|roles|user_role|app_role|is_admin|admin|is_super_?admin|is_staff|staff|is_owner|permissions?|plan|tier|subscription_(tier|plan|status)|credits?|balance|is_verified|verified|email_verified|approved|is_approved|is_premium|premium|banned|is_banned)$`
)

var authorityColumn = regexp.MustCompile(authorityColumnNames)

// judge runs the attack probes and applies the built-in expectations.
func (p *prober) judge(ctx context.Context, rels []catalog.Relation, m *Matrix) error {
	if err := p.reset(ctx); err != nil {
		return err
	}
	cells := map[string]Cell{}
	for _, c := range m.Cells {
		cells[c.Role+" "+c.Key()] = c
	}
	public, err := p.publicByDesign(ctx)
	if err != nil {
		return err
	}
	hasPersona := map[string]bool{}
	for _, ps := range p.personas {
		hasPersona[ps.Name] = true
	}
	for _, r := range rels {
		if r.IsPartition || (r.Kind != catalog.KindTable && r.Kind != catalog.KindPartitioned && r.Kind != catalog.KindView) {
			continue
		}
		owner := cells["owner "+r.Schema+"."+r.Name+" select"]
		ownerRows := owner.Outcome == Rows
		get := func(role, cmd string) (Cell, bool) {
			c, ok := cells[role+" "+r.Schema+"."+r.Name+" "+cmd]
			return c, ok
		}
		j := func(rule, level string, c Cell, detail string) {
			m.Judgements = append(m.Judgements, Judgement{Rule: rule, Level: level, Schema: r.Schema, Object: r.Name, Kind: kindOf(r),
				Role: c.Role, Command: c.Command, Cell: c.Label(), Detail: detail})
		}
		// Rows the stranger's own sign-up made (their profile) are theirs.
		mine := p.own["stranger"][r.Display()]
		if c, ok := get("stranger", "select"); ok && c.Outcome == Rows && *c.Rows > mine && ownerRows && hasPersona["stranger"] {
			if why, ok := public[r.Display()]; ok {
				j(JudgeStrangerReads, judgeLevelInfo, c, "public read: "+why)
			} else if a, ok := get("anon", "select"); ok && a.Outcome == Rows {
				j(JudgeStrangerReads, judgeLevelInfo, c, "public read: anon reads the rows too")
			} else if why, err := p.readByDesign(ctx, r, *c.Rows); err != nil {
				return err
			} else if why != "" {
				j(JudgeStrangerReads, judgeLevelInfo, c, why)
			} else {
				j(JudgeStrangerReads, judgeLevelError, c, fmt.Sprintf("a signed-in user who owns nothing reads %d of the owner's rows", *c.Rows-mine))
			}
		}
		for _, cmd := range []string{"update", "delete"} {
			if c, ok := get("stranger", cmd); ok && c.Outcome == Rows && *c.Rows > mine && hasPersona["stranger"] {
				j(JudgeStrangerWrites, judgeLevelError, c, fmt.Sprintf("a signed-in user who owns nothing can %s the owner's rows (%d rows)", cmd, *c.Rows))
			}
			if c, ok := get("anon", cmd); ok && c.Outcome == Rows {
				j(JudgeAnonWrites, judgeLevelError, c, fmt.Sprintf("anyone without an account can %s rows (%d rows)", cmd, *c.Rows))
			}
		}
		if c, ok := get("anon", "insert"); ok && c.Outcome == Rows {
			if err := p.reset(ctx); err != nil {
				return err
			}
			owned, err := p.ownerColumns(ctx, r)
			if err != nil {
				return err
			}
			if len(owned) > 0 {
				j(JudgeAnonWrites, judgeLevelWarn, c, "anyone without an account can insert rows into a table of user data ("+strings.Join(owned, ", ")+")")
			} else {
				j(JudgeAnonWrites, judgeLevelInfo, c, "anyone without an account can insert rows (a guestbook or contact form by design?)")
			}
		}
		if r.Kind == catalog.KindView {
			continue
		}
		// service_role can do what its grants say.
		for _, cmd := range []string{"select", "insert", "update", "delete"} {
			c, ok := get("service_role", cmd)
			if !ok || c.Outcome != Denied {
				continue
			}
			var has bool
			if err := p.reset(ctx); err != nil {
				return err
			}
			if err := p.conn.QueryRow(ctx, "select has_table_privilege('service_role', $1::oid, $2)", r.OID, cmd).Scan(&has); err != nil {
				return err
			}
			if has {
				j(JudgeServiceDenied, judgeLevelWarn, c, "service_role holds "+strings.ToUpper(cmd)+" but is denied: "+c.Message)
			}
		}
		if err := p.probeSpoof(ctx, r, get, m); err != nil {
			return err
		}
		if err := p.probeRaise(ctx, r, get, m); err != nil {
			return err
		}
	}
	// Tables whose rows the stranger already reads or changes (a finding,
	// or public by design) are not judged again for the second tenant.
	flagged := map[string]bool{}
	for _, x := range m.Judgements {
		if x.Rule == JudgeStrangerReads || x.Rule == JudgeStrangerWrites {
			flagged[x.Display()] = true
		}
	}
	if err := p.secondTenant(ctx, rels, m, public, flagged); err != nil {
		return err
	}
	for rel, why := range m.UnseededWhy {
		code := sqlstateIn(why)
		switch {
		case code == "42804" || code == "22P02" || code == "42P17" || code == "42883" || code == "42703" ||
			strings.Contains(why, "no partition of relation"):
			schema, name, _ := strings.Cut(rel, ".")
			m.Judgements = append(m.Judgements, Judgement{Rule: JudgeSeedingFails, Level: judgeLevelWarn, Schema: schema, Object: name, Kind: "table",
				Detail: "inserting a row fails for a reason no constraint explains (a trigger or default is broken for every writer): " + why})
		}
	}
	sort.SliceStable(m.Judgements, func(i, k int) bool {
		a, b := m.Judgements[i], m.Judgements[k]
		if rankLevel(a.Level) != rankLevel(b.Level) {
			return rankLevel(a.Level) > rankLevel(b.Level)
		}
		return a.Display()+a.Role+a.Command < b.Display()+b.Role+b.Command
	})
	return nil
}

func rankLevel(l string) int {
	switch l {
	case judgeLevelError:
		return 3
	case judgeLevelWarn:
		return 2
	}
	return 1
}

var sqlstateRe = regexp.MustCompile(`SQLSTATE ([0-9A-Z]{5})`)

func sqlstateIn(s string) string {
	if m := sqlstateRe.FindStringSubmatch(s); m != nil {
		return m[1]
	}
	return ""
}

// publicByDesign: relations with a permissive SELECT policy whose USING is
// true for anon, authenticated or PUBLIC.
func (p *prober) publicByDesign(ctx context.Context) (map[string]string, error) {
	rows, err := p.conn.Query(ctx, `
		select n.nspname || '.' || c.relname, pol.polname
		from pg_policy pol join pg_class c on c.oid = pol.polrelid join pg_namespace n on n.oid = c.relnamespace
		where pol.polcmd in ('r', '*') and pol.polpermissive
		  and coalesce(pg_get_expr(pol.polqual, pol.polrelid), 'true') in ('true', '(true)')
		  and (0 = any(pol.polroles) or exists (select 1 from pg_roles r where r.oid = any(pol.polroles) and r.rolname in ('anon', 'authenticated')))
		  and n.nspname = any($1)`, p.opts.Schemas)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for rows.Next() {
		var rel, pol string
		if err := rows.Scan(&rel, &pol); err != nil {
			rows.Close()
			return nil, err
		}
		out[rel] = "policy " + pol + " is USING (true)"
	}
	return out, rows.Err()
}

// probeSpoof: a stranger who may insert tries to insert a row owned by the
// owner (the owner's id in every column referencing auth.users, and in
// columns whose default is auth.uid()). Success means any user can create
// rows in someone else's name.
func (p *prober) probeSpoof(ctx context.Context, r catalog.Relation, get func(string, string) (Cell, bool), m *Matrix) error {
	c, ok := get("stranger", "insert")
	if !ok || c.Outcome != Rows || p.ownerID == "" {
		return nil
	}
	var stranger persona
	for _, ps := range p.personas {
		if ps.Name == "stranger" {
			stranger = ps
		}
	}
	if stranger.id == "" {
		return nil
	}
	if err := p.reset(ctx); err != nil {
		return err
	}
	ownerCols, err := p.ownerColumns(ctx, r)
	if err != nil || len(ownerCols) == 0 {
		return err
	}
	sql, ok := p.insertSQL(r, 3, p.ownerID)
	if !ok {
		return nil
	}
	sql = withColumns(sql, ownerCols, quote(p.ownerID))
	if _, err := p.result(ctx, stranger, sql); err != nil {
		return nil // refused: the expectation holds
	}
	m.Judgements = append(m.Judgements, Judgement{Rule: JudgeSpoofOwner, Level: judgeLevelError, Schema: r.Schema, Object: r.Name, Kind: "table",
		Role: "stranger", Command: "insert", Cell: "rows 1", Probe: sql,
		Detail: "a signed-in user inserted a row with another user's id in " + strings.Join(ownerCols, ", ") +
			": nothing binds the owner column to auth.uid() (WITH CHECK or column privileges)"})
	return nil
}

// readByDesign explains a stranger's read by the permissive SELECT policies
// for signed-in users that never ask who reads (is_active = true, status =
// 'published'; sqltree.CallerIndependent): when they select at least the
// rows read, every signed-in user was meant to read them (a catalogue).
// "" when they do not explain it.
func (p *prober) readByDesign(ctx context.Context, r catalog.Relation, read int64) (string, error) {
	if err := p.reset(ctx); err != nil {
		return "", err
	}
	owners, err := p.ownerColumns(ctx, r)
	if err != nil {
		return "", err
	}
	rows, err := p.conn.Query(ctx, `
		select pol.polname, pg_get_expr(pol.polqual, pol.polrelid) from pg_policy pol
		where pol.polrelid = $1 and pol.polcmd in ('r', '*') and pol.polpermissive and pol.polqual is not null
		  and (0 = any(pol.polroles) or exists (select 1 from pg_roles r where r.oid = any(pol.polroles) and r.rolname = 'authenticated'))
		order by pol.polname`, r.OID)
	if err != nil {
		return "", err
	}
	var names, exprs []string
	for rows.Next() {
		var name, expr string
		if err := rows.Scan(&name, &expr); err != nil {
			rows.Close()
			return "", err
		}
		if sqltree.CallerIndependent(expr, owners) {
			names, exprs = append(names, name), append(exprs, expr)
		}
	}
	if err := rows.Err(); err != nil || len(exprs) == 0 {
		return "", err
	}
	var n int64
	if err := p.conn.QueryRow(ctx, fmt.Sprintf("select count(*) from %s where (%s)", r.QualifiedName(), strings.Join(exprs, ") or ("))).Scan(&n); err != nil {
		return "", p.reset(ctx) // cannot tell: the read stays a finding
	}
	if n < read {
		return "", nil
	}
	return fmt.Sprintf("read by design: %s lets every signed-in user read the rows where %s (it never asks who reads)",
		plural("policy", "policies", names), strings.Join(exprs, " or ")), nil
}

// plural names things after a singular or plural noun.
func plural(one, many string, names []string) string {
	if len(names) == 1 {
		return one + " " + names[0]
	}
	return many + " " + strings.Join(names, ", ")
}

// ownerColumns: columns referencing auth.users(id) or defaulting to
// auth.uid().
func (p *prober) ownerColumns(ctx context.Context, r catalog.Relation) ([]string, error) {
	rows, err := p.conn.Query(ctx, `
		select a.attname from pg_attribute a
		where a.attrelid = $1 and a.attnum > 0 and not a.attisdropped and a.atttypid = 'uuid'::regtype
		  and (exists (select 1 from pg_constraint k where k.conrelid = a.attrelid and k.contype = 'f' and a.attnum = any(k.conkey)
		                 and k.confrelid = to_regclass('auth.users'))
		       or exists (select 1 from pg_attrdef d where d.adrelid = a.attrelid and d.adnum = a.attnum
		                 and pg_get_expr(d.adbin, d.adrelid) ~ 'auth\.uid\(\)'))
		order by a.attnum`, r.OID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// withColumns sets cols to value in an "insert into t (...) values (...)"
// statement built by insertSQL.
func withColumns(sql string, cols []string, value string) string {
	if strings.HasSuffix(sql, " default values") {
		head := strings.TrimSuffix(sql, " default values")
		var ids, vals []string
		for _, c := range cols {
			ids, vals = append(ids, pgx.Identifier{c}.Sanitize()), append(vals, value)
		}
		return fmt.Sprintf("%s (%s) values (%s)", head, strings.Join(ids, ", "), strings.Join(vals, ", "))
	}
	open := strings.Index(sql, " (")
	mid := strings.Index(sql, ") values (")
	if open < 0 || mid < 0 {
		return sql
	}
	ids := strings.Split(sql[open+2:mid], ", ")
	vals := splitTop(sql[mid+len(") values (") : len(sql)-1])
	if len(ids) != len(vals) {
		return sql
	}
	for _, c := range cols {
		id := pgx.Identifier{c}.Sanitize()
		found := false
		for i := range ids {
			if ids[i] == id {
				vals[i], found = value+"::uuid", true
			}
		}
		if !found {
			ids, vals = append(ids, id), append(vals, value+"::uuid")
		}
	}
	return fmt.Sprintf("%s (%s) values (%s)", sql[:open], strings.Join(ids, ", "), strings.Join(vals, ", "))
}

// splitTop splits a value list on top-level commas (outside parentheses
// and quotes).
func splitTop(s string) []string {
	var out []string
	depth, start, inQ := 0, 0, false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\'':
			inQ = !inQ
		case '(':
			if !inQ {
				depth++
			}
		case ')':
			if !inQ {
				depth--
			}
		case ',':
			if !inQ && depth == 0 {
				out = append(out, strings.TrimSpace(s[start:i]))
				start = i + 1
			}
		}
	}
	return append(out, strings.TrimSpace(s[start:]))
}

// probeRaise: the owner, who may update their own rows, tries to raise an
// authority column (role, is_admin, plan, credits...) on them. Success is
// an error when policies or routines read that column to grant access (self
// escalation), a warning otherwise.
func (p *prober) probeRaise(ctx context.Context, r catalog.Relation, get func(string, string) (Cell, bool), m *Matrix) error {
	c, ok := get("owner", "update")
	if !ok || c.Outcome != Rows {
		return nil
	}
	var owner persona
	for _, ps := range p.personas {
		if ps.Name == "owner" {
			owner = ps
		}
	}
	for _, col := range r.Columns {
		if !authorityColumn.MatchString(col.Name) || col.Generated {
			continue
		}
		var may bool
		if err := p.reset(ctx); err != nil {
			return err
		}
		if err := p.conn.QueryRow(ctx, "select has_column_privilege($1, $2::oid, $3, 'UPDATE')", owner.Role, r.OID, col.Name).Scan(&may); err != nil {
			return err
		}
		if !may {
			continue
		}
		v := raisedValue(col)
		if v == "" {
			continue
		}
		id := pgx.Identifier{col.Name}.Sanitize()
		sql := fmt.Sprintf("update %s set %s = %s where %s is distinct from %s", r.QualifiedName(), id, v, id, v)
		res, err := p.result(ctx, owner, sql)
		if err != nil || res.CommandTag.RowsAffected() == 0 {
			continue
		}
		if err := p.reset(ctx); err != nil {
			return err
		}
		used, err := p.columnGrantsAccess(ctx, r.OID, col.Name)
		if err != nil {
			return err
		}
		level, why := judgeLevelWarn, "no policy or routine of the project reads it; check what the application does with it"
		if used != "" {
			level, why = judgeLevelError, used+" reads it"
		}
		m.Judgements = append(m.Judgements, Judgement{Rule: JudgeRaiseAuthority, Level: level, Schema: r.Schema, Object: r.Name, Kind: "table",
			Role: "owner", Command: "update", Cell: "rows " + strconv.FormatInt(res.CommandTag.RowsAffected(), 10), Probe: sql,
			Detail: fmt.Sprintf("a signed-in user set %s = %s on their own row; %s", col.Name, v, why)})
	}
	return nil
}

// reset leaves the last probe's savepoint (its transaction may be
// aborted) before a catalog read between probes; probes start from it
// again anyway.
func (p *prober) reset(ctx context.Context) error {
	_, err := p.conn.Exec(ctx, "rollback to savepoint dbtool_probe")
	return err
}

// raisedValue is a value that would raise an authority column.
func raisedValue(c catalog.Column) string {
	switch {
	case c.TypeKind == "e" && len(c.EnumLabels) > 0:
		for _, l := range c.EnumLabels {
			if regexp.MustCompile(`(?i)admin|owner|super|premium|pro|enterprise`).MatchString(l) {
				return quote(l) + "::" + c.Type
			}
		}
		return quote(c.EnumLabels[len(c.EnumLabels)-1]) + "::" + c.Type
	case c.Category == "B":
		return "true"
	case c.Category == "N":
		return "1000000"
	case c.Category == "S":
		for _, chk := range c.Checks {
			listed, other := sqltree.CheckValues(chk, c.Name)
			for _, lit := range append(listed, other...) {
				if regexp.MustCompile(`(?i)admin|owner|super|premium|pro|enterprise`).MatchString(lit) {
					return quote(lit)
				}
			}
		}
		if len(c.Checks) == 0 {
			return "'admin'"
		}
	}
	return ""
}

// columnGrantsAccess names what reads a column of that name to decide
// something, or "": a policy's USING, another table's policy's WITH CHECK
// (the table's own WITH CHECK that keeps the column unchanged is a guard,
// not a use), else a SQL or PL/pgSQL routine of the project (a trigger that
// spends credits, a helper that checks a role). Textual: the column name as
// a whole word in the deparsed expression or the routine's source.
func (p *prober) columnGrantsAccess(ctx context.Context, rel uint32, col string) (string, error) {
	var used *string
	err := p.conn.QueryRow(ctx, `
		select what from (
		  select 1 as k, 'policy ' || pol.polname || ' on ' || pol.polrelid::regclass::text as what
		  from pg_policy pol
		  where coalesce(pg_get_expr(pol.polqual, pol.polrelid), '') ~ ('\m' || $2 || '\M')
		     or (pol.polrelid <> $1 and coalesce(pg_get_expr(pol.polwithcheck, pol.polrelid), '') ~ ('\m' || $2 || '\M'))
		  union all
		  select 2, 'routine ' || p.oid::regprocedure::text
		  from pg_proc p join pg_namespace n on n.oid = p.pronamespace
		  where p.prolang in (select oid from pg_language where lanname in ('sql', 'plpgsql'))
		    and n.nspname not in ('pg_catalog', 'information_schema', 'auth', 'storage', 'realtime', 'extensions', 'graphql', 'graphql_public', 'vault', 'pgsodium', 'cron', 'net', 'supabase_functions', 'dbtool')
		    and n.nspname not like 'pg\_%'
		    and not exists (select 1 from pg_depend d where d.classid = 'pg_proc'::regclass and d.objid = p.oid and d.deptype = 'e')
		    and p.prosrc ~ ('\m' || $2 || '\M')
		) u order by k, what limit 1`, rel, col).Scan(&used)
	if err != nil {
		if err == pgx.ErrNoRows {
			return "", nil
		}
		return "", err
	}
	if used == nil {
		return "", nil
	}
	return *used, nil
}

// JudgedErrors counts the error-level judgements.
func JudgedErrors(m *Matrix) int {
	n := 0
	for _, j := range m.Judgements {
		if j.Level == judgeLevelError {
			n++
		}
	}
	return n
}
