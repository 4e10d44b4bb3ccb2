package migrate

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Kinds of Problem.
const (
	ProblemEdited     = "edited"
	ProblemMissing    = "missing"
	ProblemOutOfOrder = "out_of_order"
	ProblemDirty      = "dirty"
	ProblemDrift      = "drift"
)

// Problem is one reason for Verify (or Up) to fail.
type Problem struct {
	Kind   string `json:"kind"`
	Path   string `json:"path,omitempty"`
	Object string `json:"object,omitempty"`
	Detail string `json:"detail"`
	Hint   string `json:"hint,omitempty"`
}

func (p Problem) String() string {
	subject := p.Path
	if p.Object != "" {
		subject = p.Object
		if p.Path != "" {
			subject += " (" + p.Path + ")"
		}
	}
	s := fmt.Sprintf("%s: %s: %s", p.Kind, subject, p.Detail)
	if p.Hint != "" {
		s += "\n    hint: " + p.Hint
	}
	return s
}

// Drift is a catalog object changed outside dbtool since it last applied.
type Drift struct {
	Object string `json:"object"`
	Kind   string `json:"kind"`   // function, policy, table
	Change string `json:"change"` // changed, dropped, added
	Path   string `json:"path,omitempty"`
	// Was and Now describe what changed where dbtool can tell: the RLS
	// switches and grants of a table, the grants of a function ("" when
	// unknown: an older snapshot, or a definition).
	Was string `json:"was,omitempty"`
	Now string `json:"now,omitempty"`
}

// Describe is the drift in one line: what changed, from what, to what.
func (d Drift) Describe() string {
	s := fmt.Sprintf("%s %s %s outside dbtool", d.Kind, d.Object, d.Change)
	if d.Was != d.Now && (d.Was != "" || d.Now != "") {
		s += fmt.Sprintf(" (was: %s; now: %s)", orNone(d.Was), orNone(d.Now))
	} else if d.Change == "changed" && d.Kind != "table" {
		s += " (its definition)"
	}
	return s
}

func orNone(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// repairable: re-applying the repeatable file that defines the object
// restores it (a function's or policy's definition, a table's RLS switch);
// grants changed by hand are not restored by a CREATE OR REPLACE.
func (d Drift) repairable() bool {
	if d.Path == "" || d.Change == "added" {
		return false
	}
	switch d.Kind {
	case "policy":
		return true
	case "function":
		return d.Was == d.Now // same grants: the definition changed
	case "table":
		return d.Was != "" && grantsOf(d.Was) == grantsOf(d.Now)
	}
	return false
}

func grantsOf(detail string) string {
	_, g, _ := strings.Cut(detail, "grants=")
	return g
}

// VerifyResult is the outcome of Verify: OK when Problems is empty.
type VerifyResult struct {
	Problems []Problem `json:"problems"`
	Pending  []string  `json:"pending"` // files not applied yet (not a failure)
}

// OK reports whether verification passed.
func (v *VerifyResult) OK() bool { return len(v.Problems) == 0 }

// Verify checks that the applied history matches the files (no applied file
// edited or removed, none out of order, no dirty version) and that the live
// functions, policies and table security settings are what dbtool last
// applied (no drift). It changes nothing.
func (r *Runner) Verify(ctx context.Context) (*VerifyResult, error) {
	files, err := r.opts.Project.LoadMigrations()
	if err != nil {
		return nil, err
	}
	reps, err := r.opts.Project.LoadRepeatables()
	if err != nil {
		return nil, err
	}
	conn, err := r.connect(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	st, err := readLedger(ctx, conn)
	if err != nil {
		return nil, err
	}
	res := &VerifyResult{}
	for _, e := range buildStatus(st, files, reps).Entries {
		switch e.State {
		case StatePending:
			res.Pending = append(res.Pending, e.Path)
		case StateEdited:
			if e.Kind == KindMigration {
				res.Problems = append(res.Problems, Problem{Kind: ProblemEdited, Path: e.Path,
					Detail: fmt.Sprintf("edited after it was applied (applied %s, file %s)", short(e.Applied), short(e.Checksum)),
					Hint:   "restore the applied content and put the change in a new migration"})
			} else {
				res.Pending = append(res.Pending, e.Path+" (edited)")
			}
		case StateMissing:
			if e.Kind == KindMigration {
				res.Problems = append(res.Problems, Problem{Kind: ProblemMissing, Path: e.Path,
					Detail: "applied, but no longer in the folder", Hint: "restore the file: applied migrations are history"})
			} else {
				res.Problems = append(res.Problems, Problem{Kind: ProblemMissing, Path: e.Path,
					Detail: "applied, but no longer in the folder; its objects are still in the database",
					Hint:   "drop its objects in a migration, then remove dbtool's record: delete from dbtool.repeatables where path = '" + e.Path + "'"})
			}
		case StateOutOfOrder:
			res.Problems = append(res.Problems, Problem{Kind: ProblemOutOfOrder, Path: e.Path,
				Detail: "pending, but older than the last applied version: golang-migrate would skip it silently",
				Hint:   "rename it with a version above the last applied one"})
		case StateDirty:
			res.Problems = append(res.Problems, Problem{Kind: ProblemDirty, Path: e.Path,
				Detail: "golang-migrate marked this version dirty (a failed or killed run)",
				Hint:   "run dbtool migrate up: it resolves the state from dbtool's ledger"})
		}
	}
	if st.exists {
		drift, err := r.snapshotDrift(ctx, conn, st)
		if err != nil {
			return nil, err
		}
		for _, d := range drift {
			detail := d.Change + " outside dbtool since the last migrate"
			if d.Was != d.Now && (d.Was != "" || d.Now != "") {
				detail += fmt.Sprintf(" (was: %s; now: %s)", orNone(d.Was), orNone(d.Now))
			}
			res.Problems = append(res.Problems, Problem{Kind: ProblemDrift, Object: d.Kind + " " + d.Object, Path: d.Path,
				Detail: detail, Hint: driftHint(d)})
		}
	}
	return res, nil
}

func driftHint(d Drift) string {
	if d.repairable() {
		return "dbtool migrate up re-applies " + d.Path + ", which restores it; or put the change into that file"
	}
	if d.Path != "" {
		return "put the change into " + d.Path + " or a migration, undo it by hand, or accept it: dbtool migrate up --accept-drift"
	}
	return "put the change into a migration or a repeatable file, undo it by hand, or accept it: dbtool migrate up --accept-drift"
}

// detailSQL describes, readably, what drift detection can show old and new
// values of: the RLS switches and grants of tables, the grants of
// functions.
const detailSQL = `
with skip(nsp) as (
  values ('pg_catalog'), ('information_schema'), ('dbtool'), ('auth'), ('storage'), ('realtime'), ('extensions'),
         ('graphql'), ('graphql_public'), ('pgsodium'), ('pgsodium_masks'), ('vault'), ('net'), ('cron'),
         ('supabase_functions'), ('supabase_migrations'), ('pgbouncer'), ('pgtle'), ('_realtime'), ('_analytics')
), nsps as (
  select oid, nspname from pg_namespace
  where nspname not in (select nsp from skip) and nspname not like 'pg\_%'
)
select 'function ' || p.oid::regprocedure::text as key,
       'grants=' || coalesce((select string_agg(a::text, ',' order by a::text) from unnest(p.proacl) a), 'default') as detail
from pg_proc p join nsps n on n.oid = p.pronamespace
where p.prokind in ('f', 'p')
  and not exists (select 1 from pg_depend d where d.classid = 'pg_proc'::regclass and d.objid = p.oid and d.deptype = 'e')
union all
select 'table ' || c.oid::regclass::text,
       'rls=' || case when c.relrowsecurity then 'on' else 'off' end || ' force=' || case when c.relforcerowsecurity then 'on' else 'off' end ||
       ' grants=' || coalesce((select string_agg(a::text, ',' order by a::text) from unnest(c.relacl) a), 'default')
from pg_class c join nsps n on n.oid = c.relnamespace
where c.relkind in ('r', 'p', 'v', 'm', 'f')
  and not c.relispartition
  and not exists (select 1 from pg_depend d where d.classid = 'pg_class'::regclass and d.objid = c.oid and d.deptype = 'e')
`

// fingerprintSQL fingerprints what drift detection watches: functions and
// procedures (definition, settings and grants), policies, and tables (RLS
// switches and grants), outside system, platform and extension-owned
// objects. It reads catalog columns rather than deparsing definitions, so it
// stays cheap on large schemas.
const fingerprintSQL = `
with skip(nsp) as (
  values ('pg_catalog'), ('information_schema'), ('dbtool'), ('auth'), ('storage'), ('realtime'), ('extensions'),
         ('graphql'), ('graphql_public'), ('pgsodium'), ('pgsodium_masks'), ('vault'), ('net'), ('cron'),
         ('supabase_functions'), ('supabase_migrations'), ('pgbouncer'), ('pgtle'), ('_realtime'), ('_analytics')
), nsps as (
  select oid, nspname from pg_namespace
  where nspname not in (select nsp from skip) and nspname not like 'pg\_%'
)
select 'function' as kind, p.oid::regprocedure::text as object,
       md5(concat_ws('|', p.prosrc, p.probin, p.prorettype, p.proretset, p.prosecdef, p.provolatile, p.proparallel,
                     p.proisstrict, p.proleakproof, p.prolang, p.procost, p.prorows, p.proconfig::text, p.proargnames::text,
                     p.proargmodes::text, pg_get_expr(p.proargdefaults, 0),
                     (select string_agg(a::text, ',' order by a::text) from unnest(p.proacl) a))) as fingerprint
from pg_proc p join nsps n on n.oid = p.pronamespace
where p.prokind in ('f', 'p')
  and not exists (select 1 from pg_depend d where d.classid = 'pg_proc'::regclass and d.objid = p.oid and d.deptype = 'e')
union all
select 'policy', format('%I.%I %I', n.nspname, c.relname, pol.polname),
       md5(concat_ws('|', pol.polpermissive, pol.polcmd, (select string_agg(r::text, ',' order by r) from unnest(pol.polroles) r),
                     pol.polqual::text, pol.polwithcheck::text))
from pg_policy pol join pg_class c on c.oid = pol.polrelid join nsps n on n.oid = c.relnamespace
union all
select 'table', c.oid::regclass::text,
       md5(concat_ws('|', c.relrowsecurity, c.relforcerowsecurity, coalesce((select string_agg(a::text, ',' order by a::text) from unnest(c.relacl) a), '')))
from pg_class c join nsps n on n.oid = c.relnamespace
where c.relkind in ('r', 'p', 'v', 'm', 'f')
  and not c.relispartition -- partitions come and go at run time (e.g. monthly audit partitions)
  and not exists (select 1 from pg_depend d where d.classid = 'pg_class'::regclass and d.objid = c.oid and d.deptype = 'e')
`

// refreshSnapshot records the live fingerprints as "what dbtool applied".
func refreshSnapshot(ctx context.Context, conn *pgx.Conn) error {
	// One simple-protocol Exec: the statements run in one transaction.
	_, err := conn.Exec(ctx, `alter table dbtool.snapshot add column if not exists details jsonb;
		delete from dbtool.snapshot;
		insert into dbtool.snapshot (objects, details)
		select (select coalesce(jsonb_object_agg(kind || ' ' || object, fingerprint), '{}') from (`+fingerprintSQL+`) live),
		       (select coalesce(jsonb_object_agg(key, detail), '{}') from (`+detailSQL+`) d)`)
	return err
}

// snapshotDrift compares the live fingerprints with the last snapshot.
func (r *Runner) snapshotDrift(ctx context.Context, conn *pgx.Conn, st ledgerState) ([]Drift, error) {
	rows, err := conn.Query(ctx, `
		with live as (select kind || ' ' || object as key, kind, object, fingerprint from (`+fingerprintSQL+`) f)
		, snap as (select e.key as object, split_part(e.key, ' ', 1) as kind, e.value as fingerprint
		           from dbtool.snapshot, jsonb_each_text(dbtool.snapshot.objects) e)
		select coalesce(l.kind, s.kind), coalesce(l.object, substr(s.object, length(s.kind) + 2)),
		       case when l.key is null then 'dropped' when s.object is null then 'added' else 'changed' end
		from live l full join snap s on s.object = l.key
		where l.key is null or s.object is null or l.fingerprint <> s.fingerprint
		order by 1, 2`)
	if err != nil {
		return nil, err
	}
	var out []Drift
	for rows.Next() {
		var d Drift
		if err := rows.Scan(&d.Kind, &d.Object, &d.Change); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out) > 0 {
		was, now, err := snapshotDetails(ctx, conn)
		if err != nil {
			return nil, err
		}
		for i := range out {
			k := out[i].Kind + " " + out[i].Object
			out[i].Was, out[i].Now = was[k], now[k]
		}
	}
	owners := objectFiles(st)
	for i := range out {
		out[i].Path = owners[ownerKey(out[i])]
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Object < out[j].Object })
	return out, nil
}

var (
	createFunction = regexp.MustCompile(`(?is)\bcreate\s+(?:or\s+replace\s+)?(?:function|procedure)\s+((?:"[^"]+"|[\w$]+)(?:\s*\.\s*(?:"[^"]+"|[\w$]+))?)\s*\(`)
	createPolicy   = regexp.MustCompile(`(?is)\bcreate\s+policy\s+("[^"]+"|[\w$]+)\s+on\s+((?:"[^"]+"|[\w$]+)(?:\s*\.\s*(?:"[^"]+"|[\w$]+))?)`)
	alterTableRLS  = regexp.MustCompile(`(?is)\balter\s+table\s+(?:if\s+exists\s+)?(?:only\s+)?((?:"[^"]+"|[\w$]+)(?:\s*\.\s*(?:"[^"]+"|[\w$]+))?)\s+(?:enable|disable|force|no\s+force)\s+row\s+level\s+security`)
)

// normName turns a possibly qualified SQL name into schema.name, lower-cased
// unless quoted, with public as the default schema.
func normName(s string) string {
	parts := strings.Split(s, ".")
	for i, p := range parts {
		p = strings.TrimSpace(p)
		if strings.HasPrefix(p, `"`) {
			parts[i] = strings.Trim(p, `"`)
		} else {
			parts[i] = strings.ToLower(p)
		}
	}
	if len(parts) == 1 {
		return "public." + parts[0]
	}
	return parts[0] + "." + parts[1]
}

func ownerKey(d Drift) string {
	switch d.Kind {
	case "function":
		name := d.Object
		if i := strings.IndexByte(name, '('); i >= 0 {
			name = name[:i]
		}
		if !strings.Contains(name, ".") {
			name = "public." + name
		}
		return "function " + strings.ReplaceAll(name, `"`, "")
	case "policy":
		tbl, pol, _ := strings.Cut(d.Object, " ")
		if !strings.Contains(tbl, ".") {
			tbl = "public." + tbl
		}
		return "policy " + strings.ReplaceAll(tbl, `"`, "") + " " + strings.Trim(pol, `"`)
	case "table":
		t := d.Object
		if !strings.Contains(t, ".") {
			t = "public." + t
		}
		return "table " + strings.ReplaceAll(t, `"`, "")
	}
	return ""
}

// objectFiles maps object names to the repeatable file that defines them
// (from the content dbtool applied).
func objectFiles(st ledgerState) map[string]string {
	m := map[string]string{}
	paths := make([]string, 0, len(st.repeatables))
	for p := range st.repeatables {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		src := st.repeatables[p].Content
		for _, g := range createFunction.FindAllStringSubmatch(src, -1) {
			m["function "+normName(g[1])] = p
		}
		for _, g := range createPolicy.FindAllStringSubmatch(src, -1) {
			m["policy "+normName(g[2])+" "+strings.Trim(g[1], `"`)] = p
		}
		for _, g := range alterTableRLS.FindAllStringSubmatch(src, -1) {
			m["table "+normName(g[1])] = p
		}
	}
	return m
}

// snapshotDetails reads the readable details recorded with the snapshot
// (empty for a snapshot taken before they existed) and the live ones.
func snapshotDetails(ctx context.Context, conn *pgx.Conn) (was, now map[string]string, err error) {
	was, now = map[string]string{}, map[string]string{}
	var has bool
	if err := conn.QueryRow(ctx, `select exists (select 1 from pg_attribute where attrelid = 'dbtool.snapshot'::regclass
		and attname = 'details' and not attisdropped)`).Scan(&has); err != nil {
		return nil, nil, err
	}
	if has {
		var m map[string]string
		if err := conn.QueryRow(ctx, `select coalesce((select details from dbtool.snapshot limit 1), '{}')`).Scan(&m); err != nil {
			return nil, nil, err
		}
		was = m
	}
	rows, err := conn.Query(ctx, detailSQL)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return nil, nil, err
		}
		now[k] = v
	}
	return was, now, rows.Err()
}
