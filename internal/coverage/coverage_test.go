package coverage

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/dbtool-dev/dbtool/dbtest"
	"github.com/dbtool-dev/dbtool/internal/pgtest"
	"github.com/dbtool-dev/dbtool/internal/platform"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

func newDB(tb testing.TB, sql string) *pgx.Conn {
	tb.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pgtest.EmptyDatabase(tb))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { conn.Close(context.Background()) })
	if _, err := conn.Exec(ctx, "create schema dbtool"); err != nil {
		tb.Fatal(err)
	}
	if _, err := platform.Install(ctx, conn); err != nil {
		tb.Fatal(err)
	}
	if _, err := conn.PgConn().Exec(ctx, sql).ReadAll(); err != nil {
		tb.Fatalf("fixture: %v", err)
	}
	return conn
}

func byName(rep *Report) map[string]Object {
	out := map[string]Object{}
	for _, o := range rep.Objects {
		out[o.Display()] = o
	}
	return out
}

// Each verdict, on the object that should get it.
func TestVerdicts(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, sql, object, verdict string
		uncovered                  []string
	}{
		{
			name: "covered",
			sql: `create table public.notes (id int primary key, owner uuid);
				alter table public.notes enable row level security;
				grant select, insert on public.notes to authenticated;
				create policy notes_select_own on public.notes for select to authenticated using (owner = (select auth.uid()));
				create policy notes_insert_own on public.notes for insert to authenticated with check (owner = (select auth.uid()));`,
			object: "public.notes", verdict: Covered,
		},
		{
			name: "covered by an all policy for public",
			sql: `create table public.notes (id int primary key, owner uuid);
				alter table public.notes enable row level security;
				grant select, insert, update, delete on public.notes to authenticated;
				create policy notes_all_own on public.notes using (owner = (select auth.uid()));`,
			object: "public.notes", verdict: Covered,
		},
		{
			name: "deny by default: RLS on, no privileges",
			sql: `create table public.jobs (id int primary key);
				alter table public.jobs enable row level security;`,
			object: "public.jobs", verdict: DenyByDefault,
		},
		{
			name:   "deny by default: RLS off, no privileges",
			sql:    `create table public.jobs (id int primary key);`,
			object: "public.jobs", verdict: DenyByDefault,
		},
		{
			name: "granted without policy",
			sql: `create table public.notes (id int primary key, owner uuid);
				alter table public.notes enable row level security;
				grant select, delete on public.notes to authenticated;
				grant update (owner) on public.notes to anon;
				create policy notes_select_own on public.notes for select to authenticated using (owner = (select auth.uid()));
				create policy notes_delete_guard on public.notes as restrictive for delete to authenticated using (owner = (select auth.uid()));
				create policy notes_insert_nothing on public.notes for insert to authenticated;`,
			object: "public.notes", verdict: GrantedWithoutPolicy,
			uncovered: []string{"anon update", "authenticated delete"},
		},
		{
			name:   "exposed without RLS",
			sql:    `create table public.open_door (id int primary key); grant select on public.open_door to public;`,
			object: "public.open_door", verdict: ExposedWithoutRLS,
		},
		{
			name: "exposed: view without security_invoker",
			sql: `create table public.notes (id int primary key); alter table public.notes enable row level security;
				create view public.notes_view as select * from public.notes; grant select on public.notes_view to anon;`,
			object: "public.notes_view", verdict: ExposedWithoutRLS,
		},
		{
			name: "covered: security_invoker view",
			sql: `create table public.notes (id int primary key); alter table public.notes enable row level security;
				create view public.notes_view with (security_invoker = on) as select * from public.notes;
				grant select on public.notes_view to anon;`,
			object: "public.notes_view", verdict: Covered,
		},
		{
			name: "exposed: materialized view",
			sql: `create materialized view public.totals as select 1 as n;
				grant select on public.totals to authenticated;`,
			object: "public.totals", verdict: ExposedWithoutRLS,
		},
		{
			name: "policy with RLS off",
			sql: `create table public.notes (id int primary key, owner uuid);
				grant select on public.notes to authenticated;
				create policy notes_select_own on public.notes for select to authenticated using (owner = (select auth.uid()));`,
			object: "public.notes", verdict: PolicyRLSOff,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			conn := newDB(t, c.sql)
			rep, err := Run(context.Background(), conn, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			o, ok := byName(rep)[c.object]
			if !ok {
				t.Fatalf("%s not reported: %+v", c.object, rep.Objects)
			}
			if o.Verdict != c.verdict {
				b, _ := json.MarshalIndent(o, "", "  ")
				t.Fatalf("verdict %s, want %s\n%s", o.Verdict, c.verdict, b)
			}
			if !reflect.DeepEqual(o.Uncovered, c.uncovered) {
				t.Errorf("uncovered %v, want %v", o.Uncovered, c.uncovered)
			}
			if rep.Totals[c.verdict] < 1 || rep.Total != len(rep.Objects) {
				t.Errorf("totals %v total %d", rep.Totals, rep.Total)
			}
		})
	}
}

// Privileges: every kind, table and column level, through PUBLIC and
// through membership; partitions reported only when reachable; the
// percentage; the order; service_role listed but not judged.
func TestPrivilegesPartitionsAndTotals(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := pgtest.Server(t)
	reader := pgtest.RandomName("cov_reader_")
	member := pgtest.RandomName("cov_member_")
	if err := pgtest.AdminExec(ctx, srv.URL, fmt.Sprintf("create role %s nologin; create role %s nologin inherit in role %s", reader, member, reader)); err != nil {
		t.Fatal(err)
	}
	// Registered first, so it runs after the database is dropped.
	t.Cleanup(func() {
		_ = pgtest.AdminExec(context.Background(), srv.URL, fmt.Sprintf("drop role %s; drop role %s", member, reader))
	})
	conn := newDB(t, fmt.Sprintf(`
		create table public.b_items (id int primary key, secret text, owner uuid, "x,y" int);
		alter table public.b_items enable row level security;
		grant select (id, owner, "x,y"), update (owner) on public.b_items to authenticated;
		grant truncate, references, trigger on public.b_items to anon;
		grant all on public.b_items to service_role;
		grant delete on public.b_items to %s;
		create policy b_items_select on public.b_items for select to authenticated using (owner = (select auth.uid()));
		create policy b_items_update on public.b_items for update to authenticated using (owner = (select auth.uid())) with check (true);

		create table public.a_log (at timestamptz not null, body text) partition by range (at);
		alter table public.a_log enable row level security;
		create table public.a_log_hidden partition of public.a_log for values from ('2020-01-01') to ('2021-01-01');
		create table public.a_log_open partition of public.a_log default;
		grant select on public.a_log_open to anon;
	`, reader))
	rep, err := Run(ctx, conn, []string{"public"}, []string{"anon", "authenticated", member, "no_such_role"})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(rep.Roles, []string{"anon", "authenticated", member}) {
		t.Errorf("roles %v", rep.Roles)
	}
	var names []string
	for _, o := range rep.Objects {
		names = append(names, o.Display())
	}
	if want := []string{"public.a_log", "public.a_log_open", "public.b_items"}; !reflect.DeepEqual(names, want) {
		t.Errorf("objects %v, want %v (partition without privileges left out, sorted)", names, want)
	}
	objs := byName(rep)
	items := objs["public.b_items"]
	held := map[string]string{}
	for _, p := range items.Privileges {
		held[p.Role+" "+p.Privilege] = strings.Join(p.Columns, "|")
	}
	for k, cols := range map[string]string{
		"authenticated SELECT": "id|owner|x,y", "authenticated UPDATE": "owner",
		"anon TRUNCATE": "", "anon REFERENCES": "", "anon TRIGGER": "",
		member + " DELETE": "", "service_role INSERT": "", "service_role TRUNCATE": "",
	} {
		got, ok := held[k]
		if !ok {
			t.Errorf("privilege %s missing; have %v", k, held)
		} else if got != cols {
			t.Errorf("privilege %s on columns %q, want %q", k, got, cols)
		}
	}
	if _, ok := held["authenticated INSERT"]; ok {
		t.Error("authenticated INSERT reported")
	}
	if items.Verdict != GrantedWithoutPolicy || !reflect.DeepEqual(items.Uncovered, []string{member + " delete"}) {
		t.Errorf("b_items: %s %v", items.Verdict, items.Uncovered)
	}
	if !strings.Contains(strings.Join(items.Notes, "; "), "anon holds TRUNCATE") {
		t.Errorf("notes %v", items.Notes)
	}
	var sel Access
	for _, a := range items.Access {
		if a.Role == "authenticated" && a.Command == "select" {
			sel = a
		}
	}
	if !sel.Privileged || !sel.Covered || !reflect.DeepEqual(sel.Permissive, []string{"b_items_select"}) {
		t.Errorf("authenticated select access %+v", sel)
	}
	if p := objs["public.a_log_open"]; p.Partition != "public.a_log" || p.Verdict != ExposedWithoutRLS {
		t.Errorf("partition: %+v", p)
	}
	if v := objs["public.a_log"].Verdict; v != DenyByDefault {
		t.Errorf("a_log %s", v)
	}
	if rep.Total != 3 || rep.Totals[DenyByDefault] != 1 || rep.Totals[ExposedWithoutRLS] != 1 || rep.Totals[GrantedWithoutPolicy] != 1 {
		t.Errorf("totals %v", rep.Totals)
	}
	if want := 100.0 / 3; rep.Percent < want-0.01 || rep.Percent > want+0.01 {
		t.Errorf("percent %v", rep.Percent)
	}
	b, _ := json.Marshal(rep)
	for _, k := range []string{`"rls_enabled"`, `"partition_of":"public.a_log"`, `"with_check":"true"`, `"applies_to"`, `"percent"`, `"granted_without_policy":1`} {
		if !strings.Contains(string(b), k) {
			t.Errorf("JSON lacks %s", k)
		}
	}
}

func TestEmptySchema(t *testing.T) {
	t.Parallel()
	conn := newDB(t, "create schema empty;")
	rep, err := Run(context.Background(), conn, []string{"empty"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Total != 0 || rep.Percent != 100 || len(rep.Totals) != len(Verdicts) {
		t.Errorf("%+v", rep)
	}
}

// A table of per-user rows whose SELECT policy asks only about the caller
// (is_subscriber()) is row_independent, not covered; binding the row to
// the caller makes it covered.
func TestRowIndependentVerdict(t *testing.T) {
	t.Parallel()
	conn := newDB(t, `
create function public.is_subscriber() returns boolean language sql stable set search_path = '' as 'select auth.uid() is not null';
create table public.reports (id bigint primary key, owner uuid not null references auth.users (id), body text);
alter table public.reports enable row level security;
grant select on public.reports to authenticated;
create policy reports_select on public.reports for select to authenticated using (public.is_subscriber());
create table public.reports2 (id bigint primary key, owner uuid not null references auth.users (id), body text);
alter table public.reports2 enable row level security;
grant select on public.reports2 to authenticated;
create policy reports2_select on public.reports2 for select to authenticated using (owner = (select auth.uid()) and public.is_subscriber());
`)
	rep, err := Run(context.Background(), conn, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	objs := byName(rep)
	if v := objs["public.reports"].Verdict; v != RowIndependent {
		t.Errorf("reports: %s, want row_independent (%v)", v, objs["public.reports"].Notes)
	}
	if v := objs["public.reports2"].Verdict; v != Covered {
		t.Errorf("reports2: %s, want covered", v)
	}
	if rep.Percent >= 100 {
		t.Errorf("a row_independent table must not count as safe: %.1f%%", rep.Percent)
	}
}
