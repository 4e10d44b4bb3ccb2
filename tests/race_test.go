package tests

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dbtool-dev/dbtool/dbtest"
	"github.com/dbtool-dev/dbtool/gen"
	"github.com/dbtool-dev/dbtool/internal/pgerr"
)

const raceRounds = 9

// racer is a customer with a vehicle and an address.
type racer struct {
	p       dbtest.Persona
	vehicle gen.Vehicle
	address gen.Address
}

func (w *World) racers(tb testing.TB, n int) []racer {
	tb.Helper()
	rs := make([]racer, n)
	for i := range rs {
		p := w.DB.Persona(tb, fmt.Sprintf("Racer %d", i+1))
		v, a := w.customer(tb, p, "sedan", fmt.Sprintf("R-%d", i+1))
		rs[i] = racer{p, v, a}
	}
	return rs
}

func actorsOf(rs []racer) []dbtest.Actor {
	as := make([]dbtest.Actor, len(rs))
	for i, r := range rs {
		as[i] = r.p.Actor()
	}
	return as
}

// checkLosers asserts that every failed outcome of a round is want.
func checkLosers[T any](t *testing.T, round []dbtest.Outcome[T], want Want) {
	t.Helper()
	for _, o := range round {
		if o.Err == nil {
			continue
		}
		pe, isPG := pgerr.PG(o.Err)
		if !isPG || pe.Code != want.State || pe.ConstraintName != want.Rule {
			t.Errorf("round %d caller %d: got %s, want %s", o.Round, o.Caller, describe(o.Err), want)
		}
	}
}

// blockCrews replaces the race blackouts: the first k crews of business 1
// are blacked out for [from, to). Written as Max through the binding.
func (w *World) blockCrews(tb testing.TB, k int, from, to time.Time) {
	tb.Helper()
	w.Owner(tb, func(tx pgx.Tx) error {
		_, err := tx.Exec(w.Ctx, `delete from public.blackouts where reason = 'race'`)
		return err
	})
	w.As(tb, w.Max.Actor(), func(q *gen.Queries) error {
		reason := "race"
		for _, c := range w.Crews[:k] {
			id := c.ID
			if _, err := q.BlackoutCreate(w.Ctx, gen.BlackoutCreateParams{BusinessID: w.Biz.ID, CrewID: &id, During: tsRange(from, to), Reason: &reason}); err != nil {
				return err
			}
		}
		return nil
	})
}

// freeCrews is availability_get's free_crews for a Wash at start (0 when
// the slot is not offered), asked as anon.
func (w *World) freeCrews(tb testing.TB, start time.Time) int {
	tb.Helper()
	n := 0
	w.As(tb, dbtest.Anon(), func(q *gen.Queries) error {
		rows, err := q.AvailabilityGet(w.Ctx, gen.AvailabilityGetParams{BusinessID: w.Biz.ID, ServiceID: w.Wash.ID, Day: pgDate(start.In(w.Loc))})
		for _, r := range rows {
			if r.SlotStart.Equal(start) {
				n = int(r.FreeCrews)
			}
		}
		return err
	})
	return n
}

// Eight customers take the last free crews of one slot at once: exactly as
// many holds as free crews, each on its own crew; the others get PT409 slot_unavailable.
func TestRaceLastFreeSlot(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	rs := w.racers(t, 8)
	slot := w.AtDay(1, 18, 30)
	capacity := func(round int) int { return 3 - round%3 }
	res, err := dbtest.Race(w.Ctx, w.DB, actorsOf(rs), dbtest.RaceOptions{
		Rounds: raceRounds,
		Setup: func(ctx context.Context, round int) error {
			w.Owner(t, func(tx pgx.Tx) error {
				_, err := tx.Exec(ctx, `delete from public.holds where business_id = $1 and lower(slot) = $2`, w.Biz.ID, slot)
				return err
			})
			w.blockCrews(t, 3-capacity(round), slot, slot.Add(time.Hour))
			if got := w.freeCrews(t, slot); got != capacity(round) {
				return fmt.Errorf("availability_get offers %d free crews, want %d", got, capacity(round))
			}
			return nil
		},
	}, func(ctx context.Context, tx pgx.Tx, i int) (string, error) {
		rows, err := gen.New(tx).HoldCreate(ctx, holdParams(w.Biz.ID, w.Wash.ID, slot, rs[i].vehicle.ID, rs[i].address.ID))
		if err != nil {
			return "", err
		}
		return rows[0].CrewID, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for r, round := range res {
		if got := dbtest.Successes(round); got != capacity(r) {
			t.Errorf("round %d: %d holds on %d free crews", r, got, capacity(r))
		}
		checkLosers(t, round, fails("PT409", "slot_unavailable"))
		crews := map[string]bool{}
		for _, o := range round {
			if o.OK() {
				if crews[o.Value] {
					t.Errorf("round %d: crew %s held twice", r, o.Value)
				}
				crews[o.Value] = true
			}
		}
	}
	if got := w.freeCrews(t, slot); got != 0 {
		t.Errorf("after the last round the slot still offers %d free crews", got)
	}
	t.Logf("%d rounds: holds = free crews, losers PT409 slot_unavailable", len(res))
}

// Six customers move their appointments into the same slot at once:
// exactly as many moves as free crews succeed, and no crew ever has two
// overlapping active appointments.
func TestRaceRescheduleIntoLastSlot(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	rs := w.racers(t, 6)
	target := w.AtDay(1, 16, 0)
	capacity := func(round int) int { return 1 + round%3 }
	appts := make([]gen.Appointment, len(rs))
	var previous int
	check := func(round int) {
		if n := w.Overlaps(t); n != 0 {
			t.Errorf("after round %d: %d pairs of overlapping active appointments on one crew", round, n)
		}
		if n := w.Count(t, `public.appointments where business_id = $1 and status = 'confirmed' and lower(slot) = $2`, w.Biz.ID, target); n != previous {
			t.Errorf("after round %d: %d appointments at the target, want %d", round, n, previous)
		}
	}
	res, err := dbtest.Race(w.Ctx, w.DB, actorsOf(rs), dbtest.RaceOptions{
		Rounds: raceRounds,
		Setup: func(ctx context.Context, round int) error {
			if round > 0 {
				check(round - 1)
			}
			w.Owner(t, func(tx pgx.Tx) error {
				ids := make([]string, len(rs))
				for i, r := range rs {
					ids[i] = r.p.ID
				}
				if _, err := tx.Exec(ctx, `delete from public.appointments where customer_id = any ($1::uuid[])`, ids); err != nil {
					return err
				}
				_, err := tx.Exec(ctx, `delete from public.holds where customer_id = any ($1::uuid[])`, ids)
				return err
			})
			for i, r := range rs { // 07:00, 08:00, ... 12:00 on a free day
				appts[i] = w.Book(t, r.p, w.Biz.ID, w.Wash.ID, w.AtDay(1, 7+i, 0), r.vehicle.ID, r.address.ID)
			}
			w.blockCrews(t, 3-capacity(round), target, target.Add(time.Hour))
			previous = capacity(round)
			return nil
		},
	}, func(ctx context.Context, tx pgx.Tx, i int) (string, error) {
		rows, err := gen.New(tx).AppointmentReschedule(ctx, gen.AppointmentRescheduleParams{AppointmentID: appts[i].ID, NewStart: target})
		if err != nil {
			return "", err
		}
		return rows[0].CrewID, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	check(len(res) - 1)
	for r, round := range res {
		if got := dbtest.Successes(round); got != capacity(r) {
			t.Errorf("round %d: %d moves into %d free crews", r, got, capacity(r))
		}
		checkLosers(t, round, fails("PT409", "slot_unavailable"))
	}
}

// The same hold confirmed from six requests at once: one appointment.
func TestRaceConfirmSameHold(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	actors := make([]dbtest.Actor, 6)
	for i := range actors {
		actors[i] = w.Alice.Actor()
	}
	var hold gen.Hold
	check := func(round int) {
		if n := w.Count(t, `public.appointments where hold_id = $1`, hold.ID); n != 1 {
			t.Errorf("round %d: %d appointments from one hold", round, n)
		}
		if n := w.Count(t, `public.holds where id = $1 and status = 'confirmed'`, hold.ID); n != 1 {
			t.Errorf("round %d: the hold is not confirmed", round)
		}
	}
	res, err := dbtest.Race(w.Ctx, w.DB, actors, dbtest.RaceOptions{
		Rounds: raceRounds,
		Setup: func(ctx context.Context, round int) error {
			if round > 0 {
				check(round - 1)
				w.Owner(t, func(tx pgx.Tx) error {
					_, err := tx.Exec(ctx, `delete from public.appointments where hold_id = $1`, hold.ID)
					return err
				})
			}
			hold = w.Hold(t, w.Alice, w.Biz.ID, w.Wash.ID, w.AtDay(1, 10, 0), w.AliceCar.ID, w.AliceHome.ID, w.Wax.ID)
			return nil
		},
	}, func(ctx context.Context, tx pgx.Tx, i int) (string, error) {
		rows, err := gen.New(tx).HoldConfirm(ctx, hold.ID)
		if err != nil {
			return "", err
		}
		return rows[0].ID, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	check(len(res) - 1)
	for r, round := range res {
		if got := dbtest.Successes(round); got != 1 {
			t.Errorf("round %d: %d confirmations of one hold", r, got)
		}
		checkLosers(t, round, fails("PT409", "hold_not_active"))
	}
}

// One customer opens holds from four requests at once with a cap of one:
// the cap holds under concurrency.
func TestRaceHoldCap(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.As(t, w.Olga.Actor(), func(q *gen.Queries) error {
		v := int32(2)
		return one(q.BusinessSettingSet(w.Ctx, gen.BusinessSettingSetParams{BusinessID: w.Biz.ID, Key: "max_active_holds_per_customer", Value: &v}))
	})
	actors := make([]dbtest.Actor, 4)
	for i := range actors {
		actors[i] = w.Alice.Actor()
	}
	res, err := dbtest.Race(w.Ctx, w.DB, actors, dbtest.RaceOptions{
		Rounds: raceRounds,
		Setup: func(ctx context.Context, round int) error {
			w.Owner(t, func(tx pgx.Tx) error {
				_, err := tx.Exec(ctx, `delete from public.holds where customer_id = $1 and id <> $2`, w.Alice.ID, w.AliceHold.ID)
				return err
			})
			return nil
		},
	}, func(ctx context.Context, tx pgx.Tx, i int) (string, error) {
		// Alice already holds one slot (AliceHold): one more fits the cap of 2.
		rows, err := gen.New(tx).HoldCreate(ctx, holdParams(w.Biz.ID, w.Wash.ID, w.AtDay(2, 8+2*i, 0), w.AliceCar.ID, w.AliceHome.ID))
		if err != nil {
			return "", err
		}
		return rows[0].ID, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for r, round := range res {
		if got := dbtest.Successes(round); got != 1 {
			t.Errorf("round %d: %d holds past a cap leaving room for 1", r, got)
		}
		checkLosers(t, round, fails("P0001", "hold_cap_reached"))
	}
}

// Two owners demote (or remove) at once: the business never ends up
// without an owner, exactly one change wins.
func TestRaceOwnersDemoteEachOther(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	cleo := w.DB.Persona(t, "Cleo Coowner")
	w.invite(t, w.Olga, w.Biz.ID, cleo, "owner")
	owners := []dbtest.Persona{w.Olga, cleo}

	scenarios := []struct {
		name   string
		call   func(ctx context.Context, q *gen.Queries, i int) error
		losers Want
	}{
		{"each demotes the other", func(ctx context.Context, q *gen.Queries, i int) error {
			return one(q.MemberSetRole(ctx, gen.MemberSetRoleParams{BusinessID: w.Biz.ID, UserID: owners[1-i].ID, Role: "manager"}))
		}, fails("42501", "owner_required")},
		{"each demotes themselves", func(ctx context.Context, q *gen.Queries, i int) error {
			return one(q.MemberSetRole(ctx, gen.MemberSetRoleParams{BusinessID: w.Biz.ID, UserID: owners[i].ID, Role: "staff"}))
		}, fails("PT409", "last_owner")},
		{"each leaves", func(ctx context.Context, q *gen.Queries, i int) error {
			return q.MemberRemove(ctx, gen.MemberRemoveParams{BusinessID: w.Biz.ID, UserID: owners[i].ID})
		}, fails("PT409", "last_owner")},
		{"each removes the other", func(ctx context.Context, q *gen.Queries, i int) error {
			return q.MemberRemove(ctx, gen.MemberRemoveParams{BusinessID: w.Biz.ID, UserID: owners[1-i].ID})
		}, fails("42501", "owner_required")},
	}
	ownerCount := func() int {
		return w.Count(t, `public.business_members where business_id = $1 and role = 'owner'`, w.Biz.ID)
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			res, err := dbtest.Race(w.Ctx, w.DB, []dbtest.Actor{w.Olga.Actor(), cleo.Actor()}, dbtest.RaceOptions{
				Rounds: raceRounds,
				Setup: func(ctx context.Context, round int) error {
					if round > 0 && ownerCount() != 1 {
						return fmt.Errorf("after round %d the business has %d owners, want 1", round-1, ownerCount())
					}
					w.Owner(t, func(tx pgx.Tx) error {
						_, err := tx.Exec(ctx, `insert into public.business_members (business_id, user_id, role)
							select $1, u, 'owner' from unnest($2::uuid[]) u
							on conflict (business_id, user_id) do update set role = 'owner'`, w.Biz.ID, []string{w.Olga.ID, cleo.ID})
						return err
					})
					return nil
				},
			}, func(ctx context.Context, tx pgx.Tx, i int) (struct{}, error) {
				return struct{}{}, sc.call(ctx, gen.New(tx), i)
			})
			if err != nil {
				t.Fatal(err)
			}
			if n := ownerCount(); n != 1 {
				t.Errorf("after the last round the business has %d owners, want 1", n)
			}
			for r, round := range res {
				if got := dbtest.Successes(round); got != 1 {
					t.Errorf("round %d: %d of 2 changes succeeded, want 1", r, got)
				}
				checkLosers(t, round, sc.losers)
			}
		})
	}
}

// One customer confirms three holds at once with room for one more
// upcoming appointment: the appointment cap holds under concurrency.
func TestRaceAppointmentCap(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.setSetting(t, "max_upcoming_appointments_per_customer", 2) // Alice has AliceAppt: room for one
	holds := make([]gen.Hold, 3)
	actors := []dbtest.Actor{w.Alice.Actor(), w.Alice.Actor(), w.Alice.Actor()}
	res, err := dbtest.Race(w.Ctx, w.DB, actors, dbtest.RaceOptions{
		Rounds: raceRounds,
		Setup: func(ctx context.Context, round int) error {
			w.Owner(t, func(tx pgx.Tx) error {
				if _, err := tx.Exec(ctx, `delete from public.appointments where customer_id = $1 and id <> $2`, w.Alice.ID, w.AliceAppt.ID); err != nil {
					return err
				}
				_, err := tx.Exec(ctx, `delete from public.holds where customer_id = $1 and status <> 'confirmed'`, w.Alice.ID)
				return err
			})
			for i := range holds {
				holds[i] = w.Hold(t, w.Alice, w.Biz.ID, w.Wash.ID, w.AtDay(1, 8+2*i, 0), w.AliceCar.ID, w.AliceHome.ID)
			}
			return nil
		},
	}, func(ctx context.Context, tx pgx.Tx, i int) (string, error) {
		rows, err := gen.New(tx).HoldConfirm(ctx, holds[i].ID)
		if err != nil {
			return "", err
		}
		return rows[0].ID, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for r, round := range res {
		if got := dbtest.Successes(round); got != 1 {
			t.Errorf("round %d: %d confirmations with room for 1", r, got)
		}
		checkLosers(t, round, fails("P0001", "appointment_cap_reached"))
	}
	if n := w.Count(t, `public.appointments where customer_id = $1 and status = 'confirmed'`, w.Alice.ID); n != 2 {
		t.Errorf("Alice has %d upcoming appointments, cap 2", n)
	}
}

// New holds and moved appointments compete for the one free crew of a
// slot: exactly one of the six wins, whichever procedure it came through.
func TestRaceHoldsAndReschedulesForLastCrew(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	rs := w.racers(t, 6)
	target := w.AtDay(1, 16, 0)
	appts := make([]gen.Appointment, 3)
	ids := make([]string, len(rs))
	for i, r := range rs {
		ids[i] = r.p.ID
	}
	res, err := dbtest.Race(w.Ctx, w.DB, actorsOf(rs), dbtest.RaceOptions{
		Rounds: raceRounds,
		Setup: func(ctx context.Context, round int) error {
			w.Owner(t, func(tx pgx.Tx) error {
				if _, err := tx.Exec(ctx, `delete from public.appointments where customer_id = any ($1::uuid[])`, ids); err != nil {
					return err
				}
				_, err := tx.Exec(ctx, `delete from public.holds where customer_id = any ($1::uuid[])`, ids)
				return err
			})
			for i := range appts { // racers 4-6 own appointments at 08:00, 09:00, 10:00
				r := rs[3+i]
				appts[i] = w.Book(t, r.p, w.Biz.ID, w.Wash.ID, w.AtDay(1, 8+i, 0), r.vehicle.ID, r.address.ID)
			}
			w.blockCrews(t, 2, target, target.Add(time.Hour))
			return nil
		},
	}, func(ctx context.Context, tx pgx.Tx, i int) (string, error) {
		q := gen.New(tx)
		if i < 3 { // racers 1-3 take a new hold
			rows, err := q.HoldCreate(ctx, holdParams(w.Biz.ID, w.Wash.ID, target, rs[i].vehicle.ID, rs[i].address.ID))
			if err != nil {
				return "", err
			}
			return rows[0].CrewID, nil
		}
		rows, err := q.AppointmentReschedule(ctx, gen.AppointmentRescheduleParams{AppointmentID: appts[i-3].ID, NewStart: target})
		if err != nil {
			return "", err
		}
		return rows[0].CrewID, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for r, round := range res {
		if got := dbtest.Successes(round); got != 1 {
			t.Errorf("round %d: %d of 6 got the one free crew", r, got)
		}
		checkLosers(t, round, fails("PT409", "slot_unavailable"))
	}
	if n := w.Overlaps(t); n != 0 {
		t.Errorf("%d pairs of overlapping active appointments", n)
	}
	if n := w.Count(t, `(select crew_id from public.appointments where status = 'confirmed' and slot && tstzrange($1, $2)
		union all select crew_id from public.holds where status = 'active' and slot && tstzrange($1, $2)) x`, target, target.Add(time.Hour)); n != 1 {
		t.Errorf("%d bookings occupy the target hour after the last round, want 1", n)
	}
}
