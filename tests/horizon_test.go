package tests

import (
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dbtool-dev/dbtool/dbtest"
	"github.com/dbtool-dev/dbtool/gen"
)

// Extreme dates and timestamps get a documented rule, not a date overflow
// (22008) or a long computation: slots beyond the booking horizon are
// refused, and availability_get offers nothing there.
func TestBookingHorizon(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	hold := func(start string) error {
		return w.DB.As(w.Ctx, w.Alice.Actor(), func(tx pgx.Tx) error {
			return rawCall(tx, "hold_create", a("business_id", "uuid", w.Biz.ID), a("service_id", "uuid", w.Wash.ID),
				a("slot_start", "timestamptz", start), a("vehicle_id", "uuid", w.AliceCar.ID), a("address_id", "uuid", w.AliceHome.ID))
		})
	}
	beyond := fails("P0001", "booking_horizon_exceeded")
	expect(t, hold("infinity"), beyond)
	expect(t, hold("200000-01-01 10:00+00"), beyond)
	expect(t, hold(w.AtDay(400, 10, 0).Format(time.RFC3339)), beyond) // default horizon: 365 days
	expect(t, hold("-infinity"), fails("P0001", "slot_in_past"))
	reschedule := func(start string) error {
		return w.DB.As(w.Ctx, w.Alice.Actor(), func(tx pgx.Tx) error {
			return rawCall(tx, "appointment_reschedule", a("appointment_id", "uuid", w.AliceAppt.ID), a("new_start", "timestamptz", start))
		})
	}
	expect(t, reschedule("infinity"), beyond)
	expect(t, reschedule("294276-12-31 10:00+00"), beyond)

	// A business that books a week ahead at most.
	w.As(t, w.Olga.Actor(), func(q *gen.Queries) error {
		_, err := q.BusinessSettingSet(w.Ctx, gen.BusinessSettingSetParams{BusinessID: w.Biz.ID, Key: "booking_horizon_days", Value: ptr(int32(7))})
		return err
	})
	expect(t, hold(w.AtDay(9, 10, 0).Format(time.RFC3339)), beyond)
	expect(t, w.Try(w.Alice.Actor(), func(q *gen.Queries) error {
		_, err := q.HoldCreate(w.Ctx, gen.HoldCreateParams{BusinessID: w.Biz.ID, ServiceID: w.Wash.ID, SlotStart: w.At(11, 0), VehicleID: w.AliceCar.ID, AddressID: w.AliceHome.ID})
		return err
	}), ok)
	slots := func(day string) (int, error) {
		var n int
		err := w.DB.As(w.Ctx, dbtest.Anon(), func(tx pgx.Tx) error {
			return tx.QueryRow(w.Ctx, `select count(*) from public.availability_get(business_id => $1, service_id => $2, day => $3::date)`, w.Biz.ID, w.Wash.ID, day).Scan(&n)
		})
		return n, err
	}
	for _, day := range []string{"infinity", "5874897-12-31", w.Day.AddDate(0, 0, 10).Format("2006-01-02"), "-infinity", "4713-01-01 BC"} {
		n, err := slots(day)
		if err != nil || n != 0 {
			t.Errorf("availability_get on %s: %d slots, %v; want none and no error", day, n, err)
		}
	}
	if n, err := slots(w.Day.Format("2006-01-02")); err != nil || n == 0 {
		t.Errorf("availability_get inside the horizon: %d slots, %v", n, err)
	}
	var bad error = w.Call(w.Olga.Actor(), func(q *gen.Queries) error {
		_, err := q.BusinessSettingSet(w.Ctx, gen.BusinessSettingSetParams{BusinessID: w.Biz.ID, Key: "booking_horizon_days", Value: ptr(int32(5000))})
		return err
	})
	expect(t, bad, fails("23514", "business_settings_booking_horizon_days_check"))
}

// Working hours that start inside a daylight-saving gap: PostgreSQL reads
// a local time that does not exist as the same wall-clock time after the
// clocks jumped (02:00 on a spring-forward night in Berlin is 03:00 CEST),
// so the day offers the hours that exist and nothing in the gap.
func TestWorkingHoursInDSTGap(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	biz := w.createBusiness(t, w.Olga, "Early Bird", "early-bird", tz1)
	var svc gen.Service
	w.As(t, w.Olga.Actor(), func(q *gen.Queries) error {
		if _, err := q.CrewCreate(w.Ctx, gen.CrewCreateParams{BusinessID: biz.ID, Name: "Crew 1"}); err != nil {
			return err
		}
		var err error
		if svc, err = q.ServiceCreate(w.Ctx, gen.ServiceCreateParams{BusinessID: biz.ID, Name: "Rinse", DurationMinutes: 15}); err != nil {
			return err
		}
		return w.setWorkingHours(q, biz.ID, 2, 4) // 02:00-04:00 every day
	})
	w.setPrices(t, w.Olga.Actor(), biz.ID, svc.ID, map[string]int32{"sedan": 1000})

	// The next last Sunday of March (clocks go 02:00 -> 03:00 in Berlin).
	now := time.Now().In(w.Loc)
	year := now.Year()
	gap := lastSunday(year, time.March, w.Loc)
	if !gap.After(now.AddDate(0, 0, 1)) {
		gap = lastSunday(year+1, time.March, w.Loc)
	}
	var rows []gen.AvailabilityGetRow
	w.As(t, dbtest.Anon(), func(q *gen.Queries) error {
		var err error
		rows, err = q.AvailabilityGet(w.Ctx, gen.AvailabilityGetParams{BusinessID: biz.ID, ServiceID: svc.ID, Day: pgDate(gap)})
		return err
	})
	// 03:00-04:00 CEST exists: 4 quarter hours, 01:00-02:00 UTC.
	if len(rows) != 4 {
		t.Fatalf("%s: %d slots, want 4 (03:00-04:00 CEST): %+v", gap.Format("2006-01-02"), len(rows), rows)
	}
	first := time.Date(gap.Year(), gap.Month(), gap.Day(), 1, 0, 0, 0, time.UTC)
	if !rows[0].SlotStart.Equal(first) {
		t.Errorf("first slot %s, want %s (03:00 CEST)", rows[0].SlotStart.UTC(), first)
	}
	// The instant a client would compute for 02:30 "local" is 01:30 UTC:
	// bookable; 00:45 UTC (01:45 CET, before opening) is not.
	holdAt := func(at time.Time) error {
		return w.Try(w.Alice.Actor(), func(q *gen.Queries) error {
			_, err := q.HoldCreate(w.Ctx, gen.HoldCreateParams{BusinessID: biz.ID, ServiceID: svc.ID, SlotStart: at, VehicleID: w.AliceCar.ID, AddressID: w.AliceHome.ID})
			return err
		})
	}
	expect(t, holdAt(first.Add(30*time.Minute)), ok)
	expect(t, holdAt(first.Add(-15*time.Minute)), fails("P0001", "slot_outside_working_hours"))
}

func lastSunday(year int, month time.Month, loc *time.Location) time.Time {
	d := time.Date(year, month+1, 0, 0, 0, 0, 0, loc) // last day of month
	for d.Weekday() != time.Sunday {
		d = d.AddDate(0, 0, -1)
	}
	return d
}
