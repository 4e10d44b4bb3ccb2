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
			res.Problems = append(res.Problems, Problem{Kind: ProblemDrift, Object: d.Kind + " " + d.Object, Path: d.Path,
				Detail: d.Change + " outside dbtool since the last migrate",
				Hint:   driftHint(d)})
		}
	}
	return res, nil
}

func driftHint(d Drift) string {
	if d.Path != "" {
		return "put the change into " + d.Path + " (it is re-applied when its content changes), or undo it by hand"
	}
	return "put the change into a migration or a repeatable file, or undo it by hand"
}

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
	// One simple-protocol Exec: both statements run in one transaction.
	_, err := conn.Exec(ctx, `delete from dbtool.snapshot;
		insert into dbtool.snapshot (objects)
		select coalesce(jsonb_object_agg(kind || ' ' || object, fingerprint), '{}') from (`+fingerprintSQL+`) live`)
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
