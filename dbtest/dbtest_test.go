package dbtest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/dbtool-dev/dbtool/internal/pgerr"
	"github.com/dbtool-dev/dbtool/internal/pgtest"
)

// TestMain writes the fixture project to a temporary folder, removed when
// the tests are done (before the server stops).
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "dbtest-fixture-")
	if err == nil {
		err = writeFixture(dir)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "dbtest: fixture project:", err)
		os.Exit(1)
	}
	fixtureDir = dir
	pgtest.BeforeStop(func(string) { os.RemoveAll(dir) })
	Main(m)
}

// fixture is a small project: a wallet per user under RLS, and two
// withdraw functions, one check-then-act without a lock, one with FOR UPDATE.
var fixture = map[string]string{
	"migrations/20260101000000_wallets.up.sql": `
create table public.wallets (
  owner   uuid primary key references auth.users (id) on delete cascade,
  balance integer not null check (balance >= -1000000)
);
alter table public.wallets enable row level security;
grant select on public.wallets to authenticated;
grant select, insert, update, delete on public.wallets to service_role;
create table public.withdrawals (id bigint generated always as identity primary key, owner uuid not null, amount integer not null);
alter table public.withdrawals enable row level security;
grant select on public.withdrawals to service_role;
`,
	"policies/wallets.sql": `
drop policy if exists wallets_select_own on public.wallets;
create policy wallets_select_own on public.wallets for select to authenticated using (owner = (select auth.uid()));
`,
	"procedures/wallet_withdraw_unlocked.sql": `
create or replace function public.wallet_withdraw_unlocked(amount integer) returns integer
language plpgsql security definer set search_path = '' as $$
declare
  current integer;
begin
  select w.balance into current from public.wallets w where w.owner = auth.uid();
  if current < wallet_withdraw_unlocked.amount then
    raise exception using errcode = 'P0001', message = 'insufficient balance', constraint = 'wallet_balance_sufficient';
  end if;
  perform pg_sleep(0.005); -- the work between check and act
  update public.wallets w set balance = w.balance - wallet_withdraw_unlocked.amount where w.owner = auth.uid();
  insert into public.withdrawals (owner, amount) values (auth.uid(), wallet_withdraw_unlocked.amount);
  return current - wallet_withdraw_unlocked.amount;
end $$;
revoke execute on function public.wallet_withdraw_unlocked(integer) from public;
grant execute on function public.wallet_withdraw_unlocked(integer) to authenticated;
`,
	"procedures/wallet_withdraw.sql": `
create or replace function public.wallet_withdraw(amount integer) returns integer
language plpgsql security definer set search_path = '' as $$
declare
  current integer;
begin
  select w.balance into current from public.wallets w where w.owner = auth.uid() for update;
  if current < wallet_withdraw.amount then
    raise exception using errcode = 'P0001', message = 'insufficient balance', constraint = 'wallet_balance_sufficient';
  end if;
  perform pg_sleep(0.005);
  update public.wallets w set balance = w.balance - wallet_withdraw.amount where w.owner = auth.uid();
  insert into public.withdrawals (owner, amount) values (auth.uid(), wallet_withdraw.amount);
  return current - wallet_withdraw.amount;
end $$;
revoke execute on function public.wallet_withdraw(integer) from public;
grant execute on function public.wallet_withdraw(integer) to authenticated;
`,
}

var fixtureDir string

func writeFixture(dir string) error {
	for p, c := range fixture {
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(p)), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, p), []byte(c), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// fixtureProject is the fixture written by TestMain.
func fixtureProject(testing.TB) Project { return Project{Dir: fixtureDir} }

func TestActingAsRoles(t *testing.T) {
	t.Parallel()
	db := NewFor(t, fixtureProject(t))
	ctx := context.Background()
	alice, bob := db.Persona(t, "alice"), db.Persona(t, "bob")
	if err := db.AsOwner(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, "insert into public.wallets values ($1, 10), ($2, 20)", alice.ID, bob.ID)
		return err
	}); err != nil {
		t.Fatal(err)
	}

	// The login role is not a superuser and owns nothing.
	err := db.AsPersona(ctx, alice, func(tx pgx.Tx) error {
		var super, bypass bool
		var sessionUser, currentUser, uid, method string
		if err := tx.QueryRow(ctx, `select r.rolsuper, r.rolbypassrls, session_user, current_user, auth.uid()::text, current_setting('request.method')
			from pg_roles r where r.rolname = session_user`).Scan(&super, &bypass, &sessionUser, &currentUser, &uid, &method); err != nil {
			return err
		}
		if super || bypass || currentUser != "authenticated" || uid != alice.ID || method != "POST" {
			return fmt.Errorf("session %s super=%v bypassrls=%v current_user=%s uid=%s method=%s", sessionUser, super, bypass, currentUser, uid, method)
		}
		// RLS: alice sees her wallet only.
		var n int
		if err := tx.QueryRow(ctx, "select count(*) from public.wallets").Scan(&n); err != nil {
			return err
		}
		if n != 1 {
			return fmt.Errorf("alice sees %d wallets, want 1", n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	// Legacy claim form is read by auth.uid() too.
	legacy := alice.Actor()
	legacy.Claims = map[string]any{"sub": alice.ID, "role": "authenticated"}
	legacy.LegacyClaims = true
	if err := db.As(ctx, legacy, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "select set_config('request.jwt.claims', '', true)"); err != nil {
			return err
		}
		var uid string
		if err := tx.QueryRow(ctx, "select auth.uid()::text").Scan(&uid); err != nil {
			return err
		}
		if uid != alice.ID {
			return fmt.Errorf("auth.uid() from the legacy claim = %s", uid)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	// anon has no privilege on wallets: 42501, not an empty result.
	err = db.AsAnon(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, "select * from public.wallets")
		return err
	})
	if pgerr.SQLState(err) != pgerr.InsufficientPrivilege {
		t.Errorf("anon reading wallets: %v, want 42501", err)
	}
	// service_role bypasses RLS.
	err = db.AsServiceRole(ctx, func(tx pgx.Tx) error {
		var n int
		if err := tx.QueryRow(ctx, "select count(*) from public.wallets").Scan(&n); err != nil {
			return err
		}
		if n != 2 {
			return fmt.Errorf("service_role sees %d wallets, want 2", n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// READ ONLY like a PostgREST GET.
	get := alice.Actor()
	get.Method, get.ReadOnly = "GET", true
	err = db.As(ctx, get, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, "select public.wallet_withdraw(1)")
		return err
	})
	if pgerr.SQLState(err) != "25006" {
		t.Errorf("a write in a GET request: %v, want 25006 read_only_sql_transaction", err)
	}
}

func withdrawRace(t *testing.T, fn string) (violations int) {
	db := NewFor(t, fixtureProject(t))
	ctx := context.Background()
	carol := db.Persona(t, "carol")
	actors := make([]Actor, 4)
	for i := range actors {
		actors[i] = carol.Actor()
	}
	const rounds = 30
	res, err := Race(ctx, db, actors, RaceOptions{
		Rounds: rounds,
		Setup: func(ctx context.Context, round int) error {
			return db.AsOwner(ctx, func(tx pgx.Tx) error {
				if _, err := tx.Exec(ctx, `insert into public.wallets values ($1, 1) on conflict (owner) do update set balance = 1`, carol.ID); err != nil {
					return err
				}
				_, err := tx.Exec(ctx, `delete from public.withdrawals`)
				return err
			})
		},
	}, func(ctx context.Context, tx pgx.Tx, caller int) (int, error) {
		var left int
		err := tx.QueryRow(ctx, "select public."+fn+"(1)").Scan(&left)
		return left, err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, round := range res {
		// Invariant: the balance of 1 allows exactly one withdrawal of 1.
		if Successes(round) != 1 {
			violations++
		}
		for _, o := range round {
			if o.Err != nil && o.SQLState != "P0001" {
				t.Errorf("%s round %d caller %d: unexpected error %v", fn, o.Round, o.Caller, o.Err)
			}
		}
	}
	return violations
}

// The race helper catches a real bug: check-then-act without a row lock
// lets several callers withdraw the same unit; FOR UPDATE does not.
func TestRaceCatchesMissingRowLock(t *testing.T) {
	t.Parallel()
	if v := withdrawRace(t, "wallet_withdraw_unlocked"); v == 0 {
		t.Error("the race test did not catch the missing row lock in any round")
	} else {
		t.Logf("unlocked check-then-act broke the invariant in %d of 30 rounds", v)
	}
	if v := withdrawRace(t, "wallet_withdraw"); v != 0 {
		t.Errorf("with FOR UPDATE the invariant broke in %d of 30 rounds", v)
	}
}

func TestTemplateBuiltOnceAndHalfBuiltRebuilt(t *testing.T) {
	t.Parallel()
	srv := pgtest.Server(t)
	ctx := context.Background()
	p := Project{Dir: t.TempDir()}
	os.MkdirAll(filepath.Join(p.Dir, "migrations"), 0o755)
	os.WriteFile(filepath.Join(p.Dir, "migrations", "20260101000000_x.up.sql"), []byte("create table public.x (id int);"), 0o644)
	tpl, err := PrepareTemplate(ctx, srv.URL, p)
	if err != nil {
		t.Fatal(err)
	}
	// Simulate a builder that died half-way in another process: forget the
	// cache, mark the template incomplete, and ask again.
	tplMu.Lock()
	delete(tplCache, srv.URL+"\x00"+tpl.Hash)
	tplMu.Unlock()
	if err := pgtest.AdminExec(ctx, srv.URL, "alter database "+tpl.Name+" is_template false allow_connections true"); err != nil {
		t.Fatal(err)
	}
	again, err := PrepareTemplate(ctx, srv.URL, p)
	if err != nil {
		t.Fatal(err)
	}
	if again.Name != tpl.Name {
		t.Errorf("same content, different template: %s vs %s", again.Name, tpl.Name)
	}
	var isTemplate bool
	conn, err := pgx.Connect(ctx, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if err := conn.QueryRow(ctx, "select datistemplate from pg_database where datname = $1", tpl.Name).Scan(&isTemplate); err != nil || !isTemplate {
		t.Errorf("half-built template not rebuilt: datistemplate=%v err=%v", isTemplate, err)
	}
	// A content change gives a new template.
	os.WriteFile(filepath.Join(p.Dir, "migrations", "20260102000000_y.up.sql"), []byte("create table public.y (id int);"), 0o644)
	changed, err := PrepareTemplate(ctx, srv.URL, p)
	if err != nil {
		t.Fatal(err)
	}
	if changed.Name == tpl.Name {
		t.Error("changed content reused the old template")
	}
}

func TestFailedTestKeepsDatabase(t *testing.T) {
	// Exercised through a sub-test that fails on purpose would fail this
	// test too; check the cleanup rule directly instead.
	ft := &fakeTB{TB: t}
	db := NewFor(ft, fixtureProject(t))
	ft.failed = true
	ft.runCleanups()
	conn, err := pgx.Connect(context.Background(), db.URL)
	if err != nil {
		t.Fatalf("database of a failed test was dropped: %v", err)
	}
	conn.Close(context.Background())
	if ft.logged == "" {
		t.Error("the kept database's URL was not logged")
	}
	pgtest.AdminExec(context.Background(), pgtest.Server(t).URL, "drop database "+db.Name+" with (force)")

	ok := &fakeTB{TB: t}
	db2 := NewFor(ok, fixtureProject(t))
	ok.runCleanups()
	if c, err := pgx.Connect(context.Background(), db2.URL); err == nil {
		c.Close(context.Background())
		t.Error("database of a passed test was kept")
	}
}

type fakeTB struct {
	testing.TB
	failed   bool
	cleanups []func()
	logged   string
}

func (f *fakeTB) Cleanup(fn func())            { f.cleanups = append(f.cleanups, fn) }
func (f *fakeTB) Failed() bool                 { return f.failed }
func (f *fakeTB) Logf(format string, a ...any) { f.logged += fmt.Sprintf(format, a...) }
func (f *fakeTB) Helper()                      {}
func (f *fakeTB) runCleanups() {
	for i := len(f.cleanups) - 1; i >= 0; i-- {
		f.cleanups[i]()
	}
}

// BenchmarkClone: a per-test database from an existing template, ready for
// a first query (target: median under 50 ms).
func BenchmarkClone(b *testing.B) {
	p := fixtureProject(b)
	srv := pgtest.Server(b)
	ctx := context.Background()
	tpl, err := PrepareTemplate(ctx, srv.URL, p)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		name, err := tpl.Clone(ctx)
		if err != nil {
			b.Fatal(err)
		}
		conn, err := pgx.Connect(ctx, pgtest.WithDatabase(srv.URL, name))
		if err != nil {
			b.Fatal(err)
		}
		conn.Close(ctx)
		b.StopTimer()
		pgtest.AdminExec(ctx, srv.URL, "drop database "+name)
		b.StartTimer()
	}
}
