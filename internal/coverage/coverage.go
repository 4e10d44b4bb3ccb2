// Package coverage reports, for every table, partitioned table, view and
// materialized view of the exposed schemas, how row level security covers
// what the API roles may do: whether RLS is enabled and forced, the
// policies per command and role, every privilege each API role holds
// (table and column level, directly, through role membership or through
// PUBLIC), and one verdict per object. It reads the catalog only.
package coverage

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/dbtool-dev/dbtool/internal/catalog"
	"github.com/dbtool-dev/dbtool/internal/sqltree"
)

// Verdicts: exactly one per object.
const (
	// Covered: RLS is on and every command an API role holds a privilege
	// for has a permissive policy that applies to that role. For a view with
	// security_invoker, the tables it reads apply their own RLS.
	Covered = "covered"
	// DenyByDefault: no API role holds a privilege on the object (with RLS
	// on, or off): it is deliberately closed to the API.
	DenyByDefault = "deny_by_default"
	// GrantedWithoutPolicy: RLS is on and an API role holds a command
	// privilege no policy covers; such requests are denied (SELECT, UPDATE
	// and DELETE see no rows, INSERT fails). Object.Uncovered lists them.
	GrantedWithoutPolicy = "granted_without_policy"
	// RowIndependent: RLS is on and every command is covered, but for
	// some privileged command every permissive policy reads no column of
	// the row (is_subscriber(), auth.role() = 'authenticated'): whoever
	// qualifies gets every row, all users' and tenants' alike. Not counted
	// as safe.
	RowIndependent = "row_independent"
	// ExposedWithoutRLS: an API role holds privileges on a table whose RLS
	// is off, on a view without security_invoker (it reads as its owner) or
	// on a materialized view (which ignores RLS).
	ExposedWithoutRLS = "exposed_without_rls"
	// PolicyRLSOff: the table has policies but RLS is disabled, so none of
	// them applies.
	PolicyRLSOff = "policy_rls_off"
)

// Verdicts lists every verdict, in report order.
var Verdicts = []string{Covered, DenyByDefault, GrantedWithoutPolicy, RowIndependent, ExposedWithoutRLS, PolicyRLSOff}

// Commands a policy can be written for; "all" covers the four others.
var Commands = []string{"select", "insert", "update", "delete"}

// Privileges checked for every API role.
var Privileges = []string{"SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER"}

// DefaultRoles are the roles verdicts are about when Run is given none.
var DefaultRoles = []string{"anon", "authenticated"}

// ServiceRole is reported in privileges too, but never decides a verdict: it
// bypasses RLS by design.
const ServiceRole = "service_role"

// Report is the result of Run.
type Report struct {
	Schemas []string       `json:"schemas"`
	Roles   []string       `json:"roles"` // the roles verdicts are about
	Objects []Object       `json:"objects"`
	Totals  map[string]int `json:"totals"` // objects per verdict (every verdict present)
	Total   int            `json:"total"`
	// Percent is covered + deny_by_default over all objects (100 when
	// there are none).
	Percent float64 `json:"percent"`
}

// Object is one relation's coverage.
type Object struct {
	Schema string `json:"schema"`
	Name   string `json:"name"`
	// Kind: table, partitioned table, view or materialized view.
	Kind string `json:"kind"`
	// Partition names the parent when the object is a partition (reported
	// only when an API role holds a privilege on it: it can be queried
	// directly, with its own RLS settings).
	Partition       string      `json:"partition_of,omitempty"`
	RLSEnabled      bool        `json:"rls_enabled"`
	RLSForced       bool        `json:"rls_forced"`
	SecurityInvoker bool        `json:"security_invoker"` // views only
	Policies        []Policy    `json:"policies"`
	Privileges      []Privilege `json:"privileges"`
	Access          []Access    `json:"access"` // per role and command (tables and partitioned tables)
	Verdict         string      `json:"verdict"`
	// Uncovered lists "role command" pairs a privilege allows and no policy
	// does (granted_without_policy).
	Uncovered []string `json:"uncovered,omitempty"`
	// Notes explain the verdict and flag what it cannot express (e.g.
	// TRUNCATE, which RLS does not govern).
	Notes []string `json:"notes,omitempty"`

	columns []string // the relation's columns (row independence)
}

// Display is schema.name.
func (o Object) Display() string { return o.Schema + "." + o.Name }

// Policy is one policy of a table.
type Policy struct {
	Name       string   `json:"name"`
	Command    string   `json:"command"` // select, insert, update, delete or all
	Permissive bool     `json:"permissive"`
	Roles      []string `json:"roles"` // "public" for PUBLIC
	Using      string   `json:"using,omitempty"`
	WithCheck  string   `json:"with_check,omitempty"`
	// AppliesTo lists the API roles the policy applies to (directly,
	// through membership, or through PUBLIC).
	AppliesTo []string `json:"applies_to"`
}

// Privilege is one privilege an API role holds, however it got it.
type Privilege struct {
	Role      string `json:"role"`
	Privilege string `json:"privilege"`
	// Columns is set when the role holds the privilege on some columns
	// only (column-level grant); empty means the whole table.
	Columns []string `json:"columns,omitempty"`
}

// Access is what one role may do with one command on a table: whether it
// holds the privilege and which policies apply.
type Access struct {
	Role        string   `json:"role"`
	Command     string   `json:"command"`
	Privileged  bool     `json:"privileged"`
	Permissive  []string `json:"permissive"`
	Restrictive []string `json:"restrictive"`
	// Covered: privileged and at least one permissive policy applies with
	// the expression the command uses.
	Covered bool `json:"covered"`
}

// Run builds the report for the relations of schemas (default public).
// roles are the untrusted API roles verdicts are about (default anon and
// authenticated); privileges are also listed for service_role. Roles that
// do not exist are left out.
func Run(ctx context.Context, q catalog.Querier, schemas []string, roles []string) (*Report, error) {
	if len(schemas) == 0 {
		schemas = []string{"public"}
	}
	if len(roles) == 0 {
		roles = DefaultRoles
	}
	roles, err := existingRoles(ctx, q, roles)
	if err != nil {
		return nil, err
	}
	privRoles := append([]string(nil), roles...)
	if !contains(privRoles, ServiceRole) {
		more, err := existingRoles(ctx, q, []string{ServiceRole})
		if err != nil {
			return nil, err
		}
		privRoles = append(privRoles, more...)
	}
	objs, err := relations(ctx, q, schemas, privRoles, roles)
	if err != nil {
		return nil, err
	}
	rep := &Report{Schemas: schemas, Roles: roles, Objects: objs, Totals: map[string]int{}}
	for _, v := range Verdicts {
		rep.Totals[v] = 0
	}
	if err := readColumns(ctx, q, schemas, rep.Objects); err != nil {
		return nil, err
	}
	for i := range rep.Objects {
		decide(&rep.Objects[i], roles)
		rep.Totals[rep.Objects[i].Verdict]++
	}
	rep.Total = len(rep.Objects)
	rep.Percent = 100
	if rep.Total > 0 {
		ok := rep.Totals[Covered] + rep.Totals[DenyByDefault]
		rep.Percent = float64(ok) * 100 / float64(rep.Total)
	}
	sort.SliceStable(rep.Objects, func(i, j int) bool {
		a, b := rep.Objects[i], rep.Objects[j]
		if a.Schema != b.Schema {
			return a.Schema < b.Schema
		}
		return a.Name < b.Name
	})
	return rep, nil
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

func existingRoles(ctx context.Context, q catalog.Querier, roles []string) ([]string, error) {
	rows, err := q.Query(ctx, `select r from unnest($1::text[]) with ordinality u(r, o)
		where exists (select 1 from pg_roles where rolname = r) order by o`, roles)
	if err != nil {
		return nil, err
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, err
	}
	if out == nil {
		out = []string{}
	}
	return out, nil
}

// relationsSQL lists relations with their privileges and policies. A
// partition is listed only when an API role holds a privilege on it.
const relationsSQL = `
with rel as materialized (
  select c.oid, n.nspname, c.relname, c.relkind, c.relrowsecurity, c.relforcerowsecurity, c.relispartition,
         coalesce((select lower(o.option_value) in ('on', 'true', 'yes', '1')
                   from pg_options_to_table(c.reloptions) o where o.option_name = 'security_invoker'), false) as invoker,
         (select pn.nspname || '.' || pc.relname from pg_inherits i join pg_class pc on pc.oid = i.inhparent
          join pg_namespace pn on pn.oid = pc.relnamespace where c.relispartition and i.inhrelid = c.oid) as parent
  from pg_class c
  join pg_namespace n on n.oid = c.relnamespace
  where n.nspname = any($1::text[]) and c.relkind in ('r', 'p', 'v', 'm')
    and not exists (select 1 from pg_depend e where e.classid = 'pg_class'::regclass and e.objid = c.oid and e.deptype = 'e')
), priv as materialized (
  select rel.oid, r.rolname, p.priv, p.ord,
         has_table_privilege(r.oid, rel.oid, p.priv) as whole,
         p.priv in ('SELECT', 'INSERT', 'UPDATE', 'REFERENCES') and has_any_column_privilege(r.oid, rel.oid, p.priv) as anycol
  from rel
  cross join pg_roles r
  cross join unnest(array['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) with ordinality p(priv, ord)
  where r.rolname = any($2::text[])
), held as (
  select p.oid,
         array_agg(p.rolname order by p.rolname, p.ord) as roles,
         array_agg(p.priv order by p.rolname, p.ord) as privs,
         json_agg(case when p.whole then '[]'::json
                  else (select coalesce(json_agg(a.attname order by a.attnum), '[]'::json) from pg_attribute a
                        where a.attrelid = p.oid and a.attnum > 0 and not a.attisdropped
                          and has_column_privilege(p.rolname, p.oid, a.attnum, p.priv)) end
                  order by p.rolname, p.ord) as cols,
         bool_or(p.rolname = any($3::text[])) as api
  from priv p
  where p.whole or p.anycol
  group by p.oid
)
select rel.oid, rel.nspname, rel.relname,
       case rel.relkind when 'r' then 'table' when 'p' then 'partitioned table' when 'v' then 'view' else 'materialized view' end,
       rel.relrowsecurity, rel.relforcerowsecurity, rel.relkind = 'v' and rel.invoker, coalesce(rel.parent, ''),
       coalesce(h.roles, '{}'), coalesce(h.privs, '{}'), coalesce(h.cols, '[]'::json)
from rel
left join held h on h.oid = rel.oid
where not rel.relispartition or coalesce(h.api, false)
order by rel.nspname, rel.relname`

const policiesSQL = `
select p.polrelid, p.polname,
       case p.polcmd when 'r' then 'select' when 'a' then 'insert' when 'w' then 'update' when 'd' then 'delete' else 'all' end,
       p.polpermissive,
       case when p.polroles = '{0}' then array['public']
            else array(select pg_get_userbyid(x) from unnest(p.polroles) x order by 1) end,
       coalesce(pg_get_expr(p.polqual, p.polrelid), ''), coalesce(pg_get_expr(p.polwithcheck, p.polrelid), ''),
       coalesce(array(select r.rolname from pg_roles r where r.rolname = any($2::text[])
                        and exists (select 1 from unnest(p.polroles) pr where pr = 0 or pg_has_role(r.oid, pr, 'usage'))
                      order by r.rolname), '{}')
from pg_policy p
join pg_class c on c.oid = p.polrelid
join pg_namespace n on n.oid = c.relnamespace
where n.nspname = any($1::text[])
order by p.polrelid, p.polname`

func relations(ctx context.Context, q catalog.Querier, schemas, privRoles, roles []string) ([]Object, error) {
	rows, err := q.Query(ctx, relationsSQL, schemas, privRoles, roles)
	if err != nil {
		return nil, fmt.Errorf("coverage: relations: %w", err)
	}
	var objs []Object
	byOID := map[uint32]int{}
	for rows.Next() {
		var o Object
		var oid uint32
		var privRole, privName []string
		var privCols [][]string
		if err := rows.Scan(&oid, &o.Schema, &o.Name, &o.Kind, &o.RLSEnabled, &o.RLSForced, &o.SecurityInvoker, &o.Partition,
			&privRole, &privName, &privCols); err != nil {
			rows.Close()
			return nil, err
		}
		o.Privileges = []Privilege{}
		for i := range privRole {
			p := Privilege{Role: privRole[i], Privilege: privName[i]}
			if len(privCols[i]) > 0 {
				p.Columns = privCols[i]
			}
			o.Privileges = append(o.Privileges, p)
		}
		o.Policies = []Policy{}
		byOID[oid] = len(objs)
		objs = append(objs, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("coverage: relations: %w", err)
	}
	rows, err = q.Query(ctx, policiesSQL, schemas, roles)
	if err != nil {
		return nil, fmt.Errorf("coverage: policies: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var oid uint32
		var p Policy
		if err := rows.Scan(&oid, &p.Name, &p.Command, &p.Permissive, &p.Roles, &p.Using, &p.WithCheck, &p.AppliesTo); err != nil {
			return nil, err
		}
		if i, ok := byOID[oid]; ok {
			objs[i].Policies = append(objs[i].Policies, p)
		}
	}
	return objs, rows.Err()
}

// commandPrivilege maps a command to the privilege it needs.
var commandPrivilege = map[string]string{"select": "SELECT", "insert": "INSERT", "update": "UPDATE", "delete": "DELETE"}

// grants reports whether the policy, permissive, lets command through: it
// must be written for the command (or all) and carry the expression the
// command uses (a policy without it contributes nothing).
func grants(p Policy, command string) bool {
	if p.Command != command && p.Command != "all" {
		return false
	}
	if command == "insert" {
		return p.WithCheck != "" || (p.Command == "all" && p.Using != "")
	}
	return p.Using != ""
}

func (o *Object) holds(role string, privileges ...string) bool {
	for _, p := range o.Privileges {
		if p.Role != role {
			continue
		}
		for _, want := range privileges {
			if p.Privilege == want {
				return true
			}
		}
	}
	return false
}

// decide fills Access and sets the verdict from privileges and policies.
func decide(o *Object, roles []string) {
	o.Access = []Access{}
	anyPriv := false
	for _, r := range roles {
		if o.holds(r, Privileges...) {
			anyPriv = true
		}
	}
	switch o.Kind {
	case catalog.KindView:
		switch {
		case !anyPriv:
			o.Verdict = DenyByDefault
		case o.SecurityInvoker:
			o.Verdict = Covered
			o.Notes = append(o.Notes, "security_invoker view: the row level security of the tables it reads applies to the caller")
		default:
			o.Verdict = ExposedWithoutRLS
			o.Notes = append(o.Notes, "view without security_invoker: it reads its tables with its owner's rights")
		}
		return
	case catalog.KindMatView:
		if anyPriv {
			o.Verdict = ExposedWithoutRLS
			o.Notes = append(o.Notes, "materialized views ignore row level security")
		} else {
			o.Verdict = DenyByDefault
		}
		return
	}
	for _, r := range roles {
		for _, cmd := range Commands {
			a := Access{Role: r, Command: cmd, Privileged: o.holds(r, commandPrivilege[cmd]), Permissive: []string{}, Restrictive: []string{}}
			for _, p := range o.Policies {
				if !contains(p.AppliesTo, r) || (p.Command != cmd && p.Command != "all") {
					continue
				}
				if p.Permissive {
					a.Permissive = append(a.Permissive, p.Name)
					if grants(p, cmd) {
						a.Covered = a.Privileged
					}
				} else {
					a.Restrictive = append(a.Restrictive, p.Name)
				}
			}
			if a.Privileged && !a.Covered {
				o.Uncovered = append(o.Uncovered, r+" "+cmd)
			}
			o.Access = append(o.Access, a)
		}
		for _, p := range []string{"TRUNCATE", "REFERENCES", "TRIGGER"} {
			if o.holds(r, p) {
				o.Notes = append(o.Notes, fmt.Sprintf("%s holds %s, which row level security does not govern", r, p))
			}
		}
	}
	switch {
	case !o.RLSEnabled && len(o.Policies) > 0:
		o.Verdict = PolicyRLSOff
		o.Uncovered = nil
	case !o.RLSEnabled && anyPriv:
		o.Verdict = ExposedWithoutRLS
		o.Uncovered = nil
	case !o.RLSEnabled:
		o.Verdict = DenyByDefault
		o.Uncovered = nil
		o.Notes = append(o.Notes, "row level security is off, but no API role holds a privilege")
	case len(o.Uncovered) > 0:
		o.Verdict = GrantedWithoutPolicy
	case !anyCommandPrivilege(o, roles):
		o.Verdict = DenyByDefault
	default:
		o.Verdict = Covered
		if why := rowIndependent(o); why != "" {
			o.Verdict = RowIndependent
			o.Notes = append(o.Notes, why)
		}
	}
}

// rowIndependent names a privileged select, update or delete whose every
// permissive policy reads no column of the row, or "".
func rowIndependent(o *Object) string {
	for _, a := range o.Access {
		if !a.Privileged || !a.Covered || a.Command == "insert" {
			continue
		}
		all := len(a.Permissive) > 0
		for _, name := range a.Permissive {
			for _, p := range o.Policies {
				if p.Name == name && !sqltree.RowIndependent(p.Using, o.Name, o.columns) {
					all = false
				}
			}
		}
		if all {
			return fmt.Sprintf("%s %s: policies %s read no column of the row: whoever qualifies gets every row", a.Role, a.Command, strings.Join(a.Permissive, ", "))
		}
	}
	return ""
}

// readColumns fills each object's column names.
func readColumns(ctx context.Context, q catalog.Querier, schemas []string, objs []Object) error {
	rows, err := q.Query(ctx, `select n.nspname || '.' || c.relname, array_agg(a.attname::text order by a.attnum)
		from pg_class c join pg_namespace n on n.oid = c.relnamespace
		join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
		where n.nspname = any($1) and c.relkind in ('r', 'p')
		group by 1`, schemas)
	if err != nil {
		return err
	}
	cols := map[string][]string{}
	for rows.Next() {
		var k string
		var v []string
		if err := rows.Scan(&k, &v); err != nil {
			rows.Close()
			return err
		}
		cols[k] = v
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for i := range objs {
		objs[i].columns = cols[objs[i].Display()]
	}
	return nil
}

func anyCommandPrivilege(o *Object, roles []string) bool {
	for _, r := range roles {
		if o.holds(r, "SELECT", "INSERT", "UPDATE", "DELETE") {
			return true
		}
	}
	return false
}
