package tests

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dbtool-dev/dbtool/dbtest"
	"github.com/dbtool-dev/dbtool/gen"
)

// replayWritesNothing makes a replayed call as actor in a request that
// commits, and asserts that it succeeded and changed no table.
func replayWritesNothing(t *testing.T, w *World, actor dbtest.Actor, fn func(tx pgx.Tx) error) {
	t.Helper()
	before := w.Snapshot(t)
	expect(t, w.DB.As(w.Ctx, actor, fn), ok)
	if d := before.Diff(w.Snapshot(t)); len(d) > 0 {
		t.Errorf("the replay wrote to %v", d)
	}
}

// errRejected is a verification code the database answered false for.
var errRejected = errors.New("verification_code_consume returned false")

// wrongCode is a 6-digit code that is not code.
func wrongCode(code string) string {
	if code == "000000" {
		return "111111"
	}
	return "000000"
}

func TestPart2CreditsBadInput(t *testing.T) {
	t.Parallel()
	bw := newBillingWorld(t)
	w, ctx := bw.World, bw.Ctx
	grant := func(business, customer string, amount int32, reason, key string) func(tx pgx.Tx) error {
		return q(func(q *gen.Queries) error {
			return one(q.CreditsGrant(ctx, gen.CreditsGrantParams{BusinessID: business, CustomerID: customer, Amount: amount, Reason: reason, IdempotencyKey: key}))
		})
	}
	rawGrant := func(business, customer, amount, reason, key any) func(tx pgx.Tx) error {
		return func(tx pgx.Tx) error {
			return rawCall(tx, "credits_grant", a("business_id", "uuid", business), a("customer_id", "uuid", customer),
				a("amount", "integer", amount), a("reason", "text", reason), a("idempotency_key", "text", key))
		}
	}
	redeem := func(appointment string, amount int32, key string) func(tx pgx.Tx) error {
		return q(func(q *gen.Queries) error {
			return one(q.CreditsRedeem(ctx, gen.CreditsRedeemParams{AppointmentID: appointment, Amount: amount, IdempotencyKey: key}))
		})
	}
	rawRedeem := func(appointment, amount, key any) func(tx pgx.Tx) error {
		return func(tx pgx.Tx) error {
			return rawCall(tx, "credits_redeem", a("appointment_id", "uuid", appointment), a("amount", "integer", amount), a("idempotency_key", "text", key))
		}
	}
	required := fails("22023", "argument_required")
	amountBad := fails("22023", "credits_amount_invalid")
	reasonBad := fails("22023", "credits_reason_invalid")
	keyBad := fails("22023", "idempotency_key_invalid")
	reused := fails("23505", "idempotency_key_reused")
	insufficient := fails("P0001", "insufficient_credits")
	biz, alice, bal := w.Biz.ID, w.Alice.ID, bw.AliceCredits

	t.Run("credits_grant", func(t *testing.T) {
		runInputs(t, w, w.Olga.Actor(), []inputCase{
			{name: "business_id null", call: rawGrant(nil, alice, 5, "bonus", "k"), want: required},
			{name: "customer_id null", call: rawGrant(biz, nil, 5, "bonus", "k"), want: required},
			{name: "amount null", call: rawGrant(biz, alice, nil, "bonus", "k"), want: required},
			{name: "reason null", call: rawGrant(biz, alice, 5, nil, "k"), want: required},
			{name: "idempotency_key null", call: rawGrant(biz, alice, 5, "bonus", nil), want: required},
			{name: "unknown business", call: grant(unknownID, alice, 5, "bonus", "k"), want: fails("PT404", "business_not_found")},
			{name: "unknown customer", call: grant(biz, unknownID, 5, "bonus", "k"), want: fails("PT404", "customer_not_found")},
			{name: "amount zero", call: grant(biz, alice, 0, "bonus", "k"), want: amountBad},
			{name: "amount 10001", call: grant(biz, alice, 10001, "bonus", "k"), want: amountBad},
			{name: "amount -10001", call: grant(biz, alice, -10001, "bonus", "k"), want: amountBad},
			{name: "amount 10000", call: grant(biz, alice, 10000, "bonus", "k"), want: ok},
			{name: "correction below zero", call: grant(biz, alice, -(bal + 1), "correction", "k"), want: insufficient},
			{name: "correction to exactly zero", call: grant(biz, alice, -bal, "correction", "k"), want: ok},
			{name: "correction for a customer without a balance", call: grant(biz, w.Bob.ID, -1, "correction", "k"), want: insufficient},
			{name: "grant to someone who is not a customer here", call: grant(biz, w.Carol.ID, 5, "goodwill", "k"), want: fails("PT404", "customer_not_found")},
			{name: "reason empty", call: grant(biz, alice, 5, "", "k"), want: reasonBad},
			{name: "reason blank", call: grant(biz, alice, 5, " \t\n ", "k"), want: reasonBad},
			{name: "reason 201 characters", call: grant(biz, alice, 5, strings.Repeat("r", 201), "k"), want: reasonBad},
			{name: "reason 200 characters", call: grant(biz, alice, 5, strings.Repeat("r", 200), "k"), want: ok},
			{name: "idempotency_key empty", call: grant(biz, alice, 5, "bonus", ""), want: keyBad},
			{name: "idempotency_key blank", call: grant(biz, alice, 5, "bonus", "\t \r\n"), want: keyBad},
			{name: "idempotency_key 201 characters", call: grant(biz, alice, 5, "bonus", strings.Repeat("k", 201)), want: keyBad},
			{name: "idempotency_key 200 characters", call: grant(biz, alice, 5, "bonus", strings.Repeat("k", 200)), want: ok},
			{name: "key reused for another amount", setup: func(t *testing.T) {
				w.AsTx(t, w.Olga.Actor(), grant(biz, alice, 3, "first", "used-grant"))
			}, call: grant(biz, alice, 4, "first", "used-grant"), want: reused},
			{name: "key reused for another reason", call: grant(biz, alice, 3, "second", "used-grant"), want: reused},
			{name: "key of a grant reused by another granter for another amount", actor: ptr(service()), call: grant(biz, alice, 9, "first", "used-grant"), want: reused},
		})
		t.Run("replay with the same arguments", func(t *testing.T) {
			replayWritesNothing(t, w, w.Olga.Actor(), q(func(q *gen.Queries) error {
				rows, err := q.CreditsGrant(ctx, gen.CreditsGrantParams{BusinessID: biz, CustomerID: alice, Amount: 3, Reason: "first", IdempotencyKey: "used-grant"})
				if err := one(rows, err); err != nil {
					return err
				}
				if rows[0].Delta != 3 || rows[0].Reason != "first" {
					return fmt.Errorf("the replay returned %+v", rows[0])
				}
				return nil
			}))
		})
	})

	t.Run("credits_redeem", func(t *testing.T) {
		bal := w.Balance(t, biz, alice)
		var cancelled, started gen.Appointment
		runInputs(t, w, w.Alice.Actor(), []inputCase{
			{name: "appointment_id null", call: rawRedeem(nil, 1, "k"), want: required},
			{name: "amount null", call: rawRedeem(w.AliceAppt.ID, nil, "k"), want: required},
			{name: "idempotency_key null", call: rawRedeem(w.AliceAppt.ID, 1, nil), want: required},
			{name: "unknown appointment", call: redeem(unknownID, 1, "k"), want: fails("PT404", "appointment_not_found")},
			{name: "amount zero", call: redeem(w.AliceAppt.ID, 0, "k"), want: amountBad},
			{name: "amount negative", call: redeem(w.AliceAppt.ID, -1, "k"), want: amountBad},
			{name: "amount 10001", call: redeem(w.AliceAppt.ID, 10001, "k"), want: amountBad},
			{name: "amount over the balance", call: redeem(w.AliceAppt.ID, bal+1, "k"), want: insufficient},
			{name: "amount equal to the balance", call: redeem(w.AliceAppt.ID, bal, "k"), want: ok},
			{name: "idempotency_key empty", call: redeem(w.AliceAppt.ID, 1, ""), want: keyBad},
			{name: "idempotency_key blank", call: redeem(w.AliceAppt.ID, 1, "\n\t "), want: keyBad},
			{name: "idempotency_key 201 characters", call: redeem(w.AliceAppt.ID, 1, strings.Repeat("k", 201)), want: keyBad},
			{name: "cancelled appointment", setup: func(t *testing.T) {
				cancelled = w.Book(t, w.Alice, biz, w.Wash.ID, w.AtDay(1, 9, 0), w.AliceCar.ID, w.AliceHome.ID)
				w.As(t, w.Olga.Actor(), func(q *gen.Queries) error {
					return one(q.AppointmentCancel(ctx, gen.AppointmentCancelParams{AppointmentID: cancelled.ID}))
				})
			}, call: func(tx pgx.Tx) error { return redeem(cancelled.ID, 1, "k")(tx) }, want: fails("PT409", "appointment_not_active")},
			{name: "appointment in progress", setup: func(t *testing.T) {
				started = w.Book(t, w.Alice, biz, w.Wash.ID, w.AtDay(1, 12, 0), w.AliceCar.ID, w.AliceHome.ID)
				w.As(t, w.Sam.Actor(), func(q *gen.Queries) error {
					return one(q.AppointmentSetStatus(ctx, gen.AppointmentSetStatusParams{AppointmentID: started.ID, Status: "in_progress"}))
				})
			}, call: func(tx pgx.Tx) error { return redeem(started.ID, 1, "k")(tx) }, want: fails("PT409", "appointment_not_active")},
			{name: "key reused for another amount", setup: func(t *testing.T) {
				w.AsTx(t, w.Alice.Actor(), redeem(w.AliceAppt.ID, 1, "used-redeem"))
			}, call: redeem(w.AliceAppt.ID, 2, "used-redeem"), want: reused},
			{name: "key reused for another appointment", call: func(tx pgx.Tx) error { return redeem(started.ID, 1, "used-redeem")(tx) }, want: reused},
		})
		t.Run("replay after the appointment was cancelled", func(t *testing.T) {
			var first gen.CreditLedger
			appt := w.Book(t, w.Alice, biz, w.Wash.ID, w.AtDay(1, 15, 0), w.AliceCar.ID, w.AliceHome.ID)
			w.As(t, w.Alice.Actor(), func(q *gen.Queries) error {
				rows, err := q.CreditsRedeem(ctx, gen.CreditsRedeemParams{AppointmentID: appt.ID, Amount: 1, IdempotencyKey: "before-cancel"})
				if err := one(rows, err); err != nil {
					return err
				}
				first = rows[0]
				return one(q.AppointmentCancel(ctx, gen.AppointmentCancelParams{AppointmentID: appt.ID}))
			})
			replayWritesNothing(t, w, w.Alice.Actor(), q(func(q *gen.Queries) error {
				rows, err := q.CreditsRedeem(ctx, gen.CreditsRedeemParams{AppointmentID: appt.ID, Amount: 1, IdempotencyKey: "before-cancel"})
				if err := one(rows, err); err != nil {
					return err
				}
				if rows[0].ID != first.ID {
					return fmt.Errorf("the replay returned entry %d, want the first one (%d)", rows[0].ID, first.ID)
				}
				return nil
			}))
		})
	})
	if n := w.LedgerDrift(t); n != 0 {
		t.Errorf("%d balances or ledger entries disagree", n)
	}
}

func TestPart2MembershipBadInput(t *testing.T) {
	t.Parallel()
	bw := newBillingWorld(t)
	w, ctx := bw.World, bw.Ctx
	activate := func(customer, plan string, start time.Time) func(tx pgx.Tx) error {
		return q(func(q *gen.Queries) error {
			return one(q.MembershipActivate(ctx, gen.MembershipActivateParams{CustomerID: customer, PlanID: plan, PeriodStart: pgDate(start)}))
		})
	}
	rawActivate := func(customer, plan, start any) func(tx pgx.Tx) error {
		return func(tx pgx.Tx) error {
			return rawCall(tx, "membership_activate", a("customer_id", "uuid", customer), a("plan_id", "uuid", plan), a("period_start", "date", start))
		}
	}
	cancel := func(id string) func(tx pgx.Tx) error {
		return q(func(q *gen.Queries) error { return one(q.MembershipCancel(ctx, id)) })
	}
	required := fails("22023", "argument_required")
	periodBad := fails("22023", "membership_period_invalid")
	today := time.Now().UTC()
	var retired gen.MembershipPlan

	t.Run("membership_activate", func(t *testing.T) {
		runInputs(t, w, service(), []inputCase{
			{name: "customer_id null", call: rawActivate(nil, bw.Plan.ID, "2026-01-01"), want: required},
			{name: "plan_id null", call: rawActivate(w.Bob.ID, nil, "2026-01-01"), want: required},
			{name: "period_start null", call: rawActivate(w.Bob.ID, bw.Plan.ID, nil), want: required},
			{name: "period_start 400 days ago", call: activate(w.Bob.ID, bw.Plan.ID, today.AddDate(0, 0, -400)), want: periodBad},
			{name: "period_start in 400 days", call: activate(w.Bob.ID, bw.Plan.ID, today.AddDate(0, 0, 400)), want: periodBad},
			{name: "period_start in 300 days", call: activate(w.Bob.ID, bw.Plan.ID, today.AddDate(0, 0, 300)), want: ok},
			{name: "unknown plan", call: activate(w.Bob.ID, unknownID, today), want: fails("PT404", "membership_plan_not_found")},
			{name: "unknown customer", call: activate(unknownID, bw.Plan.ID, today), want: fails("PT404", "customer_not_found")},
			{name: "new membership on an inactive plan", setup: func(t *testing.T) {
				w.AsTx(t, w.Max.Actor(), func(tx pgx.Tx) error {
					var err error
					retired, err = gen.New(tx).MembershipPlanCreate(ctx, gen.MembershipPlanCreateParams{BusinessID: w.Biz.ID, Name: "Retired Plan", MonthlyCredits: 2, PriceCents: 1000})
					if err == nil {
						_, err = tx.Exec(ctx, `update public.membership_plans set active = false where id = $1`, retired.ID)
					}
					return err
				})
			}, call: func(tx pgx.Tx) error { return activate(w.Bob.ID, retired.ID, monthStart())(tx) }, want: fails("P0001", "membership_plan_inactive")},
			{name: "active membership moved to an inactive plan", call: func(tx pgx.Tx) error { return activate(w.Alice.ID, retired.ID, monthStart())(tx) },
				want: fails("P0001", "membership_plan_inactive")},
		})
	})

	t.Run("membership_cancel", func(t *testing.T) {
		runInputs(t, w, w.Alice.Actor(), []inputCase{
			{name: "membership_id null", call: func(tx pgx.Tx) error { return rawCall(tx, "membership_cancel", a("membership_id", "uuid", nil)) }, want: required},
			{name: "unknown membership", call: cancel(unknownID), want: fails("PT404", "membership_not_found")},
			{name: "already cancelled", setup: func(t *testing.T) {
				w.AsTx(t, w.Alice.Actor(), cancel(bw.AliceMembership.ID))
			}, call: cancel(bw.AliceMembership.ID), want: fails("P0001", "membership_not_active")},
		})
	})
}

func TestPart2CouponBadInput(t *testing.T) {
	t.Parallel()
	bw := newBillingWorld(t)
	w, ctx := bw.World, bw.Ctx
	redeem := func(code, hold, key string) func(tx pgx.Tx) error {
		return q(func(q *gen.Queries) error {
			return one(q.CouponRedeem(ctx, gen.CouponRedeemParams{Code: code, HoldID: hold, IdempotencyKey: key}))
		})
	}
	rawRedeem := func(code, hold, key any) func(tx pgx.Tx) error {
		return func(tx pgx.Tx) error {
			return rawCall(tx, "coupon_redeem", a("code", "text", code), a("hold_id", "uuid", hold), a("idempotency_key", "text", key))
		}
	}
	required := fails("22023", "argument_required")
	keyBad := fails("22023", "idempotency_key_invalid")
	codeBad := fails("22023", "coupon_code_invalid")
	notFound := fails("PT404", "coupon_not_found")
	hold := w.AliceHold.ID
	one1, ever := int32(1), int32(1000)
	now := time.Now()
	var bobSecond, aliceSecond, released, lapsed gen.Hold
	bob := w.Bob.Actor()

	runInputs(t, w, w.Alice.Actor(), []inputCase{
		{name: "code null", call: rawRedeem(nil, hold, "k"), want: required},
		{name: "hold_id null", call: rawRedeem(welcomeCode, nil, "k"), want: required},
		{name: "idempotency_key null", call: rawRedeem(welcomeCode, hold, nil), want: required},
		{name: "unknown hold", call: redeem(welcomeCode, unknownID, "k"), want: fails("PT404", "hold_not_found")},
		{name: "idempotency_key empty", call: redeem(welcomeCode, hold, ""), want: keyBad},
		{name: "idempotency_key blank", call: redeem(welcomeCode, hold, " \t\n"), want: keyBad},
		{name: "idempotency_key 201 characters", call: redeem(welcomeCode, hold, strings.Repeat("k", 201)), want: keyBad},
		{name: "code empty", call: redeem("", hold, "k"), want: codeBad},
		{name: "code too short", call: redeem("AB", hold, "k"), want: codeBad},
		{name: "code 33 characters", call: redeem(strings.Repeat("A", 33), hold, "k"), want: codeBad},
		{name: "code with an inner space", call: redeem("WELCOME 10", hold, "k"), want: codeBad},
		{name: "code starting with a hyphen", call: redeem("-WELCOME", hold, "k"), want: codeBad},
		{name: "code with a letter outside A-Z", call: redeem("WÉLCOME", hold, "k"), want: codeBad},
		{name: "unknown code", call: redeem("NOPE42", hold, "k"), want: notFound},
		{name: "inactive coupon", setup: func(t *testing.T) {
			w.coupon(t, "PAUSED5", nil, 1, nil, nil, false)
		}, call: redeem("PAUSED5", hold, "k"), want: notFound},
		{name: "coupon of another business", setup: func(t *testing.T) {
			w.As(t, w.Nora.Actor(), func(q *gen.Queries) error {
				_, err := q.CouponCreate(ctx, gen.CouponCreateParams{BusinessID: w.Biz2.ID, Code: "SPARKLE", DiscountKind: "amount", DiscountValue: 100, PerCustomerLimit: 1})
				return err
			})
		}, call: redeem("SPARKLE", hold, "k"), want: notFound},
		{name: "coupon not valid yet", setup: func(t *testing.T) {
			w.coupon(t, "SOON5", nil, 1, ptr(now.Add(24*time.Hour)), nil, true)
		}, call: redeem("SOON5", hold, "k"), want: fails("P0001", "coupon_not_yet_valid")},
		{name: "coupon expired", setup: func(t *testing.T) {
			w.coupon(t, "GONE5", nil, 1, ptr(now.Add(-48*time.Hour)), ptr(now.Add(-24*time.Hour)), true)
		}, call: redeem("GONE5", hold, "k"), want: fails("P0001", "coupon_expired")},
		{name: "coupon used up", setup: func(t *testing.T) {
			w.coupon(t, "ONLY1", &one1, 1, nil, nil, true)
			bobSecond = w.Hold(t, w.Bob, w.Biz.ID, w.Wash.ID, w.AtDay(1, 11, 0), w.BobCar.ID, w.BobHome.ID)
			w.AsTx(t, bob, redeem("ONLY1", bobSecond.ID, "bob-only1"))
		}, call: redeem("ONLY1", hold, "k"), want: fails("P0001", "coupon_exhausted")},
		{name: "customer limit reached", setup: func(t *testing.T) {
			w.coupon(t, "ONCE5", &ever, 1, nil, nil, true)
			aliceSecond = w.Hold(t, w.Alice, w.Biz.ID, w.Wash.ID, w.AtDay(1, 14, 0), w.AliceCar.ID, w.AliceHome.ID)
			w.AsTx(t, w.Alice.Actor(), func(tx pgx.Tx) error { return redeem("ONCE5", aliceSecond.ID, "once-key")(tx) })
		}, call: redeem("ONCE5", hold, "k"), want: fails("P0001", "coupon_customer_limit_reached")},
		{name: "key reused for another hold", call: redeem(welcomeCode, hold, "once-key"), want: fails("23505", "idempotency_key_reused")},
		{name: "payment under way", actor: &bob, call: redeem(welcomeCode, w.BobHold.ID, "k"), want: fails("PT409", "payment_started")},
		{name: "released hold", setup: func(t *testing.T) {
			released = w.Hold(t, w.Alice, w.Biz.ID, w.Wash.ID, w.AtDay(1, 16, 0), w.AliceCar.ID, w.AliceHome.ID)
			w.As(t, w.Alice.Actor(), func(q *gen.Queries) error { return q.HoldRelease(ctx, released.ID) })
		}, call: func(tx pgx.Tx) error { return redeem(welcomeCode, released.ID, "k")(tx) }, want: fails("PT409", "hold_not_active")},
		{name: "expired hold", setup: func(t *testing.T) {
			lapsed = w.Hold(t, w.Alice, w.Biz.ID, w.Wash.ID, w.AtDay(1, 18, 0), w.AliceCar.ID, w.AliceHome.ID)
			w.expireHold(t, lapsed.ID)
		}, call: func(tx pgx.Tx) error { return redeem(welcomeCode, lapsed.ID, "k")(tx) }, want: fails("P0001", "hold_expired")},
		{name: "confirmed hold", call: redeem(welcomeCode, *w.AliceAppt.HoldID, "k"), want: fails("PT409", "hold_not_active")},
		{name: "lower case with surrounding whitespace", call: redeem(" welcome10\n", hold, "k"), want: ok},
		{name: "second coupon on a hold", setup: func(t *testing.T) {
			w.AsTx(t, w.Alice.Actor(), redeem(welcomeCode, hold, "first-coupon"))
		}, call: redeem("ONCE5", hold, "k"), want: fails("PT409", "coupon_already_applied")},
	})
	t.Run("replay", func(t *testing.T) {
		replayWritesNothing(t, w, w.Alice.Actor(), redeem("welcome10", hold, "first-coupon"))
	})
	if n := w.Count(t, `public.holds h where h.discount_cents <> coalesce((select r.discount_cents from public.coupon_redemptions r where r.hold_id = h.id), 0)`); n != 0 {
		t.Errorf("%d holds carry a discount that no redemption explains", n)
	}
}

func TestPart2PaymentBadInput(t *testing.T) {
	t.Parallel()
	bw := newBillingWorld(t)
	w, ctx := bw.World, bw.Ctx
	record := func(hold, providerID string) func(tx pgx.Tx) error {
		return q(func(q *gen.Queries) error {
			return one(q.PaymentSessionRecord(ctx, gen.PaymentSessionRecordParams{HoldID: hold, ProviderSessionID: providerID}))
		})
	}
	rawRecord := func(hold, providerID any) func(tx pgx.Tx) error {
		return func(tx pgx.Tx) error {
			return rawCall(tx, "payment_session_record", a("hold_id", "uuid", hold), a("provider_session_id", "text", providerID))
		}
	}
	event := func(eventID, providerID, status string, amount int32) func(tx pgx.Tx) error {
		return q(func(q *gen.Queries) error {
			return one(q.PaymentEventRecord(ctx, gen.PaymentEventRecordParams{ProviderEventID: eventID, ProviderSessionID: providerID, Status: status, AmountCents: amount}))
		})
	}
	rawEvent := func(eventID, providerID, status, amount any) func(tx pgx.Tx) error {
		return func(tx pgx.Tx) error {
			return rawCall(tx, "payment_event_record", a("provider_event_id", "text", eventID), a("provider_session_id", "text", providerID),
				a("status", "text", status), a("amount_cents", "integer", amount))
		}
	}
	required := fails("22023", "argument_required")
	idBad := fails("22023", "provider_session_id_invalid")
	eventBad := fails("22023", "provider_event_id_invalid")
	statusBad := fails("22023", "payment_status_invalid")
	amountBad := fails("22023", "payment_amount_invalid")
	hold := w.AliceHold.ID
	amount := bw.BobSession.AmountCents
	var released, lapsed gen.Hold

	t.Run("payment_session_record", func(t *testing.T) {
		runInputs(t, w, service(), []inputCase{
			{name: "hold_id null", call: rawRecord(nil, "cs_new"), want: required},
			{name: "provider_session_id null", call: rawRecord(hold, nil), want: required},
			{name: "provider_session_id empty", call: record(hold, ""), want: idBad},
			{name: "provider_session_id 256 characters", call: record(hold, strings.Repeat("s", 256)), want: idBad},
			{name: "provider_session_id 255 characters", call: record(hold, strings.Repeat("s", 255)), want: ok},
			{name: "unknown hold", call: record(unknownID, "cs_new"), want: fails("PT404", "hold_not_found")},
			{name: "provider session of another hold", call: record(hold, bobSessionID), want: fails("23505", "provider_session_id_taken")},
			{name: "second session for a hold", call: record(w.BobHold.ID, "cs_other"), want: fails("PT409", "payment_session_exists")},
			{name: "confirmed hold", call: record(*w.AliceAppt.HoldID, "cs_new"), want: fails("PT409", "hold_not_active")},
			{name: "released hold", setup: func(t *testing.T) {
				released = w.Hold(t, w.Alice, w.Biz.ID, w.Wash.ID, w.AtDay(1, 8, 0), w.AliceCar.ID, w.AliceHome.ID)
				w.As(t, w.Alice.Actor(), func(q *gen.Queries) error { return q.HoldRelease(ctx, released.ID) })
			}, call: func(tx pgx.Tx) error { return record(released.ID, "cs_new")(tx) }, want: fails("PT409", "hold_not_active")},
			{name: "expired hold", setup: func(t *testing.T) {
				lapsed = w.Hold(t, w.Alice, w.Biz.ID, w.Wash.ID, w.AtDay(1, 10, 0), w.AliceCar.ID, w.AliceHome.ID)
				w.expireHold(t, lapsed.ID)
			}, call: func(tx pgx.Tx) error { return record(lapsed.ID, "cs_new")(tx) }, want: fails("P0001", "hold_expired")},
		})
		t.Run("replay", func(t *testing.T) {
			replayWritesNothing(t, w, service(), record(w.BobHold.ID, bobSessionID))
		})
	})

	t.Run("payment_event_record", func(t *testing.T) {
		runInputs(t, w, service(), []inputCase{
			{name: "provider_event_id null", call: rawEvent(nil, bobSessionID, "succeeded", amount), want: required},
			{name: "provider_session_id null", call: rawEvent("evt_1", nil, "succeeded", amount), want: required},
			{name: "status null", call: rawEvent("evt_1", bobSessionID, nil, amount), want: required},
			{name: "amount_cents null", call: rawEvent("evt_1", bobSessionID, "succeeded", nil), want: required},
			{name: "provider_event_id empty", call: event("", bobSessionID, "succeeded", amount), want: eventBad},
			{name: "provider_event_id 256 characters", call: event(strings.Repeat("e", 256), bobSessionID, "succeeded", amount), want: eventBad},
			{name: "provider_event_id 255 characters", call: event(strings.Repeat("e", 255), bobSessionID, "pending", amount), want: ok},
			{name: "status unknown", call: event("evt_1", bobSessionID, "paid", amount), want: statusBad},
			{name: "status upper case", call: event("evt_1", bobSessionID, "SUCCEEDED", amount), want: statusBad},
			{name: "status empty", call: event("evt_1", bobSessionID, "", amount), want: statusBad},
			{name: "amount negative", call: event("evt_1", bobSessionID, "succeeded", -1), want: amountBad},
			{name: "amount over 100000000", call: event("evt_1", bobSessionID, "succeeded", 100000001), want: amountBad},
			{name: "unknown session", call: event("evt_1", "cs_unknown", "succeeded", amount), want: fails("PT404", "payment_session_not_found")},
			{name: "session id of another provider's shape", call: event("evt_1", strings.Repeat("s", 300), "succeeded", amount), want: fails("PT404", "payment_session_not_found")},
		})
		t.Run("replay with another payload", func(t *testing.T) {
			w.AsTx(t, service(), event("evt_first", bobSessionID, "pending", amount))
			replayWritesNothing(t, w, service(), q(func(q *gen.Queries) error {
				rows, err := q.PaymentEventRecord(ctx, gen.PaymentEventRecordParams{ProviderEventID: "evt_first", ProviderSessionID: bobSessionID, Status: "succeeded", AmountCents: amount})
				if err := one(rows, err); err != nil {
					return err
				}
				if rows[0].Status != "pending" || rows[0].Outcome != "recorded" {
					return fmt.Errorf("the replay returned %+v, want the stored pending event", rows[0])
				}
				return nil
			}))
		})
	})
}

func TestPart2NotificationBadInput(t *testing.T) {
	t.Parallel()
	bw := newBillingWorld(t)
	w, ctx := bw.World, bw.Ctx
	required := fails("22023", "argument_required")
	windowBad := fails("22023", "reminder_window_invalid")
	mark := func(id string, delivered bool, msg *string) func(tx pgx.Tx) error {
		return q(func(q *gen.Queries) error {
			return q.NotificationMark(ctx, gen.NotificationMarkParams{NotificationID: id, Delivered: delivered, Error: msg})
		})
	}
	remind := func(from, to time.Time) func(tx pgx.Tx) error {
		return q(func(q *gen.Queries) error {
			_, err := q.RemindersQueue(ctx, gen.RemindersQueueParams{WindowStart: from, WindowEnd: to})
			return err
		})
	}
	pending := w.notifications(t, w.AliceAppt.ID)[0]
	if pending.Status != "pending" {
		t.Fatalf("Alice's first notification is %s, want pending", pending.Status)
	}
	now := time.Now()

	t.Run("notifications_claim", func(t *testing.T) {
		runInputs(t, w, w.Alice.Actor(), []inputCase{
			{name: "appointment_id null", call: func(tx pgx.Tx) error { return rawCall(tx, "notifications_claim", a("appointment_id", "uuid", nil)) }, want: required},
			{name: "unknown appointment", call: q(func(q *gen.Queries) error { _, err := q.NotificationsClaim(ctx, unknownID); return err }),
				want: fails("PT404", "appointment_not_found")},
		})
	})
	t.Run("notification_mark", func(t *testing.T) {
		runInputs(t, w, service(), []inputCase{
			{name: "notification_id null", call: func(tx pgx.Tx) error {
				return rawCall(tx, "notification_mark", a("notification_id", "uuid", nil), a("delivered", "boolean", true))
			}, want: required},
			{name: "delivered null", call: func(tx pgx.Tx) error {
				return rawCall(tx, "notification_mark", a("notification_id", "uuid", bw.Sending.ID), a("delivered", "boolean", nil))
			}, want: required},
			{name: "unknown notification", call: mark(unknownID, true, nil), want: fails("PT404", "notification_not_found")},
			{name: "pending notification (never claimed)", call: mark(pending.ID, true, nil), want: fails("PT409", "notification_not_sending")},
			{name: "failed delivery with a 5000-character error", call: mark(bw.Sending.ID, false, ptr(strings.Repeat("e", 5000))), want: ok},
		})
	})
	t.Run("reminders_queue", func(t *testing.T) {
		runInputs(t, w, service(), []inputCase{
			{name: "window_start null", call: func(tx pgx.Tx) error {
				return rawCall(tx, "reminders_queue", a("window_start", "timestamptz", nil), a("window_end", "timestamptz", now))
			}, want: required},
			{name: "window_end null", call: func(tx pgx.Tx) error {
				return rawCall(tx, "reminders_queue", a("window_start", "timestamptz", now), a("window_end", "timestamptz", nil))
			}, want: required},
			{name: "empty window", call: remind(now, now), want: windowBad},
			{name: "window ending before it starts", call: remind(now, now.Add(-time.Hour)), want: windowBad},
			{name: "window of 7 days and a second", call: remind(now, now.Add(7*24*time.Hour+time.Second)), want: windowBad},
			{name: "window of 7 days", call: remind(now, now.Add(7*24*time.Hour)), want: ok},
			{name: "window in the past", call: remind(now.Add(-48*time.Hour), now.Add(-24*time.Hour)), want: ok},
		})
	})
}

func TestPart2VerificationBadInput(t *testing.T) {
	t.Parallel()
	bw := newBillingWorld(t)
	w, ctx := bw.World, bw.Ctx
	issue := func(email, purpose string) func(tx pgx.Tx) error {
		return q(func(q *gen.Queries) error {
			_, err := q.VerificationCodeIssue(ctx, gen.VerificationCodeIssueParams{Email: email, Purpose: purpose})
			return err
		})
	}
	consume := func(email, purpose, code string) func(tx pgx.Tx) error {
		return q(func(q *gen.Queries) error {
			okay, err := q.VerificationCodeConsume(ctx, gen.VerificationCodeConsumeParams{Email: email, Purpose: purpose, Code: code})
			if err == nil && !okay {
				err = errRejected
			}
			return err
		})
	}
	issued := func(t *testing.T, email string) string {
		var code string
		w.As(t, service(), func(q *gen.Queries) error {
			var err error
			code, err = q.VerificationCodeIssue(ctx, gen.VerificationCodeIssueParams{Email: email, Purpose: "sign_in"})
			return err
		})
		return code
	}
	required := fails("22023", "argument_required")
	emailBad := fails("22023", "verification_email_invalid")
	purposeBad := fails("22023", "verification_purpose_invalid")
	codeBad := fails("22023", "verification_code_invalid")
	var uma, lou, eve string

	t.Run("verification_code_issue", func(t *testing.T) {
		runInputs(t, w, service(), []inputCase{
			{name: "email null", call: func(tx pgx.Tx) error {
				return rawCall(tx, "verification_code_issue", a("email", "text", nil), a("purpose", "text", "sign_in"))
			}, want: required},
			{name: "purpose null", call: func(tx pgx.Tx) error {
				return rawCall(tx, "verification_code_issue", a("email", "text", "x@example.test"), a("purpose", "text", nil))
			}, want: required},
			{name: "email empty", call: issue("", "sign_in"), want: emailBad},
			{name: "email without @", call: issue("not-an-email", "sign_in"), want: emailBad},
			{name: "email without a dot in the domain", call: issue("a@b", "sign_in"), want: emailBad},
			{name: "email with two @", call: issue("two@@example.test", "sign_in"), want: emailBad},
			{name: "email with an inner space", call: issue("sp ace@example.test", "sign_in"), want: emailBad},
			{name: "email 255 characters", call: issue(strings.Repeat("m", 242)+"@example.test", "sign_in"), want: emailBad},
			{name: "email 254 characters", call: issue(strings.Repeat("m", 241)+"@example.test", "sign_in"), want: ok},
			{name: "purpose unknown", call: issue("x@example.test", "login"), want: purposeBad},
			{name: "purpose upper case", call: issue("x@example.test", "SIGN_IN"), want: purposeBad},
			{name: "purpose empty", call: issue("x@example.test", ""), want: purposeBad},
			{name: "mixed case with surrounding whitespace", call: issue("  Rita@Example.TEST\n", "sign_in"), want: ok},
			{name: "second code within a minute", setup: func(t *testing.T) { issued(t, "rita@example.test") },
				call: issue("RITA@example.test", "sign_in"), want: fails("PT429", "verification_rate_limited")},
			{name: "another purpose within a minute", call: issue("rita@example.test", "password_reset"), want: ok},
		})
	})
	t.Run("verification_code_consume", func(t *testing.T) {
		runInputs(t, w, service(), []inputCase{
			{name: "email null", call: func(tx pgx.Tx) error {
				return rawCall(tx, "verification_code_consume", a("email", "text", nil), a("purpose", "text", "sign_in"), a("code", "text", bw.VeraCode))
			}, want: required},
			{name: "purpose null", call: func(tx pgx.Tx) error {
				return rawCall(tx, "verification_code_consume", a("email", "text", bw.VeraEmail), a("purpose", "text", nil), a("code", "text", bw.VeraCode))
			}, want: required},
			{name: "code null", call: func(tx pgx.Tx) error {
				return rawCall(tx, "verification_code_consume", a("email", "text", bw.VeraEmail), a("purpose", "text", "sign_in"), a("code", "text", nil))
			}, want: required},
			{name: "purpose unknown", call: consume(bw.VeraEmail, "login", bw.VeraCode), want: purposeBad},
			{name: "code of 5 digits", call: consume(bw.VeraEmail, "sign_in", "12345"), want: codeBad},
			{name: "code of 7 digits", call: consume(bw.VeraEmail, "sign_in", "1234567"), want: codeBad},
			{name: "code with a letter", call: consume(bw.VeraEmail, "sign_in", "12a456"), want: codeBad},
			{name: "code empty", call: consume(bw.VeraEmail, "sign_in", ""), want: codeBad},
			{name: "code of non-ASCII digits", call: consume(bw.VeraEmail, "sign_in", "١٢٣٤٥٦"), want: codeBad},
			{name: "no code issued for the e-mail", call: consume("nobody@example.test", "sign_in", "123456"), want: fails("PT404", "verification_code_not_found")},
			{name: "no code issued for the purpose", call: consume(bw.VeraEmail, "password_reset", bw.VeraCode), want: fails("PT404", "verification_code_not_found")},
			{name: "code used", setup: func(t *testing.T) {
				uma = issued(t, "uma@example.test")
				w.AsTx(t, service(), consume("uma@example.test", "sign_in", uma))
			}, call: func(tx pgx.Tx) error { return consume("uma@example.test", "sign_in", uma)(tx) }, want: fails("PT409", "verification_code_used")},
			{name: "code locked after 5 wrong guesses", setup: func(t *testing.T) {
				lou = issued(t, "lou@example.test")
				for i := 0; i < 5; i++ {
					err := w.Call(service(), func(q *gen.Queries) error {
						_, err := q.VerificationCodeConsume(ctx, gen.VerificationCodeConsumeParams{Email: "lou@example.test", Purpose: "sign_in", Code: wrongCode(lou)})
						return err
					})
					if err != nil {
						t.Fatalf("wrong guess %d: %s", i+1, describe(err))
					}
				}
			}, call: func(tx pgx.Tx) error { return consume("lou@example.test", "sign_in", lou)(tx) }, want: fails("P0001", "verification_code_locked")},
			{name: "code expired", setup: func(t *testing.T) {
				eve = issued(t, "eve@example.test")
				w.Owner(t, func(tx pgx.Tx) error {
					_, err := tx.Exec(ctx, `update public.verification_codes set created_at = now() - interval '11 minutes', expires_at = now() - interval '1 minute' where email = 'eve@example.test'`)
					return err
				})
			}, call: func(tx pgx.Tx) error { return consume("eve@example.test", "sign_in", eve)(tx) }, want: fails("P0001", "verification_code_expired")},
			{name: "mixed case e-mail and padded code", call: consume("  VERA@example.test ", "sign_in", " "+bw.VeraCode+"\n"), want: ok},
		})
	})
}

func TestPart2AdminBadInput(t *testing.T) {
	t.Parallel()
	bw := newBillingWorld(t)
	w, ctx := bw.World, bw.Ctx
	required := fails("22023", "argument_required")
	note := func(business, customer, body string) func(tx pgx.Tx) error {
		return q(func(q *gen.Queries) error {
			return one(q.AdminNoteAdd(ctx, gen.AdminNoteAddParams{BusinessID: business, CustomerID: customer, Body: body}))
		})
	}
	rawNote := func(business, customer, body any) func(tx pgx.Tx) error {
		return func(tx pgx.Tx) error {
			return rawCall(tx, "admin_note_add", a("business_id", "uuid", business), a("customer_id", "uuid", customer), a("body", "text", body))
		}
	}
	set := func(business, key string, v *int32) func(tx pgx.Tx) error {
		return q(func(q *gen.Queries) error {
			return one(q.SettingsSet(ctx, gen.SettingsSetParams{BusinessID: business, Key: key, Value: v}))
		})
	}
	rawSet := func(business, key any) func(tx pgx.Tx) error {
		return func(tx pgx.Tx) error {
			return rawCall(tx, "settings_set", a("business_id", "uuid", business), a("key", "text", key), a("value", "integer", 10))
		}
	}
	stats := func(business string, from, to time.Time) func(tx pgx.Tx) error {
		return q(func(q *gen.Queries) error {
			_, err := q.BusinessStats(ctx, gen.BusinessStatsParams{BusinessID: business, FromDay: pgDate(from), ToDay: pgDate(to)})
			return err
		})
	}
	rawStats := func(business, from, to any) func(tx pgx.Tx) error {
		return func(tx pgx.Tx) error {
			return rawCall(tx, "business_stats", a("business_id", "uuid", business), a("from_day", "date", from), a("to_day", "date", to))
		}
	}
	ensure := func(months any) func(tx pgx.Tx) error {
		return func(tx pgx.Tx) error {
			return rawCall(tx, "audit_partitions_ensure", a("months_ahead", "integer", months))
		}
	}
	biz, alice := w.Biz.ID, w.Alice.ID
	bodyBad := fails("22023", "note_body_invalid")
	keyBad := fails("22023", "setting_key_invalid")
	rangeBad := fails("22023", "stats_range_invalid")
	monthsBad := fails("22023", "months_ahead_invalid")
	day := w.Day

	t.Run("admin_note_add", func(t *testing.T) {
		runInputs(t, w, w.Olga.Actor(), []inputCase{
			{name: "business_id null", call: rawNote(nil, alice, "note"), want: required},
			{name: "customer_id null", call: rawNote(biz, nil, "note"), want: required},
			{name: "body null", call: rawNote(biz, alice, nil), want: required},
			{name: "unknown business", call: note(unknownID, alice, "note"), want: fails("PT404", "business_not_found")},
			{name: "body empty", call: note(biz, alice, ""), want: bodyBad},
			{name: "body blank", call: note(biz, alice, " \t\r\n "), want: bodyBad},
			{name: "body 4001 characters", call: note(biz, alice, strings.Repeat("b", 4001)), want: bodyBad},
			{name: "body 4000 characters", call: note(biz, alice, strings.Repeat("b", 4000)), want: ok},
			{name: "unknown customer", call: note(biz, unknownID, "note"), want: fails("PT404", "customer_not_found")},
			{name: "customer of another business only", call: note(biz, w.Dave.ID, "note"), want: fails("PT404", "customer_not_found")},
			{name: "user without a booking here", call: note(biz, w.Carol.ID, "note"), want: fails("PT404", "customer_not_found")},
			{name: "a member of the business", call: note(biz, w.Sam.ID, "note"), want: fails("PT404", "customer_not_found")},
			{name: "customer with only a membership", setup: func(t *testing.T) {
				w.AsTx(t, service(), q(func(q *gen.Queries) error {
					return one(q.MembershipActivate(ctx, gen.MembershipActivateParams{CustomerID: w.Carol.ID, PlanID: bw.Plan.ID, PeriodStart: pgDate(monthStart())}))
				}))
			}, call: note(biz, w.Carol.ID, "note"), want: ok},
		})
	})
	t.Run("settings_set", func(t *testing.T) {
		runInputs(t, w, w.Olga.Actor(), []inputCase{
			{name: "business_id null", call: rawSet(nil, "hold_minutes"), want: required},
			{name: "key null", call: rawSet(biz, nil), want: required},
			{name: "unknown business", call: set(unknownID, "hold_minutes", ptr(int32(10))), want: fails("PT404", "business_not_found")},
			{name: "unknown key", call: set(biz, "colour", ptr(int32(10))), want: keyBad},
			{name: "key empty", call: set(biz, "", ptr(int32(10))), want: keyBad},
			{name: "key upper case", call: set(biz, "HOLD_MINUTES", ptr(int32(10))), want: keyBad},
			{name: "hold_minutes 0", call: set(biz, "hold_minutes", ptr(int32(0))), want: fails("23514", "business_settings_hold_minutes_check")},
			{name: "hold_minutes 121", call: set(biz, "hold_minutes", ptr(int32(121))), want: fails("23514", "business_settings_hold_minutes_check")},
			{name: "hold_minutes 120", call: set(biz, "hold_minutes", ptr(int32(120))), want: ok},
			{name: "max_active_holds_per_customer 0", call: set(biz, "max_active_holds_per_customer", ptr(int32(0))),
				want: fails("23514", "business_settings_max_active_holds_per_customer_check")},
			{name: "max_active_holds_per_customer 21", call: set(biz, "max_active_holds_per_customer", ptr(int32(21))),
				want: fails("23514", "business_settings_max_active_holds_per_customer_check")},
			{name: "max_upcoming_appointments_per_customer 51", call: set(biz, "max_upcoming_appointments_per_customer", ptr(int32(51))),
				want: fails("23514", "business_settings_max_upcoming_appointments_per_customer_check")},
			{name: "customer_cancel_cutoff_hours -1", call: set(biz, "customer_cancel_cutoff_hours", ptr(int32(-1))),
				want: fails("23514", "business_settings_customer_cancel_cutoff_hours_check")},
			{name: "customer_reschedule_cutoff_hours 169", call: set(biz, "customer_reschedule_cutoff_hours", ptr(int32(169))),
				want: fails("23514", "business_settings_customer_reschedule_cutoff_hours_check")},
			{name: "customer_reschedule_cutoff_hours 168", call: set(biz, "customer_reschedule_cutoff_hours", ptr(int32(168))), want: ok},
			{name: "value null (back to the default)", call: set(biz, "hold_minutes", nil), want: ok},
		})
	})
	t.Run("business_stats", func(t *testing.T) {
		runInputs(t, w, readOnly(w.Olga.Actor()), []inputCase{
			{name: "business_id null", call: rawStats(nil, pgDate(day), pgDate(day)), want: required},
			{name: "from_day null", call: rawStats(biz, nil, pgDate(day)), want: required},
			{name: "to_day null", call: rawStats(biz, pgDate(day), nil), want: required},
			{name: "unknown business", call: stats(unknownID, day, day), want: fails("PT404", "business_not_found")},
			{name: "to_day before from_day", call: stats(biz, day, day.AddDate(0, 0, -1)), want: rangeBad},
			{name: "367 days", call: stats(biz, day, day.AddDate(0, 0, 367)), want: rangeBad},
			{name: "366 days", call: stats(biz, day, day.AddDate(0, 0, 366)), want: ok},
			{name: "one day", call: stats(biz, day, day), want: ok},
		})
	})
	t.Run("audit_partitions_ensure", func(t *testing.T) {
		runInputs(t, w, service(), []inputCase{
			{name: "months_ahead null", call: ensure(nil), want: monthsBad},
			{name: "months_ahead -1", call: ensure(-1), want: monthsBad},
			{name: "months_ahead 25", call: ensure(25), want: monthsBad},
			{name: "months_ahead 24", call: ensure(24), want: ok},
			{name: "months_ahead 0", call: ensure(0), want: ok},
		})
	})
}
