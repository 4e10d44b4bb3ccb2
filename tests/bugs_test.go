package tests

import (
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dbtool-dev/dbtool/dbtest"
	"github.com/dbtool-dev/dbtool/gen"
)

// Regression tests for defects these suites found (each failed before its
// fix). New defects that are not fixed yet go here as TestKnownBug... tests,
// skipped unless DBTOOL_KNOWN_BUGS=1 (see CONTRIBUTING.md).

// Fixed defect: sql/catalog.sql's ServicePriceSet inserts (service_id, vehicle_type,
// price_cents) but service_prices.business_id is NOT NULL with no default
// and the insert policy checks it: the binding fails for everyone (42501
// under RLS, 23502 for service_role). The fixture works around it.
func TestServicePriceSetSetsBusinessID(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	var price gen.ServicePrice
	err := w.Try(w.Max.Actor(), func(q *gen.Queries) error {
		var err error
		price, err = q.ServicePriceSet(w.Ctx, gen.ServicePriceSetParams{ServiceID: w.Wash.ID, VehicleType: "van", PriceCents: 6000})
		return err
	})
	expect(t, err, ok)
	if err == nil && (price.BusinessID != w.Biz.ID || price.PriceCents != 6000) {
		t.Errorf("ServicePriceSet wrote %+v", price)
	}
}

// Fixed defect: the "blank" checks use btrim(x), which strips spaces only: a message
// body (or a business name) made of tabs and newlines passes as non-blank.
func TestWhitespaceOnlyTextRefused(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	runInputs(t, w, w.Alice.Actor(), []inputCase{
		{name: "message body of tabs and newlines", call: q(func(q *gen.Queries) error {
			return one(q.AppointmentMessagePost(w.Ctx, gen.AppointmentMessagePostParams{AppointmentID: w.AliceAppt.ID, Body: "\t\n\t"}))
		}), want: fails("22023", "message_body_invalid")},
		{name: "business name of a tab", call: q(func(q *gen.Queries) error {
			return one(q.BusinessCreate(w.Ctx, gen.BusinessCreateParams{Name: "\t", Slug: "tab-biz", Timezone: tz1}))
		}), want: fails("22023", "business_name_invalid")},
	})
}

// Fixed defect: appointments_validate_status (SECURITY INVOKER) calls
// private.is_status_transition_allowed, on which service_role has no
// EXECUTE: every status change service_role makes directly fails with
// 42501, valid transitions included, instead of the state machine's
// P0001 appointment_status_transition_invalid for invalid ones.
func TestServiceRoleStatusUpdateUsesStateMachine(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	set := func(status string) func(tx pgx.Tx) error {
		return func(tx pgx.Tx) error {
			_, err := tx.Exec(w.Ctx, `update public.appointments set status = $2 where id = $1`, w.AliceAppt.ID, status)
			return err
		}
	}
	service := dbtest.ServiceRole()
	runInputs(t, w, service, []inputCase{
		{name: "invalid transition", call: set("completed"), want: fails("PT409", "appointment_status_transition_invalid")},
		{name: "valid transition", call: set("in_progress"), want: ok},
	})
}

// Fixed defect: on the day the clocks go back the local day has 25 hours, but
// availability_get builds its candidate starts from local wall-clock
// times, so the first pass through the repeated hour is never offered
// (96 of 100 starts), although hold_create accepts those starts.
func TestAvailabilityOffersRepeatedHourTwice(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	biz, svc := w.nightOwl(t)
	day := nextTransition(t, w.Loc, false)
	checkWholeDay(t, w, biz.ID, svc.ID, day)
	// The first 02:15 of the day (summer time) is bookable all the same.
	first := time.Date(day.Year(), day.Month(), day.Day(), 0, 15, 0, 0, time.UTC)
	err := w.Try(w.Alice.Actor(), func(q *gen.Queries) error {
		return one(q.HoldCreate(w.Ctx, holdParams(biz.ID, svc.ID, first, w.AliceCar.ID, w.AliceHome.ID)))
	})
	expect(t, err, ok)
}
