package plan

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"
)

// The rules of `dbtool migrate plan`. Each reads PostgreSQL's parse tree of
// the statement (pg_query) together with what the statement did on the
// plan database (its locks, the relfilenodes it changed). Docs:
// docs/migrate-plan.md, one section per rule.
type rule struct {
	id, name, level, hint string
}

var (
	ruleAccessExclusive = rule{"P001", "access_exclusive_existing_table", LevelWarn,
		"split the change so the exclusive part is catalog-only, keep the file short (the lock is held until it commits), and run it with lock_timeout"}
	ruleIndexNotConcurrently = rule{"P002", "index_not_concurrently", LevelError,
		"use CREATE INDEX CONCURRENTLY in a file of its own that starts with `-- dbtool:no-transaction`"}
	ruleAddColumnRewrite = rule{"P003", "add_column_rewrites_table", LevelError,
		"add the column without the volatile default (or with a constant one), then backfill in batches and set the default afterwards"}
	ruleAddColumnNotNull = rule{"P004", "add_column_not_null_without_default", LevelError,
		"add the column nullable (or with a constant DEFAULT), backfill, add CHECK (col IS NOT NULL) NOT VALID, VALIDATE it, then SET NOT NULL"}
	ruleSetNotNull = rule{"P005", "set_not_null_without_check", LevelWarn,
		"first ADD CONSTRAINT ... CHECK (col IS NOT NULL) NOT VALID and VALIDATE CONSTRAINT in a separate migration; SET NOT NULL then skips the scan"}
	ruleTypeRewrite = rule{"P006", "column_type_change_rewrites", LevelError,
		"add a new column of the new type, backfill in batches, switch readers, then drop the old one"}
	ruleNotValid = rule{"P007", "constraint_without_not_valid", LevelWarn,
		"ADD CONSTRAINT ... NOT VALID (brief lock), then ALTER TABLE ... VALIDATE CONSTRAINT in a later statement (weaker lock, reads and writes go on)"}
	ruleDropInUse = rule{"P008", "drop_or_rename_in_use", LevelError,
		"keep the old name working for a release (a view or a wrapper function with the old argument names), move the callers, then drop it"}
	ruleNoLockTimeout = rule{"P009", "no_lock_timeout", LevelWarn,
		"SET lock_timeout = '5s' at the top of the file (dbtool migrate sets one unless --ddl-lock-timeout is negative)"}
	ruleAccessOpened = rule{"P010", "access_opened", LevelWarn,
		"check that the new access is intended; anon writes and reads of other users' rows are errors"}
	ruleDefinerExposed = rule{"P011", "new_security_definer_exposed", LevelWarn,
		"revoke execute from public, anon and authenticated unless the routine checks its caller in its body"}
	ruleAPIBreak = rule{"P012", "api_breaking_change", LevelError,
		"PostgREST clients call routines by argument name and select columns by name: keep the old surface for a release"}
)

// Rules lists every rule (for docs and --list).
func Rules() []Finding {
	var out []Finding
	for _, r := range []rule{ruleAccessExclusive, ruleIndexNotConcurrently, ruleAddColumnRewrite, ruleAddColumnNotNull,
		ruleSetNotNull, ruleTypeRewrite, ruleNotValid, ruleDropInUse, ruleNoLockTimeout, ruleAccessOpened, ruleDefinerExposed, ruleAPIBreak} {
		out = append(out, Finding{ID: r.id, Rule: r.name, Level: r.level, Hint: r.hint})
	}
	return out
}

func (r rule) finding(file string, line int, object, detail, evidence string) Finding {
	return Finding{Rule: r.name, ID: r.id, Level: r.level, File: file, Line: line, Object: object, Detail: detail, Evidence: evidence, Hint: r.hint}
}

// parseOne parses a single statement; nil when the parser refuses it (the
// server will say why when it runs).
func parseOne(sql string) *pg_query.Node {
	tree, err := pg_query.Parse(sql)
	if err != nil || len(tree.Stmts) != 1 {
		return nil
	}
	return tree.Stmts[0].Stmt
}

// needsNoTransaction: statements PostgreSQL refuses inside a transaction.
func needsNoTransaction(n *pg_query.Node) bool {
	switch x := n.Node.(type) {
	case *pg_query.Node_IndexStmt:
		return x.IndexStmt.Concurrent
	case *pg_query.Node_VacuumStmt:
		return true
	case *pg_query.Node_ReindexStmt:
		for _, p := range x.ReindexStmt.Params {
			if d := p.GetDefElem(); d != nil && d.Defname == "concurrently" {
				return true
			}
		}
	case *pg_query.Node_DropStmt:
		return x.DropStmt.Concurrent
	}
	return false
}

func rangeVarName(rv *pg_query.RangeVar) string {
	if rv == nil {
		return ""
	}
	if rv.Schemaname != "" {
		return rv.Schemaname + "." + rv.Relname
	}
	return rv.Relname
}

func indexRelation(n *pg_query.Node) string {
	if x := n.GetIndexStmt(); x != nil {
		return rangeVarName(x.Relation)
	}
	return ""
}

// preFacts are read from the catalog just before a statement runs.
type preFacts struct {
	usedBy     map[string][]string // object dropped or renamed -> what uses it
	notNullChk map[string]bool     // table.column -> a validated CHECK (col IS NOT NULL) exists
}

// preChecks reads, before a DROP, RENAME or SET NOT NULL runs, what depends
// on the objects it touches.
func (a *applier) preChecks(ctx context.Context, tree *pg_query.Node) preFacts {
	pf := preFacts{usedBy: map[string][]string{}, notNullChk: map[string]bool{}}
	if tree == nil {
		return pf
	}
	// A failed catalog read must not abort the migration's transaction.
	if a.inTx {
		if _, err := a.conn.Exec(ctx, "savepoint dbtool_plan_pre"); err != nil {
			return pf
		}
		defer a.conn.Exec(ctx, "rollback to savepoint dbtool_plan_pre; release savepoint dbtool_plan_pre") //nolint:errcheck
	}
	switch n := tree.Node.(type) {
	case *pg_query.Node_AlterTableStmt:
		rel := a.resolve(rangeVarName(n.AlterTableStmt.Relation))
		if !a.existingByName(rel) {
			return pf
		}
		for _, c := range n.AlterTableStmt.Cmds {
			cmd := c.GetAlterTableCmd()
			if cmd == nil {
				continue
			}
			switch cmd.Subtype {
			case pg_query.AlterTableType_AT_DropColumn:
				pf.usedBy[rel+"."+cmd.Name] = a.users(ctx, rel, cmd.Name)
			case pg_query.AlterTableType_AT_SetNotNull:
				pf.notNullChk[rel+"."+cmd.Name] = a.hasNotNullCheck(ctx, rel, cmd.Name)
			}
		}
	case *pg_query.Node_RenameStmt:
		r := n.RenameStmt
		switch r.RenameType {
		case pg_query.ObjectType_OBJECT_COLUMN:
			rel := a.resolve(rangeVarName(r.Relation))
			pf.usedBy[rel+"."+r.Subname] = a.users(ctx, rel, r.Subname)
		case pg_query.ObjectType_OBJECT_TABLE, pg_query.ObjectType_OBJECT_VIEW:
			rel := a.resolve(rangeVarName(r.Relation))
			pf.usedBy[rel] = a.users(ctx, rel, "")
		case pg_query.ObjectType_OBJECT_FUNCTION, pg_query.ObjectType_OBJECT_PROCEDURE:
			name := objectName(r.Object)
			pf.usedBy[name] = a.routineUsers(ctx, name)
		}
	case *pg_query.Node_DropStmt:
		d := n.DropStmt
		for _, o := range d.Objects {
			switch d.RemoveType {
			case pg_query.ObjectType_OBJECT_TABLE, pg_query.ObjectType_OBJECT_VIEW, pg_query.ObjectType_OBJECT_MATVIEW:
				rel := a.resolve(listName(o))
				if a.existingByName(rel) {
					pf.usedBy[rel] = a.users(ctx, rel, "")
				}
			case pg_query.ObjectType_OBJECT_FUNCTION, pg_query.ObjectType_OBJECT_PROCEDURE:
				name := objectName(o)
				pf.usedBy[name] = a.routineUsers(ctx, name)
			}
		}
	}
	return pf
}

// listName is the dotted name of a List of String nodes.
func listName(n *pg_query.Node) string {
	l := n.GetList()
	if l == nil {
		return ""
	}
	var parts []string
	for _, it := range l.Items {
		parts = append(parts, it.GetString_().GetSval())
	}
	return strings.Join(parts, ".")
}

// objectName of a function: ObjectWithArgs.
func objectName(n *pg_query.Node) string {
	if o := n.GetObjectWithArgs(); o != nil {
		var parts []string
		for _, it := range o.Objname {
			parts = append(parts, it.GetString_().GetSval())
		}
		s := strings.Join(parts, ".")
		if !strings.Contains(s, ".") {
			s = "public." + s
		}
		return s
	}
	return listName(n)
}

// users lists what depends on a relation (or one of its columns): views,
// policies and SQL-standard routine bodies through pg_depend, PL/pgSQL and
// SQL routine bodies that name it (PostgreSQL tracks no dependency for
// those, so this one is textual, on the identifier as a whole word), and
// the API when the relation is in an exposed schema.
func (a *applier) users(ctx context.Context, rel, column string) []string {
	var out []string
	rows, err := a.conn.Query(ctx, `
		select distinct case d.classid
		         when 'pg_rewrite'::regclass then 'view ' || (select r.ev_class::regclass::text from pg_rewrite r where r.oid = d.objid)
		         when 'pg_policy'::regclass then 'policy ' || (select p.polname || ' on ' || p.polrelid::regclass::text from pg_policy p where p.oid = d.objid)
		         when 'pg_proc'::regclass then 'routine ' || d.objid::regprocedure::text
		         when 'pg_trigger'::regclass then 'trigger ' || (select t.tgname from pg_trigger t where t.oid = d.objid)
		         when 'pg_constraint'::regclass then 'constraint ' || (select c.conname from pg_constraint c where c.oid = d.objid)
		       end
		from pg_depend d
		where d.refclassid = 'pg_class'::regclass and d.refobjid = $1::regclass and d.deptype = 'n'
		  and ($2 = '' or d.refobjsubid = (select attnum from pg_attribute where attrelid = $1::regclass and attname = $2))
		  and not (d.classid = 'pg_rewrite'::regclass and (select r.ev_class from pg_rewrite r where r.oid = d.objid) = $1::regclass)`,
		rel, column)
	if err == nil {
		for rows.Next() {
			var s *string
			if rows.Scan(&s) == nil && s != nil {
				out = append(out, *s)
			}
		}
		rows.Close()
	}
	word := column
	if word == "" {
		word = rel[strings.LastIndexByte(rel, '.')+1:]
	}
	out = append(out, a.bodiesNaming(ctx, word)...)
	if a.exposed(rel) {
		out = append(out, "the API ("+rel+" is in an exposed schema)")
	}
	return out
}

func (a *applier) routineUsers(ctx context.Context, name string) []string {
	short := name[strings.LastIndexByte(name, '.')+1:]
	out := a.bodiesNaming(ctx, short)
	if a.exposed(name) {
		out = append(out, "the API (POST /rpc/"+short+")")
	}
	return out
}

func (a *applier) bodiesNaming(ctx context.Context, word string) []string {
	rows, err := a.conn.Query(ctx, `
		select 'routine ' || p.oid::regprocedure::text
		from pg_proc p join pg_namespace n on n.oid = p.pronamespace
		join pg_language l on l.oid = p.prolang
		where n.nspname not in ('pg_catalog', 'information_schema') and l.lanname not in ('c', 'internal')
		  and p.proname <> $1 and p.prosrc ~* ('\m' || regexp_replace($1, '([^a-zA-Z0-9_])', '\\\1', 'g') || '\M')
		  and not exists (select 1 from pg_depend e where e.classid = 'pg_proc'::regclass and e.objid = p.oid and e.deptype = 'e')
		order by 1`, word)
	if err != nil {
		return nil
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if rows.Scan(&s) == nil {
			out = append(out, s)
		}
	}
	return out
}

func (a *applier) exposed(name string) bool {
	for _, s := range a.opts.Schemas {
		if strings.HasPrefix(name, s+".") {
			return true
		}
	}
	return false
}

func (a *applier) hasNotNullCheck(ctx context.Context, rel, column string) bool {
	var ok bool
	_ = a.conn.QueryRow(ctx, `
		select exists (select 1 from pg_constraint k where k.conrelid = $1::regclass and k.contype = 'c' and k.convalidated
		  and pg_get_constraintdef(k.oid) ~* ('^CHECK \(\(?' || quote_ident($2) || ' IS NOT NULL\)?\)$'))`, rel, column).Scan(&ok)
	return ok
}

// statementFindings applies the statement rules to one file.
func statementFindings(a *applier, path string, stmts []*Statement, trees []*pg_query.Node) []Finding {
	var out []Finding
	explained := map[int]bool{} // statements a specific rule already reported
	exclusive := false
	for i, st := range stmts {
		tree := trees[i]
		var lockEv string
		for _, l := range st.Locks {
			if l.Existing {
				lockEv = fmt.Sprintf("%s on %s (%s; %s; %s here, %d rows)", l.Mode, l.Relation, lockBlocks(l.Mode), l.Estimate,
					humanDuration(st.Duration.Seconds()), l.Rows)
				break
			}
		}
		if len(st.Rewrites) > 0 {
			explained[i] = true
		}
		if tree != nil {
			switch n := tree.Node.(type) {
			case *pg_query.Node_IndexStmt:
				rel := a.resolve(rangeVarName(n.IndexStmt.Relation))
				if !n.IndexStmt.Concurrent && a.existingByName(rel) {
					explained[i] = true
					out = append(out, ruleIndexNotConcurrently.finding(path, st.Line, rel,
						"CREATE INDEX without CONCURRENTLY on an existing table: writes wait for the whole build", lockEv))
				}
			case *pg_query.Node_AlterTableStmt:
				rel := a.resolve(rangeVarName(n.AlterTableStmt.Relation))
				if !a.existingByName(rel) {
					break
				}
				for _, c := range n.AlterTableStmt.Cmds {
					cmd := c.GetAlterTableCmd()
					if cmd == nil {
						continue
					}
					switch cmd.Subtype {
					case pg_query.AlterTableType_AT_AddColumn:
						col := cmd.Def.GetColumnDef()
						if col == nil {
							continue
						}
						notNull, hasDefault := false, false
						for _, k := range col.Constraints {
							switch k.GetConstraint().GetContype() {
							case pg_query.ConstrType_CONSTR_NOTNULL, pg_query.ConstrType_CONSTR_PRIMARY:
								notNull = true
							case pg_query.ConstrType_CONSTR_DEFAULT, pg_query.ConstrType_CONSTR_IDENTITY, pg_query.ConstrType_CONSTR_GENERATED:
								hasDefault = true
							}
						}
						if notNull && !hasDefault {
							explained[i] = true
							out = append(out, ruleAddColumnNotNull.finding(path, st.Line, rel+"."+col.Colname,
								"column added NOT NULL without a default: fails as soon as the table has a row", lockEv))
						}
						if len(st.Rewrites) > 0 {
							out = append(out, ruleAddColumnRewrite.finding(path, st.Line, rel+"."+col.Colname,
								"adding the column rewrote the table (a volatile default or a type that needs it) under ACCESS EXCLUSIVE", lockEv))
						}
					case pg_query.AlterTableType_AT_AlterColumnType:
						if len(st.Rewrites) > 0 {
							out = append(out, ruleTypeRewrite.finding(path, st.Line, rel+"."+cmd.Name,
								"the type change rewrote "+strings.Join(st.Rewrites, ", ")+" and its indexes under ACCESS EXCLUSIVE", lockEv))
						}
					case pg_query.AlterTableType_AT_SetNotNull:
						if !st.pre.notNullChk[rel+"."+cmd.Name] {
							explained[i] = true
							out = append(out, ruleSetNotNull.finding(path, st.Line, rel+"."+cmd.Name,
								"SET NOT NULL scans the whole table under ACCESS EXCLUSIVE (no validated CHECK (col IS NOT NULL) proves it first)", lockEv))
						}
					case pg_query.AlterTableType_AT_AddConstraint:
						k := cmd.Def.GetConstraint()
						if k == nil || k.SkipValidation {
							continue
						}
						if k.Contype == pg_query.ConstrType_CONSTR_FOREIGN || k.Contype == pg_query.ConstrType_CONSTR_CHECK {
							explained[i] = true
							kind := "CHECK"
							if k.Contype == pg_query.ConstrType_CONSTR_FOREIGN {
								kind = "FOREIGN KEY"
							}
							out = append(out, ruleNotValid.finding(path, st.Line, rel,
								kind+" added without NOT VALID: every existing row is checked while the lock is held", lockEv))
						}
					case pg_query.AlterTableType_AT_DropColumn:
						if u := st.pre.usedBy[rel+"."+cmd.Name]; len(u) > 0 {
							explained[i] = true
							out = append(out, ruleDropInUse.finding(path, st.Line, rel+"."+cmd.Name,
								"column dropped while in use", "used by: "+strings.Join(u, "; ")))
						}
					}
				}
			case *pg_query.Node_RenameStmt, *pg_query.Node_DropStmt:
				for obj, u := range st.pre.usedBy {
					if len(u) == 0 || a.existsAgain(context.Background(), tree, obj) {
						continue
					}
					verb := "dropped"
					if _, ok := tree.Node.(*pg_query.Node_RenameStmt); ok {
						verb = "renamed"
					}
					explained[i] = true
					out = append(out, ruleDropInUse.finding(path, st.Line, obj, obj+" "+verb+" while in use", "used by: "+strings.Join(u, "; ")))
				}
			}
		}
		for _, l := range st.Locks {
			if l.Existing && l.Mode == "AccessExclusiveLock" {
				exclusive = true
			}
		}
		if !explained[i] {
			for _, l := range st.Locks {
				if l.Existing && l.Mode == "AccessExclusiveLock" && l.Rows > 0 {
					f := ruleAccessExclusive.finding(path, st.Line, l.Relation,
						"ACCESS EXCLUSIVE on an existing table, held until the file commits", lockEv)
					if strings.HasPrefix(l.Estimate, "catalog only") {
						f.Level = LevelInfo
					}
					out = append(out, f)
					break
				}
			}
		}
	}
	if (exclusive || len(explained) > 0) && !a.opts.LockTimeout && !a.lockTO {
		out = append(out, ruleNoLockTimeout.finding(path, 1, "",
			"the file locks existing tables and runs without lock_timeout: queued behind a long transaction, it blocks every later query on them", ""))
	}
	return out
}

// existsAgain: a dropped object that the same file creates again (DROP
// FUNCTION then CREATE FUNCTION to change its arguments) is not gone; the
// API diff judges what changed.
func (a *applier) existsAgain(ctx context.Context, tree *pg_query.Node, obj string) bool {
	if tree.GetDropStmt() == nil {
		return false
	}
	var ok bool
	err := a.conn.QueryRow(ctx, `
		select exists (select 1 from pg_proc p join pg_namespace n on n.oid = p.pronamespace where n.nspname || '.' || p.proname = $1)
		    or exists (select 1 from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname || '.' || c.relname = $1)`,
		obj).Scan(&ok)
	return err == nil && ok
}

// touchedRelations lists the relations the statements of srcs name
// (RangeVar nodes of PostgreSQL's parse tree: tables altered, indexed,
// updated, selected from...), as schema.name when qualified, else name.
func touchedRelations(srcs []string) map[string]bool {
	out := map[string]bool{}
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			// A RangeVar: a Node wrapping one, or a field typed as one.
			rv, ok := x["RangeVar"].(map[string]any)
			if !ok {
				rv = x
			}
			if name, ok := rv["relname"].(string); ok {
				if schema, _ := rv["schemaname"].(string); schema != "" {
					name = schema + "." + name
				}
				out[name] = true
			}
			for _, y := range x {
				walk(y)
			}
		case []any:
			for _, y := range x {
				walk(y)
			}
		}
	}
	for _, src := range srcs {
		js, err := pg_query.ParseToJSON(src)
		if err != nil {
			continue
		}
		var tree any
		if json.Unmarshal([]byte(js), &tree) == nil {
			walk(tree)
		}
	}
	return out
}
