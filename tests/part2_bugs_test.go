package tests

import (
	"context"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/dbtool-dev/dbtool/dbtest"
	"github.com/dbtool-dev/dbtool/gen"
)

// Regression tests for defects these suites found (each failed before its
// fix). New defects that are not fixed yet go here as TestKnownBug... tests,
// skipped unless DBTOOL_KNOWN_BUGS=1 (see CONTRIBUTING.md).

// Fixed defect: membership_activate's comment says "Replays change nothing and return
// the membership", but a replay (same customer, plan and period: a
// billing webhook retried) runs the renewal UPDATE anyway: memberships.
// updated_at moves and the audit log gets an UPDATE row whose old and new
// rows differ only in updated_at, on every retry.
func TestMembershipActivateReplayWritesNothing(t *testing.T) {
	t.Parallel()
	bw := newBillingWorld(t)
	w := bw.World
	replayWritesNothing(t, w, service(), func(tx pgx.Tx) error {
		rows, err := gen.New(tx).MembershipActivate(w.Ctx, gen.MembershipActivateParams{CustomerID: w.Alice.ID, PlanID: bw.Plan.ID, PeriodStart: pgDate(monthStart())})
		if err := one(rows, err); err != nil {
			return err
		}
		if rows[0].ID != bw.AliceMembership.ID {
			t.Errorf("the replay returned membership %s, want %s", rows[0].ID, bw.AliceMembership.ID)
		}
		return nil
	})
}

// Fixed defect: coupon_redeem counts a redemption as live while its hold is active and
// unexpired, confirmed, or has a pending or succeeded payment session. A
// session whose payment failed is not counted, yet payment_event_record
// still confirms its hold on a later succeeded event (documented: "a later
// succeeded may still confirm"), even after the hold expired. So a coupon
// at its limit can be redeemed by someone else in between, and both
// bookings end up confirmed with the discount: max_redemptions exceeded.
func TestCouponNotOverRedeemedAfterFailedPayment(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := w.Ctx
	limit := int32(1)
	w.coupon(t, "SINGLE", &limit, 1, nil, nil, true)
	first := w.newCustomer(t, "Fran First", "FF-1")
	second := w.newCustomer(t, "Sid Second", "SS-1")
	redeem := func(c racer, hold gen.Hold) error {
		return w.Call(c.p.Actor(), func(q *gen.Queries) error {
			return one(q.CouponRedeem(ctx, gen.CouponRedeemParams{Code: "SINGLE", HoldID: hold.ID, IdempotencyKey: "k-" + hold.ID}))
		})
	}
	h1 := w.holdFor(t, first, w.AtDay(1, 9, 0))
	expect(t, redeem(first, h1), ok)
	s1 := w.session(t, h1, "cs_first")
	if e := w.event(t, "evt_declined", "cs_first", "failed", s1.AmountCents); e.Outcome != "failed" {
		t.Fatalf("the declined payment: outcome %s", e.Outcome)
	}
	w.expireHold(t, h1.ID)
	// The first redemption may come back to life: the coupon is not free.
	h2 := w.holdFor(t, second, w.AtDay(1, 11, 0))
	err := redeem(second, h2)
	if err == nil {
		// If the second redemption is accepted, the first payment must not
		// confirm a second discounted booking.
		if e := w.event(t, "evt_retry", "cs_first", "succeeded", s1.AmountCents); e.Outcome == "confirmed" {
			t.Errorf("both redemptions of a coupon limited to 1 are live: the retried payment confirmed hold %s with the discount", h1.ID)
		}
		return
	}
	expect(t, err, fails("P0001", "coupon_exhausted"))
}

// Fixed defect: coupon_redeem's replay lookup runs under the hold's row lock, but its
// idempotency key is scoped to the customer: the same key sent at once
// for two different holds is not serialised, and the loser gets the
// backstop unique constraint's name (coupon_redemptions_customer_id_
// idempotency_key_key) instead of the documented idempotency_key_reused.
func TestCouponKeyReuseRaceRuleName(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.coupon(t, "TWICE", nil, 10, nil, nil, true)
	c := w.newCustomer(t, "Kim Key", "KK-1")
	holds := make([]gen.Hold, 2)
	res, err := dbtest.Race(w.Ctx, w.DB, sameActors(c.p.Actor(), 2), dbtest.RaceOptions{
		Rounds: 6,
		Setup: func(ctx context.Context, r int) error {
			w.Owner(t, func(tx pgx.Tx) error {
				_, err := tx.Exec(ctx, `delete from public.holds where customer_id = $1`, c.p.ID)
				return err
			})
			for i := range holds {
				holds[i] = w.holdFor(t, c, w.AtDay(1, 8+2*i, 0))
			}
			return nil
		},
	}, func(ctx context.Context, tx pgx.Tx, i int) (string, error) {
		rows, err := gen.New(tx).CouponRedeem(ctx, gen.CouponRedeemParams{Code: "TWICE", HoldID: holds[i].ID, IdempotencyKey: fmt.Sprintf("key-%s", holds[0].ID)})
		if err != nil {
			return "", err
		}
		return rows[0].ID, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for r, rd := range res {
		if got := dbtest.Successes(rd); got != 1 {
			t.Errorf("round %d: %d redemptions with one key", r, got)
		}
		checkLosers(t, rd, fails("23505", "idempotency_key_reused"))
	}
}
