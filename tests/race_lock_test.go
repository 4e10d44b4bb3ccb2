package tests

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dbtool-dev/dbtool/dbtest"
	"github.com/dbtool-dev/dbtool/gen"
)

// The crew lock (private.crew_claim) covers every quarter hour a slot
// touches: slots that only partly overlap still queue. With one free crew,
// of 8 customers asking for 60-minute holds starting a quarter hour apart
// (10:30 ... 12:15, every one overlapping the next), no two overlapping
// holds may both succeed.
func TestRacePartlyOverlappingSlots(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	rs := w.racers(t, 8)
	first := w.AtDay(2, 10, 30)
	starts := make([]time.Time, len(rs))
	for i := range starts {
		starts[i] = first.Add(time.Duration(i) * 15 * time.Minute)
	}
	end := starts[len(starts)-1].Add(time.Hour)
	res, err := dbtest.Race(w.Ctx, w.DB, actorsOf(rs), dbtest.RaceOptions{
		Rounds: raceRounds,
		Setup: func(ctx context.Context, round int) error {
			w.Owner(t, func(tx pgx.Tx) error {
				_, err := tx.Exec(ctx, `delete from public.holds where business_id = $1 and slot && tstzrange($2, $3)`, w.Biz.ID, first, end)
				return err
			})
			w.blockCrews(t, 2, first, end) // one crew left
			return nil
		},
	}, func(ctx context.Context, tx pgx.Tx, i int) (time.Time, error) {
		_, err := gen.New(tx).HoldCreate(ctx, holdParams(w.Biz.ID, w.Wash.ID, starts[i], rs[i].vehicle.ID, rs[i].address.ID))
		if err != nil {
			return time.Time{}, err
		}
		return starts[i], nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for r, round := range res {
		var won []time.Time
		for _, o := range round {
			if o.OK() {
				won = append(won, o.Value)
			}
		}
		if len(won) == 0 {
			t.Errorf("round %d: nobody got a hold", r)
		}
		for i := range won {
			for j := i + 1; j < len(won); j++ {
				a, b := won[i], won[j]
				if a.Before(b.Add(time.Hour)) && b.Before(a.Add(time.Hour)) {
					t.Errorf("round %d: overlapping holds %s and %s on the one free crew", r, a.Format("15:04"), b.Format("15:04"))
				}
			}
		}
		checkLosers(t, round, fails("PT409", "slot_unavailable"))
	}
}

// A confirmation whose hold's crew was blacked out falls back to another
// crew while four new holds compete for the same slot: crew_claim locks the
// hold's crew first and then others, hold_create locks crews by name, so
// the two walk the crews in different orders. Exactly the two crews left
// are taken, each once, nobody deadlocks (40P01) and the losers get 23P01.
// The hold sits on each of the three crews in turn, so its crew is the
// smallest, middle and greatest id in the crew-lock order.
func TestRaceConfirmFallsBackWhileHoldsCompete(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	rs := w.racers(t, 5)
	slot := w.AtDay(1, 13, 0)
	ids := make([]string, len(rs))
	for i, r := range rs {
		ids[i] = r.p.ID
	}
	byID := slices.Clone(w.Crews)
	slices.SortFunc(byID, func(a, b gen.Crew) int { return compareUUID(a.ID, b.ID) })
	var hold gen.Hold
	res, err := dbtest.Race(w.Ctx, w.DB, actorsOf(rs), dbtest.RaceOptions{
		Rounds: raceRounds,
		Setup: func(ctx context.Context, round int) error {
			w.Owner(t, func(tx pgx.Tx) error {
				if _, err := tx.Exec(ctx, `delete from public.blackouts where reason = 'race'`); err != nil {
					return err
				}
				if _, err := tx.Exec(ctx, `delete from public.appointments where customer_id = any ($1::uuid[])`, ids); err != nil {
					return err
				}
				_, err := tx.Exec(ctx, `delete from public.holds where customer_id = any ($1::uuid[])`, ids)
				return err
			})
			// Racer 1's hold, moved to crew round%3 (by id), whose crew is
			// then blacked out for the slot.
			hold = w.Hold(t, rs[0].p, w.Biz.ID, w.Wash.ID, slot, rs[0].vehicle.ID, rs[0].address.ID)
			crew := byID[round%3].ID
			w.Owner(t, func(tx pgx.Tx) error {
				if _, err := tx.Exec(ctx, `update public.holds set crew_id = $2 where id = $1`, hold.ID, crew); err != nil {
					return err
				}
				_, err := tx.Exec(ctx, `insert into public.blackouts (business_id, crew_id, during, reason)
					values ($1, $2, tstzrange($3, $4), 'race')`, w.Biz.ID, crew, slot, slot.Add(time.Hour))
				return err
			})
			return nil
		},
	}, func(ctx context.Context, tx pgx.Tx, i int) (string, error) {
		q := gen.New(tx)
		if i == 0 {
			rows, err := q.HoldConfirm(ctx, hold.ID)
			if err != nil {
				return "", err
			}
			return rows[0].CrewID, nil
		}
		rows, err := q.HoldCreate(ctx, holdParams(w.Biz.ID, w.Wash.ID, slot, rs[i].vehicle.ID, rs[i].address.ID))
		if err != nil {
			return "", err
		}
		return rows[0].CrewID, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for r, round := range res {
		if got := dbtest.Successes(round); got != 2 {
			t.Errorf("round %d: %d bookings on the 2 crews left", r, got)
		}
		checkLosers(t, round, fails("PT409", "slot_unavailable"))
		blocked := byID[r%3].ID
		crews := map[string]bool{}
		for _, o := range round {
			if !o.OK() {
				continue
			}
			if o.Value == blocked {
				t.Errorf("round %d caller %d: booked the blacked-out crew", r, o.Caller)
			}
			if crews[o.Value] {
				t.Errorf("round %d: crew %s booked twice", r, o.Value)
			}
			crews[o.Value] = true
		}
	}
	if n := w.Overlaps(t); n != 0 {
		t.Errorf("%d pairs of overlapping active appointments", n)
	}
}

// compareUUID orders uuids as PostgreSQL does (bytewise = their lower-case
// text).
func compareUUID(a, b string) int {
	return strings.Compare(strings.ToLower(a), strings.ToLower(b))
}
