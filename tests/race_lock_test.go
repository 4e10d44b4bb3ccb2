package tests

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dbtool-dev/dbtool/dbtest"
	"github.com/dbtool-dev/dbtool/gen"
)

// The booking lock covers the quarter hours a slot touches: slots that only
// partly overlap, across quarter-hour and hour boundaries, still queue. With one free crew,
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
