package tests

import (
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dbtool-dev/dbtool/dbtest"
	"github.com/dbtool-dev/dbtool/gen"
)

// TestAvailabilityTimeZones: slots are on the 15-minute grid of the
// business's local time, inside its local working hours.
func TestAvailabilityTimeZones(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	cases := []struct {
		name        string
		business    string
		service     string
		day         time.Time
		addons      []string
		first, last time.Time
		count       int
	}{
		// Wash + Wax = 75 minutes: 07:00 to 19:45 Berlin time.
		{"Berlin, Wash with Wax", w.Biz.ID, w.Wash.ID, w.Day, []string{w.Wax.ID}, w.At(7, 0), w.At(19, 45), 52},
		// Detail = 90 minutes: 07:00 to 19:30.
		{"Berlin, Detail", w.Biz.ID, w.Detail.ID, w.Day, nil, w.At(7, 0), w.At(19, 30), 51},
		// Quick Rinse = 30 minutes: 07:00 to 20:30 New York time, 55 starts,
		// less 09:45, 10:00, 10:15 (Crew N is with Dave 10:00-10:30) and
		// 11:45, 12:00, 12:15 (Dave's hold 12:00-12:30).
		{"New York, Quick Rinse", w.Biz2.ID, w.Rinse2.ID, w.Day2, nil, w.At2(7, 0), w.At2(20, 30), 55 - 6},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var rows []gen.AvailabilityGetRow
			w.As(t, dbtest.Anon(), func(q *gen.Queries) error {
				var err error
				rows, err = q.AvailabilityGet(w.Ctx, gen.AvailabilityGetParams{BusinessID: c.business, ServiceID: c.service, Day: pgDate(c.day), AddonIds: uuidArray(c.addons...)})
				return err
			})
			if len(rows) != c.count {
				t.Fatalf("%d slots, want %d", len(rows), c.count)
			}
			if !rows[0].SlotStart.Equal(c.first) || !rows[len(rows)-1].SlotStart.Equal(c.last) {
				t.Errorf("slots from %v to %v, want %v to %v", rows[0].SlotStart, rows[len(rows)-1].SlotStart, c.first, c.last)
			}
			for _, r := range rows {
				local := r.SlotStart.In(c.first.Location())
				if local.Minute()%15 != 0 || local.Second() != 0 || r.FreeCrews < 1 || !r.SlotEnd.After(r.SlotStart) {
					t.Errorf("slot %v-%v free %d is off the local grid or empty", r.SlotStart, r.SlotEnd, r.FreeCrews)
				}
			}
		})
	}
}

// TestBookingLifecycle follows one booking through every procedure and
// checks what each writes: price, crew, add-ons, history, messages,
// capacity given back.
func TestBookingLifecycle(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := w.Ctx
	start := w.AtDay(1, 11, 0)
	free := func() int { return w.freeCrews(t, start) }
	if n := free(); n != 3 {
		t.Fatalf("%d free crews at 11:00 on an empty day, want 3", n)
	}

	// A hold: price = Wash for a sedan + Wax, 75 minutes, hold_minutes long.
	w.setSetting(t, "hold_minutes", 30)
	hold := w.Hold(t, w.Alice, w.Biz.ID, w.Wash.ID, start, w.AliceCar.ID, w.AliceHome.ID, w.Wax.ID)
	if hold.PriceCents != 4000+1500 || hold.Status != "active" || hold.CustomerID != w.Alice.ID ||
		!hold.Slot.Lower.Time.Equal(start) || !hold.Slot.Upper.Time.Equal(start.Add(75*time.Minute)) ||
		hold.ExpiresAt.Sub(hold.CreatedAt) != 30*time.Minute {
		t.Errorf("hold %+v", hold)
	}
	if n := free(); n != 2 {
		t.Errorf("a live hold leaves %d free crews, want 2", n)
	}

	// Confirm: the appointment takes the hold's crew, price and add-on.
	var appt gen.Appointment
	w.As(t, w.Alice.Actor(), func(q *gen.Queries) error {
		rows, err := q.HoldConfirm(ctx, hold.ID)
		if err == nil {
			appt = rows[0]
		}
		return err
	})
	if appt.CrewID != hold.CrewID || appt.PriceCents != 5500 || appt.Currency != "EUR" || appt.Status != "confirmed" ||
		appt.HoldID == nil || *appt.HoldID != hold.ID || !appt.Slot.Lower.Time.Equal(start) {
		t.Errorf("appointment %+v from hold %+v", appt, hold)
	}
	var addonName string
	var addonPrice int32
	w.AsTx(t, w.Sam.Actor(), func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `select name, price_cents from public.appointment_addons where appointment_id = $1`, appt.ID).Scan(&addonName, &addonPrice)
	})
	if addonName != "Wax" || addonPrice != 1500 {
		t.Errorf("staff see add-on %q at %d, want Wax at 1500", addonName, addonPrice)
	}
	if n := w.Count(t, `public.holds where id = $1 and status = 'confirmed'`, hold.ID); n != 1 {
		t.Errorf("hold not marked confirmed")
	}

	// Reschedule by the customer: same crew when it is free.
	moved := w.AtDay(1, 14, 0)
	w.As(t, w.Alice.Actor(), func(q *gen.Queries) error {
		rows, err := q.AppointmentReschedule(ctx, gen.AppointmentRescheduleParams{AppointmentID: appt.ID, NewStart: moved})
		if err == nil && (rows[0].CrewID != appt.CrewID || !rows[0].Slot.Lower.Time.Equal(moved) || !rows[0].Slot.Upper.Time.Equal(moved.Add(75*time.Minute))) {
			t.Errorf("rescheduled to %+v", rows[0])
		}
		return err
	})
	if n := free(); n != 3 {
		t.Errorf("the old slot has %d free crews after the move, want 3", n)
	}

	// Messages both ways; staff move it through its states with a note.
	w.post(t, w.Alice, appt.ID, "Blue car in the driveway.")
	w.post(t, w.Sam, appt.ID, "Noted.")
	w.As(t, w.Sam.Actor(), func(q *gen.Queries) error {
		note := "crew arrived"
		if err := one(q.AppointmentSetStatus(ctx, gen.AppointmentSetStatusParams{AppointmentID: appt.ID, Status: "in_progress", Note: &note})); err != nil {
			return err
		}
		return one(q.AppointmentSetStatus(ctx, gen.AppointmentSetStatusParams{AppointmentID: appt.ID, Status: "completed"}))
	})

	// What the customer reads back: the thread and the history.
	w.As(t, w.Alice.Actor(), func(q *gen.Queries) error {
		msgs, err := q.AppointmentMessageList(ctx, appt.ID)
		if err != nil {
			return err
		}
		// The customer's own id on their message; a staff message says staff, never whose.
		if len(msgs) != 2 || msgs[0].AuthorRole != "customer" || msgs[0].AuthorID == nil || *msgs[0].AuthorID != w.Alice.ID ||
			msgs[1].AuthorRole != "staff" || msgs[1].AuthorID != nil {
			t.Errorf("thread %+v", msgs)
		}
		hist, err := q.AppointmentStatusHistoryList(ctx, appt.ID)
		if err != nil {
			return err
		}
		type step struct{ from, to, role, by string }
		want := []step{{"", "confirmed", "customer", w.Alice.ID}, {"confirmed", "confirmed", "customer", w.Alice.ID}, {"confirmed", "in_progress", "staff", ""}, {"in_progress", "completed", "staff", ""}}
		if len(hist) != len(want) {
			t.Fatalf("history has %d rows, want %d: %+v", len(hist), len(want), hist)
		}
		for i, h := range hist {
			from := ""
			if h.FromStatus != nil {
				from = *h.FromStatus
			}
			by := ""
			if h.ChangedBy != nil {
				by = *h.ChangedBy
			}
			if from != want[i].from || h.ToStatus != want[i].to || h.ChangedByRole != want[i].role || by != want[i].by {
				t.Errorf("history row %d: %s -> %s by %s %q, want %+v", i, from, h.ToStatus, h.ChangedByRole, by, want[i])
			}
		}
		if !hist[1].FromSlot.Lower.Time.Equal(start) || !hist[1].ToSlot.Lower.Time.Equal(moved) {
			t.Errorf("reschedule history %v -> %v", hist[1].FromSlot.Lower.Time, hist[1].ToSlot.Lower.Time)
		}
		if hist[2].Note == nil || *hist[2].Note != "crew arrived" {
			t.Errorf("status note %v", hist[2].Note)
		}
		return nil
	})

	// Cancel and release give capacity back.
	second := w.Book(t, w.Bob, w.Biz.ID, w.Wash.ID, start, w.BobCar.ID, w.BobHome.ID)
	held := w.Hold(t, w.Dave, w.Biz.ID, w.Detail.ID, start, w.DaveCar.ID, w.DaveHome.ID)
	if n := free(); n != 1 {
		t.Errorf("%d free crews with an appointment and a hold, want 1", n)
	}
	w.As(t, w.Bob.Actor(), func(q *gen.Queries) error {
		reason := "  away that week  "
		rows, err := q.AppointmentCancel(ctx, gen.AppointmentCancelParams{AppointmentID: second.ID, Reason: &reason})
		if err == nil && (rows[0].CancelReason == nil || *rows[0].CancelReason != "away that week" || rows[0].CancelledBy == nil || *rows[0].CancelledBy != w.Bob.ID ||
			rows[0].CancelledByRole == nil || *rows[0].CancelledByRole != "customer") {
			t.Errorf("cancelled %+v", rows[0])
		}
		return err
	})
	w.As(t, w.Dave.Actor(), func(q *gen.Queries) error { return q.HoldRelease(ctx, held.ID) })
	if n := free(); n != 3 {
		t.Errorf("%d free crews after cancel and release, want 3", n)
	}

	// A hold past its expiry no longer blocks, before and after the sweep.
	lapsing := w.Hold(t, w.Bob, w.Biz.ID, w.Wash.ID, start, w.BobCar.ID, w.BobHome.ID)
	w.Owner(t, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `update public.holds set created_at = now() - interval '1 hour', expires_at = now() - interval '1 second' where id = $1`, lapsing.ID)
		return err
	})
	if n := free(); n != 3 {
		t.Errorf("an expired hold still blocks: %d free crews", n)
	}
	w.As(t, dbtest.ServiceRole(), func(q *gen.Queries) error {
		n, err := q.HoldsExpire(ctx)
		if err == nil && n != 1 {
			t.Errorf("holds_expire expired %d holds, want 1", n)
		}
		return err
	})
	if n := w.Count(t, `public.holds where id = $1 and status = 'expired'`, lapsing.ID); n != 1 {
		t.Errorf("holds_expire did not mark the hold expired")
	}
}

// A forged role claim does not make a signed-in user service_role: the
// per-customer caps still apply.
func TestForgedServiceRoleClaim(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.setSetting(t, "max_active_holds_per_customer", 1)
	forged := w.Alice.Actor()
	forged.Claims = map[string]any{"sub": w.Alice.ID, "role": "service_role", "email": w.Alice.Email}
	err := w.Try(forged, func(q *gen.Queries) error {
		return one(q.HoldCreate(w.Ctx, holdParams(w.Biz.ID, w.Wash.ID, w.At(11, 0), w.AliceCar.ID, w.AliceHome.ID)))
	})
	expect(t, err, fails("P0001", "hold_cap_reached"))
	real := dbtest.Role("service_role", map[string]any{"sub": w.Alice.ID})
	err = w.Try(real, func(q *gen.Queries) error {
		return one(q.HoldCreate(w.Ctx, holdParams(w.Biz.ID, w.Wash.ID, w.At(11, 0), w.AliceCar.ID, w.AliceHome.ID)))
	})
	expect(t, err, ok)
}

// nextTransition is the next local day (at least two days ahead) on which
// loc's UTC offset moves forward (spring) or back (fall).
func nextTransition(t *testing.T, loc *time.Location, spring bool) time.Time {
	t.Helper()
	for i := 2; i < 400; i++ {
		day := localDay(loc, i)
		_, before := day.Add(-time.Hour).Zone()
		_, after := day.AddDate(0, 0, 1).Zone()
		if (spring && after > before) || (!spring && after < before) {
			return day
		}
	}
	t.Skipf("%s has no DST transition within a year", loc)
	return time.Time{}
}

// nightOwl is a business of Berlin open around the clock, one crew, one
// 15-minute service: every quarter hour of a local day is bookable.
func (w *World) nightOwl(t *testing.T) (gen.Business, gen.Service) {
	t.Helper()
	biz := w.createBusiness(t, w.Olga, "Night Owl", "night-owl", tz1)
	var svc gen.Service
	w.As(t, w.Olga.Actor(), func(q *gen.Queries) error {
		if _, err := q.CrewCreate(w.Ctx, gen.CrewCreateParams{BusinessID: biz.ID, Name: "Crew 1"}); err != nil {
			return err
		}
		var err error
		if svc, err = q.ServiceCreate(w.Ctx, gen.ServiceCreateParams{BusinessID: biz.ID, Name: "Rinse", DurationMinutes: 15}); err != nil {
			return err
		}
		return w.setWorkingHours(q, biz.ID, 0, 24)
	})
	w.setPrices(t, w.Olga.Actor(), biz.ID, svc.ID, map[string]int32{"sedan": 1000})
	return biz, svc
}

// checkWholeDay asserts that availability_get offers every quarter-hour
// instant of the local day (23, 24 or 25 hours) and nothing else.
func checkWholeDay(t *testing.T, w *World, biz, svc string, day time.Time) {
	t.Helper()
	var rows []gen.AvailabilityGetRow
	w.As(t, dbtest.Anon(), func(q *gen.Queries) error {
		var err error
		rows, err = q.AvailabilityGet(w.Ctx, gen.AvailabilityGetParams{BusinessID: biz, ServiceID: svc, Day: pgDate(day)})
		return err
	})
	next := time.Date(day.Year(), day.Month(), day.Day()+1, 0, 0, 0, 0, day.Location())
	offered := map[int64]bool{}
	for _, r := range rows {
		offered[r.SlotStart.Unix()] = true
	}
	var missing []string
	want := 0
	for s := day; s.Before(next); s = s.Add(15 * time.Minute) {
		want++
		if !offered[s.Unix()] {
			missing = append(missing, s.Format("15:04 MST"))
		}
	}
	if len(rows) != want || len(missing) > 0 {
		t.Errorf("%s (%v long): %d starts offered, want %d; missing %v", day.Format("2006-01-02"), next.Sub(day), len(rows), want, missing)
	}
}

// TestAvailabilityAcrossSpringForward: on the day the clocks go forward
// the local day has 23 hours, and every quarter hour of it is offered.
func TestAvailabilityAcrossSpringForward(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	biz, svc := w.nightOwl(t)
	day := nextTransition(t, w.Loc, true)
	checkWholeDay(t, w, biz.ID, svc.ID, day)
	// 07:00 local is after the change: the summer offset.
	seven := time.Date(day.Year(), day.Month(), day.Day(), 7, 0, 0, 0, w.Loc)
	err := w.Try(w.Alice.Actor(), func(q *gen.Queries) error {
		rows, err := q.HoldCreate(w.Ctx, holdParams(biz.ID, svc.ID, seven, w.AliceCar.ID, w.AliceHome.ID))
		if err == nil && !rows[0].Slot.Lower.Time.Equal(seven) {
			t.Errorf("hold at %v, want %v", rows[0].Slot.Lower.Time, seven)
		}
		return err
	})
	expect(t, err, ok)
}
