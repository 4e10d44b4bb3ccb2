package tests

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dbtool-dev/dbtool/dbtest"
	"github.com/dbtool-dev/dbtool/gen"
)

// Prices follow what is booked: a customer holds a slot for a sedan and
// switches the car to an SUV (or a truck the service is not offered for)
// before confirming, as a PATCH /vehicles would. The type is locked while
// a booking of the vehicle is open, on every write path.
func TestVehicleTypeLockedWhileBooked(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	patch := func(actor dbtest.Actor, vehicle, typ string) error {
		return w.DB.As(w.Ctx, actor, func(tx pgx.Tx) error {
			tag, err := tx.Exec(w.Ctx, `update public.vehicles set vehicle_type = $2 where id = $1`, vehicle, typ)
			if err == nil && tag.RowsAffected() != 1 {
				err = fmt.Errorf("%d rows updated", tag.RowsAffected())
			}
			if err == nil {
				err = errRollback
			}
			return err
		})
	}
	rolledBack := func(err error) error {
		if err == errRollback {
			return nil
		}
		return err
	}
	// A second car with only a hold on it.
	var van gen.Vehicle
	w.As(t, w.Alice.Actor(), func(q *gen.Queries) error {
		var err error
		van, err = q.VehicleCreate(w.Ctx, gen.VehicleCreateParams{VehicleType: "sedan", Make: "VW", Model: "Golf", Plate: "B-AL 2"})
		return err
	})
	expect(t, rolledBack(patch(w.Alice.Actor(), van.ID, "suv")), ok) // no booking yet
	hold := w.Hold(t, w.Alice, w.Biz.ID, w.Wash.ID, w.At(15, 0), van.ID, w.AliceHome.ID)

	locked := fails("PT409", "vehicle_type_locked")
	expect(t, rolledBack(patch(w.Alice.Actor(), van.ID, "suv")), locked)   // held
	expect(t, rolledBack(patch(w.Alice.Actor(), van.ID, "truck")), locked) // a type Wash is not offered for
	expect(t, rolledBack(patch(dbtest.ServiceRole(), van.ID, "suv")), locked)
	expect(t, rolledBack(patch(w.Alice.Actor(), w.AliceCar.ID, "suv")), locked) // confirmed appointment
	// Other columns stay editable.
	expect(t, rolledBack(w.DB.As(w.Ctx, w.Alice.Actor(), func(tx pgx.Tx) error {
		_, err := tx.Exec(w.Ctx, `update public.vehicles set plate = 'B-AL 3' where id = $1`, van.ID)
		if err == nil {
			err = errRollback
		}
		return err
	})), ok)

	// Released: the type may change, and a new hold prices the new type.
	w.As(t, w.Alice.Actor(), func(q *gen.Queries) error { return q.HoldRelease(w.Ctx, hold.ID) })
	expect(t, rolledBack(patch(w.Alice.Actor(), van.ID, "suv")), ok)
}

// Credits are granted once per membership period, whatever dates billing
// sends: shifted starts, a plan change, a cancel and re-activate inside the
// period grant nothing; the next period grants once.
func TestCreditsOncePerPeriod(t *testing.T) {
	t.Parallel()
	bw := newBillingWorld(t)
	w := bw.World
	activate := func(plan string, start time.Time) {
		t.Helper()
		w.As(t, service(), func(q *gen.Queries) error {
			return one(q.MembershipActivate(w.Ctx, gen.MembershipActivateParams{CustomerID: w.Alice.ID, PlanID: plan, PeriodStart: pgDate(start)}))
		})
	}
	balance := func() int32 { return bw.Balance(t, w.Biz.ID, w.Alice.ID) }
	start := monthStart()
	for _, shift := range []int{1, 2, 15, 27} {
		activate(bw.Plan.ID, start.AddDate(0, 0, shift))
	}
	if got := balance(); got != bw.AliceCredits {
		t.Fatalf("shifted activations inside the period: balance %d, want %d", got, bw.AliceCredits)
	}
	var gold gen.MembershipPlan
	w.As(t, w.Max.Actor(), func(q *gen.Queries) error {
		var err error
		gold, err = q.MembershipPlanCreate(w.Ctx, gen.MembershipPlanCreateParams{BusinessID: w.Biz.ID, Name: "Gold", MonthlyCredits: 10, PriceCents: 5900})
		return err
	})
	activate(gold.ID, start.AddDate(0, 0, 3)) // plan change inside the period
	w.As(t, w.Alice.Actor(), func(q *gen.Queries) error { return one(q.MembershipCancel(w.Ctx, bw.AliceMembership.ID)) })
	activate(gold.ID, start.AddDate(0, 0, 5)) // cancel and re-activate inside the period
	if got := balance(); got != bw.AliceCredits {
		t.Fatalf("plan change and re-activation inside the period: balance %d, want %d", got, bw.AliceCredits)
	}
	next := start.AddDate(0, 1, 0)
	activate(gold.ID, next)
	activate(gold.ID, next) // replay
	activate(gold.ID, next.AddDate(0, 0, 9))
	if got, want := balance(), bw.AliceCredits+10; got != want {
		t.Fatalf("next period: balance %d, want %d (one Gold grant)", got, want)
	}
	if n := w.Count(t, "public.credit_ledger where customer_id = $1 and business_id = $2 and kind = 'membership'", w.Alice.ID, w.Biz.ID); n != 2 {
		t.Errorf("%d membership grants, want 2 (one per period)", n)
	}
}

// Credits go to customers of the business only, and the answer does not
// tell a stranger from a user who does not exist.
func TestCreditsOnlyToCustomers(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	stranger := w.DB.Persona(t, "Sid Stranger")
	grant := func(customer string) error {
		return w.Try(w.Olga.Actor(), func(q *gen.Queries) error {
			return one(q.CreditsGrant(w.Ctx, gen.CreditsGrantParams{BusinessID: w.Biz.ID, CustomerID: customer, Amount: 5, Reason: "goodwill", IdempotencyKey: "k-" + customer}))
		})
	}
	notFound := fails("PT404", "customer_not_found")
	errStranger, errMissing := grant(stranger.ID), grant("00000000-0000-4000-8000-000000000001")
	expect(t, errStranger, notFound)
	expect(t, errMissing, notFound)
	expect(t, grant(w.Dave.ID), notFound) // a customer of the other business
	expect(t, grant(w.Olga.ID), notFound) // staff are not customers
	expect(t, grant(w.Alice.ID), ok)
	if errStranger != nil && errMissing != nil && errStranger.Error() != errMissing.Error() {
		t.Errorf("a stranger and a missing user get different errors: %q vs %q", errStranger, errMissing)
	}
	expect(t, w.Try(service(), func(q *gen.Queries) error {
		return one(q.CreditsGrant(w.Ctx, gen.CreditsGrantParams{BusinessID: w.Biz.ID, CustomerID: stranger.ID, Amount: 5, Reason: "promo", IdempotencyKey: "promo-1"}))
	}), notFound)
}

// A refunded payment changes the booking: a confirmed appointment is
// cancelled (its crew free again), one in progress is flagged; revenue
// leaves business_stats either way.
func TestRefundChangesBooking(t *testing.T) {
	t.Parallel()
	bw := newBillingWorld(t)
	w := bw.World
	event := func(id, session, status string, amount int32) gen.PaymentEvent {
		t.Helper()
		var ev gen.PaymentEvent
		w.As(t, service(), func(q *gen.Queries) error {
			rows, err := q.PaymentEventRecord(w.Ctx, gen.PaymentEventRecordParams{ProviderEventID: id, ProviderSessionID: session, Status: status, AmountCents: amount})
			if err := one(rows, err); err != nil {
				return err
			}
			ev = rows[0]
			return nil
		})
		return ev
	}
	revenue := func(day time.Time) int64 {
		t.Helper()
		var total int64
		w.As(t, service(), func(q *gen.Queries) error {
			if err := q.BusinessStatsRefresh(w.Ctx); err != nil {
				return err
			}
			rows, err := q.BusinessStats(w.Ctx, gen.BusinessStatsParams{BusinessID: w.Biz.ID, FromDay: pgDate(day), ToDay: pgDate(day)})
			for _, r := range rows {
				total += r.RevenueCents
			}
			return err
		})
		return total
	}
	paid := event("evt_paid", bobSessionID, "succeeded", bw.BobSession.AmountCents)
	if paid.Outcome != "confirmed" || paid.AppointmentID == nil {
		t.Fatalf("payment: outcome %s, appointment %v", paid.Outcome, paid.AppointmentID)
	}
	before := revenue(w.Day)

	refund := event("evt_refund", bobSessionID, "refunded", bw.BobSession.AmountCents)
	if refund.Outcome != "refunded" || refund.AppointmentID == nil || *refund.AppointmentID != *paid.AppointmentID {
		t.Fatalf("refund: outcome %s, appointment %v", refund.Outcome, refund.AppointmentID)
	}
	var status, reason string
	var refunded bool
	w.Owner(t, func(tx pgx.Tx) error {
		return tx.QueryRow(w.Ctx, `select status, coalesce(cancel_reason, ''), refunded_at is not null from public.appointments where id = $1`, *paid.AppointmentID).Scan(&status, &reason, &refunded)
	})
	if status != "cancelled" || reason != "payment refunded" || !refunded {
		t.Errorf("refunded confirmed appointment: status %s, reason %q, refunded %v; want cancelled, payment refunded, true", status, reason, refunded)
	}
	if after := revenue(w.Day); after != before-int64(bw.BobSession.AmountCents) {
		t.Errorf("business_stats revenue %d after the refund, want %d", after, before-int64(bw.BobSession.AmountCents))
	}
	if n := w.Overlaps(t); n != 0 {
		t.Errorf("%d overlapping bookings", n)
	}

	// Started work keeps its status and is flagged for staff.
	eve := w.newCustomer(t, "Eve Early", "B-EV 1")
	hold := w.holdFor(t, eve, w.At(18, 0))
	w.As(t, service(), func(q *gen.Queries) error {
		return one(q.PaymentSessionRecord(w.Ctx, gen.PaymentSessionRecordParams{HoldID: hold.ID, ProviderSessionID: "cs_eve"}))
	})
	paid = event("evt_eve_paid", "cs_eve", "succeeded", hold.AmountDueCents)
	w.AsTx(t, service(), func(tx pgx.Tx) error {
		_, err := tx.Exec(w.Ctx, `update public.appointments set status = 'in_progress' where id = $1`, *paid.AppointmentID)
		return err
	})
	before = revenue(w.Day)
	event("evt_eve_refund", "cs_eve", "refunded", hold.AmountDueCents)
	w.Owner(t, func(tx pgx.Tx) error {
		return tx.QueryRow(w.Ctx, `select status, coalesce(cancel_reason, ''), refunded_at is not null from public.appointments where id = $1`, *paid.AppointmentID).Scan(&status, &reason, &refunded)
	})
	if status != "in_progress" || !refunded {
		t.Errorf("refunded started appointment: status %s, refunded %v; want in_progress, true", status, refunded)
	}
	if after := revenue(w.Day); after != before-int64(hold.AmountDueCents) {
		t.Errorf("business_stats revenue %d after the refund of started work, want %d", after, before-int64(hold.AmountDueCents))
	}
}

// service_role cannot rewrite prices or discounts of bookings, nor create
// bookings with a price of its choosing; operational columns stay open.
func TestServiceRoleMoneyColumnsProcedureOnly(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	run := func(sql string, args ...any) error {
		err := w.DB.As(w.Ctx, service(), func(tx pgx.Tx) error {
			if _, err := tx.Exec(w.Ctx, sql, args...); err != nil {
				return err
			}
			return errRollback
		})
		if err == errRollback {
			return nil
		}
		return err
	}
	appt, hold := w.AliceAppt.ID, w.AliceHold.ID
	for _, c := range []struct {
		sql  string
		id   string
		want Want
	}{
		{`update public.holds set price_cents = 1 where id = $1`, hold, denied},
		{`update public.holds set discount_cents = 100 where id = $1`, hold, denied},
		{`update public.appointments set price_cents = 1 where id = $1`, appt, denied},
		{`update public.appointments set discount_cents = 100 where id = $1`, appt, denied},
		{`update public.appointments set currency = 'JPY' where id = $1`, appt, denied},
		{`update public.hold_addons set price_cents = 0 where hold_id = $1`, hold, denied},
		{`insert into public.appointments (business_id, customer_id, service_id, vehicle_id, address_id, crew_id, slot, price_cents, currency)
		  select business_id, customer_id, service_id, vehicle_id, address_id, crew_id, slot, 1, currency from public.appointments where id = $1`, appt, denied},
		{`update public.appointments set status = 'in_progress' where id = $1`, appt, ok},
		{`update public.holds set expires_at = now() + interval '1 minute' where id = $1`, hold, ok},
	} {
		t.Run(c.sql, func(t *testing.T) { expect(t, run(c.sql, c.id), c.want) })
	}
}

// What a customer reads about staff follows one rule everywhere: who acted,
// by kind (customer, staff, admin, system), never a staff member's user id.
// Staff act on everything of Alice's (a message, status changes, a cancel,
// a credit grant, a membership cancel); then Alice reads every table and
// view of public she may select, as a PostgREST client would (select=*), and
// no staff id may appear in any row. The business's owners still learn who
// acted, from audit_log; other staff do not.
func TestCustomersNeverReadStaffIDs(t *testing.T) {
	t.Parallel()
	bw := newBillingWorld(t)
	w, ctx := bw.World, bw.Ctx
	worked := w.Book(t, w.Alice, w.Biz.ID, w.Wash.ID, w.At(15, 0), w.AliceCar.ID, w.AliceHome.ID)
	cancelled := w.Book(t, w.Alice, w.Biz.ID, w.Wash.ID, w.At(17, 0), w.AliceCar.ID, w.AliceHome.ID)
	w.post(t, w.Sam, worked.ID, "On our way.")
	w.As(t, w.Sam.Actor(), func(q *gen.Queries) error {
		return one(q.AppointmentSetStatus(ctx, gen.AppointmentSetStatusParams{AppointmentID: worked.ID, Status: "in_progress"}))
	})
	w.As(t, w.Max.Actor(), func(q *gen.Queries) error {
		return one(q.AppointmentCancel(ctx, gen.AppointmentCancelParams{AppointmentID: cancelled.ID}))
	})
	w.As(t, w.Olga.Actor(), func(q *gen.Queries) error {
		return one(q.MembershipCancel(ctx, bw.AliceMembership.ID))
	})

	staff := map[string]string{w.Olga.ID: "Olga (owner)", w.Max.ID: "Max (manager)", w.Sam.ID: "Sam (staff)"}
	var relations []string
	expect(t, w.DB.As(ctx, w.Alice.Actor(), func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `select c.relname from pg_catalog.pg_class c
			where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'p', 'v', 'm', 'f')
			  and pg_catalog.has_table_privilege(c.oid, 'select') order by 1`)
		if err != nil {
			return err
		}
		relations, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	}), ok)
	if len(relations) < 20 {
		t.Fatalf("Alice may select only %d relations: %v", len(relations), relations)
	}
	read := 0
	for _, rel := range relations {
		var text string
		expect(t, w.DB.As(ctx, w.Alice.Actor(), func(tx pgx.Tx) error {
			return tx.QueryRow(ctx, fmt.Sprintf(`select coalesce(string_agg(t::text, E'\n'), '') from public.%s t`,
				pgx.Identifier{rel}.Sanitize())).Scan(&text)
		}), ok)
		if text != "" {
			read++
		}
		for id, who := range staff {
			if strings.Contains(text, id) {
				t.Errorf("Alice reads %s's user id in public.%s", who, rel)
			}
		}
	}
	if read < 8 { // her appointments, their history and thread, membership, ledger, balance, notifications, vehicles...
		t.Errorf("Alice read rows from only %d relations: the scan is broken", read)
	}

	// What she reads instead: the kind.
	w.As(t, w.Alice.Actor(), func(q *gen.Queries) error {
		hist, err := q.AppointmentStatusHistoryList(ctx, worked.ID)
		if err != nil {
			return err
		}
		if last := hist[len(hist)-1]; last.ToStatus != "in_progress" || last.ChangedByRole != "staff" || last.ChangedBy != nil {
			t.Errorf("history of the staff change: %+v", last)
		}
		appt, err := q.AppointmentGet(ctx, cancelled.ID)
		if err == nil && (appt.CancelledByRole == nil || *appt.CancelledByRole != "staff" || appt.CancelledBy != nil) {
			t.Errorf("cancelled by a manager: role %v, id %v", appt.CancelledByRole, appt.CancelledBy)
		}
		return err
	})

	// The owners learn who: audit_log rows of their business name Sam and Max.
	auditActors := func(actor dbtest.Actor) map[string]bool {
		seen := map[string]bool{}
		expect(t, w.DB.As(ctx, actor, func(tx pgx.Tx) error {
			rows, err := tx.Query(ctx, `select distinct actor_id::text from public.audit_log
				where actor_id is not null and table_name in ('appointments', 'appointment_messages') and business_id = $1`, w.Biz.ID)
			if err != nil {
				return err
			}
			ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
			for _, id := range ids {
				seen[id] = true
			}
			return err
		}), ok)
		return seen
	}
	if seen := auditActors(w.Olga.Actor()); !seen[w.Sam.ID] || !seen[w.Max.ID] {
		t.Errorf("the owner does not find Sam and Max in audit_log: %v", seen)
	}
	if seen := auditActors(w.Sam.Actor()); len(seen) != 0 {
		t.Errorf("staff without audit.read read audit_log: %v", seen)
	}
	if seen := auditActors(w.Nora.Actor()); len(seen) != 0 {
		t.Errorf("the owner of another business reads business 1's audit_log: %v", seen)
	}
}
