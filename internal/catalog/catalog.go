// Package catalog reads PostgreSQL's system catalogs: one reader per object
// kind, shared by the access matrix, coverage and lint.
package catalog

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// Querier is what the readers need (a *pgx.Conn or a pgx.Tx).
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// Relation kinds.
const (
	KindTable       = "table"
	KindPartitioned = "partitioned table"
	KindView        = "view"
	KindMatView     = "materialized view"
	KindForeign     = "foreign table"
)

// Relation is a table, view or materialized view.
type Relation struct {
	OID         uint32
	Schema      string
	Name        string
	Kind        string
	Owner       string
	RLS         bool // row level security enabled
	ForceRLS    bool
	IsPartition bool
	Columns     []Column
}

// QualifiedName is schema.name, quoted where needed.
func (r Relation) QualifiedName() string {
	return pgx.Identifier{r.Schema, r.Name}.Sanitize()
}

// Display is schema.name unquoted, for reports.
func (r Relation) Display() string { return r.Schema + "." + r.Name }

// Column is one column of a relation.
type Column struct {
	Name       string
	Type       string // format_type
	BaseType   string // for domains: the base type; else Type
	TypeKind   string // pg_type.typtype of the base type: b, e (enum), r (range), c (composite), ...
	Category   string // pg_type.typcategory of the base type
	NotNull    bool
	HasDefault bool
	Identity   string // '', 'a' (always), 'd' (by default)
	Generated  bool
	EnumLabels []string
	Checks     []string // definitions of CHECK constraints that mention the column
	CheckNames []string // their names (same order; domain checks last)
	FK         *ForeignKey
}

// ForeignKey is the column a column references (the column's place in the
// narrowest foreign key that includes it).
type ForeignKey struct {
	Schema, Table, Column string
}

// Relations lists the relations of schemas with their columns.
func Relations(ctx context.Context, q Querier, schemas []string) ([]Relation, error) {
	rows, err := q.Query(ctx, `
		select c.oid, n.nspname, c.relname,
		       case c.relkind when 'r' then 'table' when 'p' then 'partitioned table' when 'v' then 'view'
		                      when 'm' then 'materialized view' when 'f' then 'foreign table' end,
		       pg_get_userbyid(c.relowner), c.relrowsecurity, c.relforcerowsecurity, c.relispartition
		from pg_class c join pg_namespace n on n.oid = c.relnamespace
		where n.nspname = any($1) and c.relkind in ('r', 'p', 'v', 'm', 'f')
		  and not exists (select 1 from pg_depend d where d.classid = 'pg_class'::regclass and d.objid = c.oid and d.deptype = 'e')
		order by n.nspname, c.relname`, schemas)
	if err != nil {
		return nil, err
	}
	rels, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Relation, error) {
		var x Relation
		err := r.Scan(&x.OID, &x.Schema, &x.Name, &x.Kind, &x.Owner, &x.RLS, &x.ForceRLS, &x.IsPartition)
		return x, err
	})
	if err != nil {
		return nil, err
	}
	if len(rels) == 0 {
		return rels, nil
	}
	oids := make([]uint32, len(rels))
	idx := map[uint32]int{}
	for i, r := range rels {
		oids[i] = r.OID
		idx[r.OID] = i
	}
	rows, err = q.Query(ctx, `
		select a.attrelid, a.attname, format_type(a.atttypid, a.atttypmod),
		       format_type(coalesce(nullif(t.typbasetype, 0), t.oid), null), bt.typtype, bt.typcategory,
		       a.attnotnull or t.typnotnull, a.atthasdef or t.typdefault is not null, a.attidentity, a.attgenerated <> '',
		       coalesce((select array_agg(e.enumlabel order by e.enumsortorder) from pg_enum e where e.enumtypid = bt.oid), '{}'),
		       coalesce((select array_agg(pg_get_constraintdef(k.oid) order by k.conname) from pg_constraint k
		                 where k.conrelid = a.attrelid and k.contype = 'c' and a.attnum = any(k.conkey)), '{}')
		         || coalesce((select array_agg(pg_get_constraintdef(k.oid) order by k.conname) from pg_constraint k
		                 where k.contypid = t.oid and k.contype = 'c'), '{}'),
		       coalesce((select array_agg(k.conname::text order by k.conname) from pg_constraint k
		                 where k.conrelid = a.attrelid and k.contype = 'c' and a.attnum = any(k.conkey)), '{}')
		         || coalesce((select array_agg(k.conname::text order by k.conname) from pg_constraint k
		                 where k.contypid = t.oid and k.contype = 'c'), '{}'),
		       fk.nspname, fk.relname, fk.attname
		from pg_attribute a
		join pg_type t on t.oid = a.atttypid
		join pg_type bt on bt.oid = coalesce(nullif(t.typbasetype, 0), t.oid)
		left join lateral (
		  select rn.nspname, rc.relname, ra.attname
		  from pg_constraint k
		  join pg_class rc on rc.oid = k.confrelid join pg_namespace rn on rn.oid = rc.relnamespace
		  join pg_attribute ra on ra.attrelid = k.confrelid and ra.attnum = k.confkey[array_position(k.conkey, a.attnum)]
		  where k.conrelid = a.attrelid and k.contype = 'f' and a.attnum = any(k.conkey)
		  order by array_length(k.conkey, 1), k.conname
		  limit 1
		) fk on true
		where a.attrelid = any($1) and a.attnum > 0 and not a.attisdropped
		order by a.attrelid, a.attnum`, oids)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var rel uint32
		var c Column
		var fkSchema, fkTable, fkCol *string
		if err := rows.Scan(&rel, &c.Name, &c.Type, &c.BaseType, &c.TypeKind, &c.Category, &c.NotNull, &c.HasDefault, &c.Identity,
			&c.Generated, &c.EnumLabels, &c.Checks, &c.CheckNames, &fkSchema, &fkTable, &fkCol); err != nil {
			return nil, err
		}
		if fkSchema != nil {
			c.FK = &ForeignKey{Schema: *fkSchema, Table: *fkTable, Column: *fkCol}
		}
		i := idx[rel]
		rels[i].Columns = append(rels[i].Columns, c)
	}
	return rels, rows.Err()
}

// Routine is a function or procedure.
type Routine struct {
	OID              uint32
	Schema           string
	Name             string
	Signature        string   // name(argtypes), as regprocedure prints it
	Kind             string   // function, procedure, aggregate, window
	ArgTypes         []string // input arguments (all arguments for procedures)
	ArgNames         []string
	ReturnType       string
	ReturnsSet       bool
	SecurityDefiner  bool
	Volatility       string // i, s, v
	ConfigSearchPath bool   // has a fixed search_path (proconfig)
	Language         string
	Owner            string
}

// Display is schema.name(args) for reports.
func (r Routine) Display() string { return r.Schema + "." + r.Signature }

// IsTrigger reports whether the routine returns trigger or event_trigger.
func (r Routine) IsTrigger() bool {
	return r.ReturnType == "trigger" || r.ReturnType == "event_trigger"
}

// Routines lists the routines of schemas (not extension members).
func Routines(ctx context.Context, q Querier, schemas []string) ([]Routine, error) {
	rows, err := q.Query(ctx, `
		select p.oid, n.nspname, p.proname,
		       regexp_replace(p.oid::regprocedure::text, '^.*?([^.]+\()', '\1'),
		       case p.prokind when 'f' then 'function' when 'p' then 'procedure' when 'a' then 'aggregate' else 'window' end,
		       case when p.prokind = 'p' then
		              coalesce((select array_agg(format_type(t, null) order by o) from unnest(coalesce(p.proallargtypes, p.proargtypes::oid[])) with ordinality u(t, o)), '{}')
		            else coalesce((select array_agg(format_type(t, null) order by o) from unnest(p.proargtypes::oid[]) with ordinality u(t, o)), '{}') end,
		       coalesce(p.proargnames, '{}'),
		       format_type(p.prorettype, null), p.proretset, p.prosecdef, p.provolatile::text,
		       coalesce(exists (select 1 from unnest(p.proconfig) c where c like 'search_path=%'), false),
		       l.lanname, pg_get_userbyid(p.proowner)
		from pg_proc p
		join pg_namespace n on n.oid = p.pronamespace
		join pg_language l on l.oid = p.prolang
		where n.nspname = any($1)
		  and not exists (select 1 from pg_depend d where d.classid = 'pg_proc'::regclass and d.objid = p.oid and d.deptype = 'e')
		order by n.nspname, p.proname, p.oid::regprocedure::text`, schemas)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Routine, error) {
		var x Routine
		err := r.Scan(&x.OID, &x.Schema, &x.Name, &x.Signature, &x.Kind, &x.ArgTypes, &x.ArgNames, &x.ReturnType, &x.ReturnsSet,
			&x.SecurityDefiner, &x.Volatility, &x.ConfigSearchPath, &x.Language, &x.Owner)
		return x, err
	})
}
