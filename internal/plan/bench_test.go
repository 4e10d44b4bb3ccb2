package plan_test

import (
	"context"
	"testing"

	"github.com/dbtool-dev/dbtool/internal/pgtest"
	"github.com/dbtool-dev/dbtool/internal/plan"
)

// tenStatements is a realistic migration on the backbone: indexes, columns,
// constraints, a backfill, a policy and a routine.
const tenStatements = `set lock_timeout = '5s';
create index vehicles_plate_idx on public.vehicles (plate);
alter table public.vehicles add column color text;
update public.vehicles set color = 'unknown';
alter table public.vehicles add constraint vehicles_color_check check (color is not null) not valid;
alter table public.vehicles validate constraint vehicles_color_check;
alter table public.vehicles alter column color set not null;
alter table public.addresses add column note text not null default '';
create index addresses_postal_code_idx on public.addresses (postal_code);
create function public.vehicle_count() returns bigint language sql stable set search_path = '' as $$ select count(*) from public.vehicles $$;
`

// BenchmarkPlan: end to end (base database from the backbone's files,
// 10,000 rows per table, access matrix before and after, a 10-statement
// migration). Target: < 5 s on this machine.
func BenchmarkPlan(b *testing.B) {
	srv := pgtest.Server(b)
	base := copyProject(b, nil)
	head := copyProject(b, map[string]string{newMigration: tenStatements})
	var res *plan.Result
	for b.Loop() {
		var err error
		res, err = plan.Run(context.Background(), plan.Options{ServerURL: srv.URL, Base: base, Head: head, Rows: 10000, LockTimeout: true})
		if err != nil {
			b.Fatal(err)
		}
	}
	var rows int64
	for _, n := range res.Rows {
		rows += n
	}
	b.ReportMetric(float64(len(res.Files[0].Statements)), "statements")
	b.ReportMetric(float64(rows), "rows")
}
