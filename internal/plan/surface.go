package plan

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/dbtool-dev/dbtool/internal/catalog"
	"github.com/dbtool-dev/dbtool/internal/matrix"
)

// apiRoles are the roles whose privileges make the API surface.
var apiRoles = []string{"anon", "authenticated", "service_role", "PUBLIC"}

// surface is what PostgREST serves from the exposed schemas, and who may
// use it.
type surface struct {
	relations map[string]string            // schema.name -> kind
	columns   map[string]map[string]string // schema.name -> column -> type
	routines  map[string][]string          // schema.name(argtypes) -> argument names
	definers  map[string]bool              // SECURITY DEFINER routines (signature) executable by anon or authenticated
	grants    map[string]bool              // "grantee privilege object"
}

func readSurface(ctx context.Context, conn *pgx.Conn, schemas []string) (*surface, error) {
	s := &surface{relations: map[string]string{}, columns: map[string]map[string]string{}, routines: map[string][]string{},
		definers: map[string]bool{}, grants: map[string]bool{}}
	rels, err := catalog.Relations(ctx, conn, schemas)
	if err != nil {
		return nil, fmt.Errorf("read relations: %w", err)
	}
	for _, r := range rels {
		if r.IsPartition {
			continue
		}
		s.relations[r.Display()] = r.Kind
		cols := map[string]string{}
		for _, c := range r.Columns {
			cols[c.Name] = c.Type
		}
		s.columns[r.Display()] = cols
	}
	routines, err := catalog.Routines(ctx, conn, schemas)
	if err != nil {
		return nil, fmt.Errorf("read routines: %w", err)
	}
	for _, r := range routines {
		if r.IsTrigger() || r.Kind == "aggregate" || r.Kind == "window" {
			continue
		}
		key := r.Schema + "." + r.Name + "(" + strings.Join(r.ArgTypes, ", ") + ")"
		s.routines[key] = r.ArgNames
	}
	rows, err := conn.Query(ctx, `
		select coalesce(r.rolname, 'PUBLIC'), a.privilege_type, n.nspname || '.' || c.relname
		from pg_class c join pg_namespace n on n.oid = c.relnamespace
		cross join lateral aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) a
		left join pg_roles r on r.oid = a.grantee
		where n.nspname = any($1) and c.relkind in ('r', 'p', 'v', 'm', 'f') and not c.relispartition
		  and coalesce(r.rolname, 'PUBLIC') = any($2)
		union all
		select coalesce(r.rolname, 'PUBLIC'), a.privilege_type, p.oid::regprocedure::text
		from pg_proc p join pg_namespace n on n.oid = p.pronamespace
		cross join lateral aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
		left join pg_roles r on r.oid = a.grantee
		where n.nspname = any($1) and coalesce(r.rolname, 'PUBLIC') = any($2) and p.prorettype <> 'trigger'::regtype
		  and not exists (select 1 from pg_depend d where d.classid = 'pg_proc'::regclass and d.objid = p.oid and d.deptype = 'e')`,
		schemas, apiRoles)
	if err != nil {
		return nil, fmt.Errorf("read grants: %w", err)
	}
	for rows.Next() {
		var g, p, o string
		if err := rows.Scan(&g, &p, &o); err != nil {
			rows.Close()
			return nil, err
		}
		s.grants[g+" "+p+" "+o] = true
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = conn.Query(ctx, `
		select n.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')'
		from pg_proc p join pg_namespace n on n.oid = p.pronamespace
		where p.prosecdef and n.nspname = any($1) and p.prorettype <> 'trigger'::regtype
		  and exists (select 1 from pg_roles r where r.rolname in ('anon', 'authenticated') and has_function_privilege(r.oid, p.oid, 'execute'))`,
		schemas)
	if err != nil {
		return nil, fmt.Errorf("read security definer routines: %w", err)
	}
	for rows.Next() {
		var sig string
		if err := rows.Scan(&sig); err != nil {
			rows.Close()
			return nil, err
		}
		s.definers[sig] = true
	}
	return s, rows.Err()
}

// diffAPI compares the PostgREST surface before and after.
func diffAPI(b, a *surface) []APIChange {
	var out []APIChange
	var goneRels, newRels []string
	for r, k := range b.relations {
		if _, ok := a.relations[r]; !ok {
			goneRels = append(goneRels, r+"\x00"+k)
		}
	}
	for r, k := range a.relations {
		if _, ok := b.relations[r]; !ok {
			newRels = append(newRels, r+"\x00"+k)
		}
	}
	sort.Strings(goneRels)
	sort.Strings(newRels)
	renamed := map[string]bool{}
	for _, g := range goneRels {
		gn, gk, _ := strings.Cut(g, "\x00")
		for _, n := range newRels {
			nn, nk, _ := strings.Cut(n, "\x00")
			if !renamed[nn] && gk == nk && sameColumns(b.columns[gn], a.columns[nn]) {
				renamed[nn], renamed[gn] = true, true
				out = append(out, APIChange{Change: "renamed", Kind: gk, Object: gn, Detail: "now " + nn})
				break
			}
		}
		if !renamed[gn] {
			out = append(out, APIChange{Change: "removed", Kind: gk, Object: gn})
		}
	}
	for _, n := range newRels {
		nn, nk, _ := strings.Cut(n, "\x00")
		if !renamed[nn] {
			out = append(out, APIChange{Change: "added", Kind: nk, Object: nn})
		}
	}
	for r, cols := range b.columns {
		after, ok := a.columns[r]
		if !ok {
			continue
		}
		var gone, added []string
		for c := range cols {
			if _, ok := after[c]; !ok {
				gone = append(gone, c)
			}
		}
		for c := range after {
			if _, ok := cols[c]; !ok {
				added = append(added, c)
			}
		}
		sort.Strings(gone)
		sort.Strings(added)
		used := map[string]bool{}
		for _, g := range gone {
			match := ""
			if len(gone) == 1 && len(added) == 1 && cols[g] == after[added[0]] {
				match = added[0]
			}
			if match != "" {
				used[match] = true
				out = append(out, APIChange{Change: "renamed", Kind: "column", Object: r + "." + g, Detail: "now " + match})
			} else {
				out = append(out, APIChange{Change: "removed", Kind: "column", Object: r + "." + g})
			}
		}
		for _, c := range added {
			if !used[c] {
				out = append(out, APIChange{Change: "added", Kind: "column", Object: r + "." + c, Detail: after[c]})
			}
		}
		for c, t := range cols {
			if t2, ok := after[c]; ok && t2 != t {
				out = append(out, APIChange{Change: "changed", Kind: "column", Object: r + "." + c, Detail: t + " -> " + t2})
			}
		}
	}
	for sig, names := range b.routines {
		an, ok := a.routines[sig]
		if !ok {
			out = append(out, APIChange{Change: "removed", Kind: "function", Object: sig})
			continue
		}
		if strings.Join(names, ",") != strings.Join(an, ",") {
			out = append(out, APIChange{Change: "renamed", Kind: "argument", Object: sig,
				Detail: "(" + strings.Join(names, ", ") + ") -> (" + strings.Join(an, ", ") + ")"})
		}
	}
	for sig := range a.routines {
		if _, ok := b.routines[sig]; !ok {
			out = append(out, APIChange{Change: "added", Kind: "function", Object: sig})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Object != out[j].Object {
			return out[i].Object < out[j].Object
		}
		return out[i].Change < out[j].Change
	})
	return out
}

func sameColumns(x, y map[string]string) bool {
	if len(x) != len(y) {
		return false
	}
	for k, v := range x {
		if y[k] != v {
			return false
		}
	}
	return true
}

func diffGrants(b, a *surface) []GrantChange {
	var out []GrantChange
	for k := range a.grants {
		if !b.grants[k] {
			g, rest, _ := strings.Cut(k, " ")
			p, o, _ := strings.Cut(rest, " ")
			out = append(out, GrantChange{Sign: "+", Grantee: g, Privilege: p, Object: o})
		}
	}
	for k := range b.grants {
		if !a.grants[k] {
			g, rest, _ := strings.Cut(k, " ")
			p, o, _ := strings.Cut(rest, " ")
			if _, ok := a.relations[o]; !ok && !strings.Contains(o, "(") {
				continue // the object is gone; the API diff says so
			}
			out = append(out, GrantChange{Sign: "-", Grantee: g, Privilege: p, Object: o})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

// surfaceFindings: API breaks and new SECURITY DEFINER routines the API
// roles may run.
func surfaceFindings(b, a *surface, res *Result) []Finding {
	var out []Finding
	reported := map[string]bool{}
	for _, f := range res.Findings {
		if f.Rule == ruleDropInUse.name {
			reported[f.Object] = true
		}
	}
	for _, c := range res.API {
		if c.Change == "added" {
			continue
		}
		obj := c.Object
		if i := strings.IndexByte(obj, '('); i >= 0 && reported[obj[:i]] {
			continue
		}
		if reported[obj] {
			continue
		}
		detail := fmt.Sprintf("%s %s %s", c.Kind, obj, c.Change)
		if c.Detail != "" {
			detail += ": " + c.Detail
		}
		switch c.Kind + " " + c.Change {
		case "argument renamed":
			detail += " — PostgREST calls POST /rpc/<fn> with the argument names as JSON keys: existing clients get 404 (PGRST202)"
		case "column changed":
			continue // a type change is reported by its lock and rewrite evidence
		default:
			detail += " — clients that use it break"
		}
		out = append(out, ruleAPIBreak.finding("", 0, obj, detail, ""))
	}
	for sig := range a.definers {
		if !b.definers[sig] {
			out = append(out, ruleDefinerExposed.finding("", 0, sig,
				"new SECURITY DEFINER routine executable by anon or authenticated: it runs with its owner's rights", ""))
		}
	}
	return out
}

// openOutcome: the cell lets the role see or change rows.
func openOutcome(label string) bool { return strings.HasPrefix(label, "rows") }

// passedPrivileges: the operation got past privileges and policies but
// failed later (no valid row could be built, a constraint said no).
func passedPrivileges(label string) bool {
	return label == "unknown" || strings.HasPrefix(label, "error 23")
}

// diffMatrix compares the access matrix before and after: the cells that
// open or close, and the cells of new objects that are open.
func diffMatrix(b, a *matrix.Matrix) []AccessChange {
	before := map[string]string{}
	for _, c := range b.Cells {
		before[c.Role+" "+c.Key()] = c.Label()
	}
	var out []AccessChange
	seen := map[string]bool{}
	for _, c := range a.Cells {
		k := c.Role + " " + c.Key()
		seen[k] = true
		was, ok := before[k]
		now := c.Label()
		obj := c.Schema + "." + c.Object
		switch {
		case !ok:
			if openOutcome(now) && c.Role != "service_role" && c.Role != "owner" {
				out = append(out, AccessChange{Sign: "+", Role: c.Role, Command: c.Command, Object: obj, Before: "(new)", After: now})
			}
		case was == now:
		case (openOutcome(now) && !openOutcome(was)) || (was == "denied" && passedPrivileges(now)):
			out = append(out, AccessChange{Sign: "+", Role: c.Role, Command: c.Command, Object: obj, Before: was, After: now})
		case !openOutcome(now) && openOutcome(was):
			out = append(out, AccessChange{Sign: "-", Role: c.Role, Command: c.Command, Object: obj, Before: was, After: now})
		case openOutcome(now) && openOutcome(was):
			// rows n -> rows m: data, not access
		default:
			out = append(out, AccessChange{Sign: "~", Role: c.Role, Command: c.Command, Object: obj, Before: was, After: now})
		}
	}
	for _, c := range b.Cells {
		k := c.Role + " " + c.Key()
		if !seen[k] && openOutcome(c.Label()) {
			out = append(out, AccessChange{Sign: "-", Role: c.Role, Command: c.Command, Object: c.Schema + "." + c.Object, Before: c.Label(), After: "(gone)"})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Object != out[j].Object {
			return out[i].Object < out[j].Object
		}
		if out[i].Role != out[j].Role {
			return out[i].Role < out[j].Role
		}
		return out[i].Command < out[j].Command
	})
	return out
}

// accessFindings: access that opened. An anon write, or a stranger (a
// signed-in user owning nothing) reading or changing the owner's rows, is
// an error; anything else that opened is a warning to review.
func accessFindings(cs []AccessChange) []Finding {
	var out []Finding
	for _, c := range cs {
		if c.Sign != "+" {
			continue
		}
		f := ruleAccessOpened.finding("", 0, c.Object, c.String(), "")
		write := c.Command != "select" && c.Command != "execute"
		if (c.Role == "anon" && write) || (c.Role == "stranger" && c.Command != "execute") {
			f.Level = LevelError
			if c.Role == "stranger" {
				f.Detail += " — a signed-in user who owns nothing now reaches the owner's rows"
			} else {
				f.Detail += " — anyone without an account can now write"
			}
		}
		out = append(out, f)
	}
	return out
}
