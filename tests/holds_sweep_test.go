package tests

import (
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/dbtool-dev/dbtool/dbtest"
	"github.com/dbtool-dev/dbtool/gen"
)

// A confirmation changes only the hold's status, and no index reads status:
// the update is heap-only (HOT), no new entry in any of the hold's indexes.
// Counted by PostgreSQL itself for the transaction (pg_stat_xact_user_tables),
// not timed.
func TestHoldConfirmIsHeapOnlyUpdate(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	hold := w.Hold(t, w.Alice, w.Biz.ID, w.Wash.ID, w.At(15, 0), w.AliceCar.ID, w.AliceHome.ID)
	// The counters may also hold the backend's earlier, not yet reported
	// transactions: what the call adds is the difference.
	counts := func(tx pgx.Tx) (upd, hot int64, err error) {
		err = tx.QueryRow(w.Ctx, `select coalesce(sum(n_tup_upd), 0), coalesce(sum(n_tup_hot_upd), 0)
			from pg_catalog.pg_stat_xact_user_tables where schemaname = 'public' and relname = 'holds'`).Scan(&upd, &hot)
		return
	}
	expect(t, w.DB.As(w.Ctx, w.Alice.Actor(), func(tx pgx.Tx) error {
		upd0, hot0, err := counts(tx)
		if err != nil {
			return err
		}
		if err := one(gen.New(tx).HoldConfirm(w.Ctx, hold.ID)); err != nil {
			return err
		}
		upd, hot, err := counts(tx)
		if err != nil {
			return err
		}
		if upd, hot = upd-upd0, hot-hot0; upd != 1 || hot != 1 {
			t.Errorf("hold_confirm updated %d hold rows, %d of them heap-only; want 1 and 1", upd, hot)
		}
		return nil
	}), ok)
}

// holds_expire scans only expiries since its previous run, and a hold
// written with an expiry behind that mark is still swept.
func TestHoldsExpireSweepsBehindItsMark(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	sweep := func(want int32) {
		t.Helper()
		w.As(t, dbtest.ServiceRole(), func(q *gen.Queries) error {
			n, err := q.HoldsExpire(w.Ctx)
			if err == nil && n != want {
				t.Errorf("holds_expire expired %d holds, want %d", n, want)
			}
			return err
		})
	}
	backdate := func(hold, age string) {
		t.Helper()
		w.Owner(t, func(tx pgx.Tx) error {
			_, err := tx.Exec(w.Ctx, `update public.holds set created_at = now() - $2::interval - interval '15 minutes',
				expires_at = now() - $2::interval where id = $1`, hold, age)
			return err
		})
	}
	first := w.Hold(t, w.Alice, w.Biz.ID, w.Wash.ID, w.At(15, 0), w.AliceCar.ID, w.AliceHome.ID)
	backdate(first.ID, "2 hours")
	sweep(1)
	sweep(0) // nothing new

	var mark string
	w.Owner(t, func(tx pgx.Tx) error {
		return tx.QueryRow(w.Ctx, `select (swept_until < now() - interval '59 minutes' and swept_until > now() - interval '61 minutes')::text
			from private.holds_sweep`).Scan(&mark)
	})
	if mark != "true" {
		t.Errorf("the sweep's mark is not an hour before its run")
	}

	// Far behind the mark (three hours back): the rewind trigger moves the
	// mark, so the next sweep finds it.
	second := w.Hold(t, w.Bob, w.Biz.ID, w.Wash.ID, w.At(16, 0), w.BobCar.ID, w.BobHome.ID)
	backdate(second.ID, "3 hours")
	sweep(1)
	if n := w.Count(t, `public.holds where id = any ($1::uuid[]) and status = 'expired'`, []string{first.ID, second.ID}); n != 2 {
		t.Errorf("%d of the 2 lapsed holds are expired", n)
	}
	// A live hold is left alone.
	live := w.Hold(t, w.Alice, w.Biz.ID, w.Wash.ID, w.At(17, 0), w.AliceCar.ID, w.AliceHome.ID)
	sweep(0)
	if n := w.Count(t, `public.holds where id = $1 and status = 'active'`, live.ID); n != 1 {
		t.Error("holds_expire expired a live hold")
	}
}
