package lint

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/dbtool-dev/dbtool/internal/coverage"
)

// benchSchema generates tables tables with 4 policies each (select, insert,
// update, delete) and functions functions, with a sprinkling of defects so
// that rules have work to do: unwrapped auth.uid(), unindexed foreign keys,
// secret columns, tables without RLS, definer functions without a caller
// check, a third of the tables reading members in a sub-query, and one
// recursive pair (members and t0000).
func benchSchema(tables, functions int) string {
	var b strings.Builder
	b.WriteString(`
create schema private;
grant usage on schema private to authenticated;
create table public.members (org_id bigint not null, user_id uuid not null, primary key (org_id, user_id));
alter table public.members enable row level security;
create function private.my_org_ids() returns setof bigint language sql stable security definer set search_path = ''
  as 'select m.org_id from public.members m where m.user_id = (select auth.uid())';
grant execute on function private.my_org_ids() to authenticated;
`)
	for i := 0; i < tables; i++ {
		t := fmt.Sprintf("t%04d", i)
		fmt.Fprintf(&b, "create table public.%s (id bigint generated always as identity primary key, org_id bigint not null, owner uuid not null, body text, created_at timestamptz not null default now()", t)
		if i > 0 && i%10 == 0 {
			fmt.Fprintf(&b, ", parent_id bigint references public.t%04d (id)", i-1)
		}
		if i%50 == 0 {
			b.WriteString(", api_token text")
		}
		b.WriteString(");\n")
		fmt.Fprintf(&b, "create index %s_owner_idx on public.%s (owner);\n", t, t)
		if i%100 != 99 {
			fmt.Fprintf(&b, "alter table public.%s enable row level security;\n", t)
		}
		fmt.Fprintf(&b, "grant select, insert, update, delete on public.%s to authenticated;\n", t)
		if i%3 == 0 {
			// a sub-query on members: an edge of the policy graph
			fmt.Fprintf(&b, "create policy %s_select_member on public.%s for select to authenticated using (org_id in (select m.org_id from public.members m where m.user_id = (select auth.uid())));\n", t, t)
		} else {
			fmt.Fprintf(&b, "create policy %s_select_member on public.%s for select to authenticated using (org_id = any(array(select private.my_org_ids())));\n", t, t)
		}
		fmt.Fprintf(&b, "create policy %s_insert_own on public.%s for insert to authenticated with check (owner = (select auth.uid()));\n", t, t)
		fmt.Fprintf(&b, "create policy %s_update_own on public.%s for update to authenticated using (owner = (select auth.uid())) with check (owner = (select auth.uid()));\n", t, t)
		fmt.Fprintf(&b, "create policy %s_delete_own on public.%s for delete to authenticated using (owner = auth.uid() and body is not null);\n", t, t)
	}
	for i := 0; i < functions; i++ {
		t := fmt.Sprintf("t%04d", i%tables)
		definer, check := "security definer", "if auth.uid() is null then raise exception using errcode = '42501'; end if;"
		switch i % 5 {
		case 1:
			definer = "security invoker"
		case 2:
			check = ""
		}
		fmt.Fprintf(&b, `create function public.f%03d(x bigint) returns bigint language plpgsql %s set search_path = '' as $$
begin
  %s
  update public.%s set body = body where id = x;
  return x;
end $$;
grant execute on function public.f%03d(bigint) to authenticated;
`, i, definer, check, t, i)
	}
	// members and t0000 read each other: one recursive pair to find
	b.WriteString("create policy members_select on public.members for select to authenticated using (user_id = (select auth.uid()) or org_id in (select x.org_id from public.t0000 x));\n")
	return b.String()
}

// BenchmarkCoverageAndLint: coverage and every lint rule on 1,000 tables,
// 4,000 policies and 500 functions (target: under 2 s together).
func BenchmarkCoverageAndLint(b *testing.B) {
	ctx := context.Background()
	conn, _ := newDB(b)
	execSQL(b, conn, benchSchema(1000, 500))
	if _, err := conn.Exec(ctx, "analyze"); err != nil {
		b.Fatal(err)
	}
	var findings, objects int
	for b.Loop() {
		rep, err := coverage.Run(ctx, conn, nil, nil)
		if err != nil {
			b.Fatal(err)
		}
		res, err := Run(ctx, conn, Options{})
		if err != nil {
			b.Fatal(err)
		}
		objects, findings = rep.Total, len(res.Findings)
	}
	b.ReportMetric(float64(objects), "objects")
	b.ReportMetric(float64(findings), "findings")
}

// BenchmarkRules times each rule alone on the same schema, to find the
// slow ones.
func BenchmarkRules(b *testing.B) {
	ctx := context.Background()
	conn, _ := newDB(b)
	execSQL(b, conn, benchSchema(1000, 500))
	if _, err := conn.Exec(ctx, "analyze"); err != nil {
		b.Fatal(err)
	}
	for _, r := range Rules() {
		b.Run(r.ID+"_"+r.Name, func(b *testing.B) {
			for b.Loop() {
				if _, err := Run(ctx, conn, Options{Rules: []string{r.Name}}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("coverage", func(b *testing.B) {
		for b.Loop() {
			if _, err := coverage.Run(ctx, conn, nil, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
}
