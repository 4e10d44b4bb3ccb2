package tests

import (
	"context"
	"fmt"
	"sort"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/dbtool-dev/dbtool/dbtest"
	"github.com/dbtool-dev/dbtool/gen"
)

// manyCallers is how many requests race for one credit or one key.
const manyCallers = 50

// Fifty requests of one customer redeem at once, with a balance that
// covers exactly one of them: one succeeds, the others get
// insufficient_credits, and the balance never goes below zero.
func TestPart2RaceLastCredit(t *testing.T) {
	t.Parallel()
	bw := newBillingWorld(t)
	w := bw.World
	biz, alice := w.Biz.ID, w.Alice.ID
	// Per round: the balance before, and what every caller redeems.
	plan := []struct{ balance, amount int32 }{{1, 1}, {3, 2}, {5, 3}, {1, 1}, {10, 6}}
	round := 0
	res, err := dbtest.Race(w.Ctx, w.DB, sameActors(w.Alice.Actor(), manyCallers), dbtest.RaceOptions{
		Rounds: len(plan),
		Setup: func(ctx context.Context, r int) error {
			round = r
			bal := w.Balance(t, biz, alice)
			if r > 0 {
				if left := plan[r-1].balance - plan[r-1].amount; bal != left {
					return fmt.Errorf("after round %d the balance is %d, want %d", r-1, bal, left)
				}
			}
			if delta := plan[r].balance - bal; delta != 0 { // a grant or a correction
				w.grant(t, biz, alice, delta, fmt.Sprintf("top-up-%d", r))
			}
			if got := w.Balance(t, biz, alice); got != plan[r].balance {
				return fmt.Errorf("round %d starts with %d credits, want %d", r, got, plan[r].balance)
			}
			return nil
		},
	}, func(ctx context.Context, tx pgx.Tx, i int) (int32, error) {
		rows, err := gen.New(tx).CreditsRedeem(ctx, gen.CreditsRedeemParams{AppointmentID: w.AliceAppt.ID, Amount: plan[round].amount,
			IdempotencyKey: fmt.Sprintf("last-%d-%d", round, i)})
		if err != nil {
			return 0, err
		}
		return rows[0].BalanceAfter, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for r, rd := range res {
		if got := dbtest.Successes(rd); got != 1 {
			t.Errorf("round %d: %d of %d redemptions succeeded on a balance for one", r, got, manyCallers)
		}
		checkLosers(t, rd, fails("P0001", "insufficient_credits"))
		for _, o := range rd {
			if o.OK() && o.Value != plan[r].balance-plan[r].amount {
				t.Errorf("round %d: the winner left %d credits, want %d", r, o.Value, plan[r].balance-plan[r].amount)
			}
		}
	}
	last := plan[len(plan)-1]
	if got := w.Balance(t, biz, alice); got != last.balance-last.amount {
		t.Errorf("final balance %d, want %d", got, last.balance-last.amount)
	}
	if n := w.Count(t, `public.credit_ledger where customer_id = $1 and kind = 'redeem'`, alice); n != len(plan) {
		t.Errorf("%d redemptions in the ledger after %d rounds", n, len(plan))
	}
	if n := w.LedgerDrift(t); n != 0 {
		t.Errorf("%d balances or ledger entries disagree (or went negative)", n)
	}
	t.Logf("%d rounds × %d callers: one redemption per round, balance never below zero", len(res), manyCallers)
}

// The same idempotency key sent fifty times at once: one ledger effect
// (or one redemption), and every caller gets the first result.
func TestPart2RaceIdempotencyKey(t *testing.T) {
	t.Parallel()
	bw := newBillingWorld(t)
	w, ctx := bw.World, bw.Ctx
	biz, alice := w.Biz.ID, w.Alice.ID
	const rounds = 3

	sameResult := func(t *testing.T, res [][]dbtest.Outcome[string], what string) {
		t.Helper()
		for r, rd := range res {
			if got := dbtest.Successes(rd); got != manyCallers {
				t.Errorf("round %d: %d of %d replays succeeded", r, got, manyCallers)
			}
			checkLosers(t, rd, ok)
			ids := map[string]int{}
			for _, o := range rd {
				if o.OK() {
					ids[o.Value]++
				}
			}
			if len(ids) != 1 {
				t.Errorf("round %d: the callers got %d different %s: %v", r, len(ids), what, ids)
			}
		}
	}

	t.Run("credits_redeem", func(t *testing.T) {
		round := 0
		start := w.Balance(t, biz, alice)
		res, err := dbtest.Race(ctx, w.DB, sameActors(w.Alice.Actor(), manyCallers), dbtest.RaceOptions{
			Rounds: rounds,
			Setup:  func(ctx context.Context, r int) error { round = r; return nil },
		}, func(ctx context.Context, tx pgx.Tx, i int) (string, error) {
			rows, err := gen.New(tx).CreditsRedeem(ctx, gen.CreditsRedeemParams{AppointmentID: w.AliceAppt.ID, Amount: 1, IdempotencyKey: fmt.Sprintf("same-redeem-%d", round)})
			if err != nil {
				return "", err
			}
			return fmt.Sprint(rows[0].ID), nil
		})
		if err != nil {
			t.Fatal(err)
		}
		sameResult(t, res, "ledger entries")
		if n := w.Count(t, `public.credit_ledger where customer_id = $1 and idempotency_key like 'same-redeem-%'`, alice); n != rounds {
			t.Errorf("%d ledger entries for %d keys", n, rounds)
		}
		if got := w.Balance(t, biz, alice); got != start-rounds {
			t.Errorf("balance %d, want %d: a replay was charged", got, start-rounds)
		}
	})

	t.Run("credits_grant", func(t *testing.T) {
		round := 0
		start := w.Balance(t, biz, w.Bob.ID)
		res, err := dbtest.Race(ctx, w.DB, sameActors(w.Olga.Actor(), manyCallers), dbtest.RaceOptions{
			Rounds: rounds,
			Setup:  func(ctx context.Context, r int) error { round = r; return nil },
		}, func(ctx context.Context, tx pgx.Tx, i int) (string, error) {
			rows, err := gen.New(tx).CreditsGrant(ctx, gen.CreditsGrantParams{BusinessID: biz, CustomerID: w.Bob.ID, Amount: 2, Reason: "apology",
				IdempotencyKey: fmt.Sprintf("same-grant-%d", round)})
			if err != nil {
				return "", err
			}
			return fmt.Sprint(rows[0].ID), nil
		})
		if err != nil {
			t.Fatal(err)
		}
		sameResult(t, res, "ledger entries")
		if got := w.Balance(t, biz, w.Bob.ID); got != start+2*rounds {
			t.Errorf("balance %d, want %d: a replay granted twice", got, start+2*rounds)
		}
	})

	t.Run("coupon_redeem", func(t *testing.T) {
		w.coupon(t, "SAMEKEY", nil, 10, nil, nil, true)
		w.setSetting(t, "max_active_holds_per_customer", 10)
		var hold gen.Hold
		round := 0
		res, err := dbtest.Race(ctx, w.DB, sameActors(w.Alice.Actor(), manyCallers), dbtest.RaceOptions{
			Rounds: rounds,
			Setup: func(ctx context.Context, r int) error {
				round = r
				hold = w.Hold(t, w.Alice, biz, w.Wash.ID, w.AtDay(1, 8+2*r, 0), w.AliceCar.ID, w.AliceHome.ID)
				return nil
			},
		}, func(ctx context.Context, tx pgx.Tx, i int) (string, error) {
			rows, err := gen.New(tx).CouponRedeem(ctx, gen.CouponRedeemParams{Code: "samekey", HoldID: hold.ID, IdempotencyKey: fmt.Sprintf("same-coupon-%d", round)})
			if err != nil {
				return "", err
			}
			return rows[0].ID, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		sameResult(t, res, "redemptions")
		if n := w.Count(t, `public.coupon_redemptions where code = 'SAMEKEY'`); n != rounds {
			t.Errorf("%d redemptions for %d keys", n, rounds)
		}
		if n := w.Count(t, `public.holds h join public.coupon_redemptions r on r.hold_id = h.id where r.code = 'SAMEKEY' and h.discount_cents = r.discount_cents`); n != rounds {
			t.Errorf("%d holds carry their discount once, want %d", n, rounds)
		}
	})
	if n := w.LedgerDrift(t); n != 0 {
		t.Errorf("%d balances or ledger entries disagree", n)
	}
}

// The provider delivers the same webhook event twenty times at once: one
// payment event, one appointment, every delivery gets the stored event.
// Twenty different events for one session at once: one confirms, the rest
// are ignored, still one appointment.
func TestPart2RaceWebhook(t *testing.T) {
	t.Parallel()
	bw := newBillingWorld(t)
	w, ctx := bw.World, bw.Ctx
	const deliveries, rounds = 20, 4
	servers := sameActors(service(), deliveries)

	run := func(t *testing.T, payer racer, day int, sameEvent bool) {
		var holds []gen.Hold
		var sessions []gen.PaymentSession
		res, err := dbtest.Race(ctx, w.DB, servers, dbtest.RaceOptions{
			Rounds: rounds,
			Setup: func(ctx context.Context, r int) error {
				h := w.holdFor(t, payer, w.AtDay(day, 8+2*r, 0))
				holds = append(holds, h)
				sessions = append(sessions, w.session(t, h, fmt.Sprintf("cs_race_%s_%d_%v", payer.p.ID[:8], r, sameEvent)))
				return nil
			},
		}, func(ctx context.Context, tx pgx.Tx, i int) (gen.PaymentEvent, error) {
			s := sessions[len(sessions)-1]
			id := "evt_" + s.ProviderSessionID
			if !sameEvent {
				id = fmt.Sprintf("%s_%d", id, i)
			}
			rows, err := gen.New(tx).PaymentEventRecord(ctx, gen.PaymentEventRecordParams{ProviderEventID: id, ProviderSessionID: s.ProviderSessionID,
				Status: "succeeded", AmountCents: s.AmountCents})
			if err != nil {
				return gen.PaymentEvent{}, err
			}
			return rows[0], nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for r, rd := range res {
			if got := dbtest.Successes(rd); got != deliveries {
				t.Errorf("round %d: %d of %d deliveries succeeded", r, got, deliveries)
			}
			checkLosers(t, rd, ok)
			outcomes, ids, appts := map[string]int{}, map[string]bool{}, map[string]bool{}
			for _, o := range rd {
				if o.OK() {
					outcomes[o.Value.Outcome]++
					ids[o.Value.ID] = true
					if o.Value.AppointmentID != nil {
						appts[*o.Value.AppointmentID] = true
					}
				}
			}
			wantEvents := deliveries
			if sameEvent {
				wantEvents = 1
				if outcomes["confirmed"] != deliveries || len(ids) != 1 {
					t.Errorf("round %d: deliveries of one event got %d events, outcomes %v", r, len(ids), outcomes)
				}
			} else if outcomes["confirmed"] != 1 || outcomes["ignored"] != deliveries-1 {
				t.Errorf("round %d: outcomes %v, want 1 confirmed and %d ignored", r, outcomes, deliveries-1)
			}
			if n := w.Count(t, `public.payment_events where payment_session_id = $1`, sessions[r].ID); n != wantEvents {
				t.Errorf("round %d: %d payment events stored, want %d", r, n, wantEvents)
			}
			appt, n := w.appointmentOfHold(t, holds[r].ID)
			if n != 1 || len(appts) != 1 || !appts[appt] {
				t.Errorf("round %d: %d appointments from the hold, events name %v", r, n, appts)
			}
			if n := w.Count(t, `public.notifications where appointment_id = $1 and kind = 'appointment_confirmed'`, appt); n != 1 {
				t.Errorf("round %d: %d confirmations queued", r, n)
			}
			if n := w.Count(t, `public.payment_sessions where id = $1 and status = 'succeeded' and appointment_id = $2`, sessions[r].ID, appt); n != 1 {
				t.Errorf("round %d: the session does not point at the appointment", r)
			}
		}
		if n := w.Overlaps(t); n != 0 {
			t.Errorf("%d overlapping appointments", n)
		}
	}
	t.Run("the same event", func(t *testing.T) { run(t, w.newCustomer(t, "Wendy Webhook", "WW-1"), 1, true) })
	t.Run("different events for one session", func(t *testing.T) { run(t, w.newCustomer(t, "Will Webhook", "WW-2"), 2, false) })
}

// Two dispatchers claim the notifications of one appointment at once:
// every notification is claimed by exactly one of them.
func TestPart2RaceNotificationDispatchers(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	for i := 0; i < 5; i++ {
		w.post(t, w.Alice, w.AliceAppt.ID, fmt.Sprintf("Question %d", i))
		w.post(t, w.Sam, w.AliceAppt.ID, fmt.Sprintf("Answer %d", i))
	}
	var want []string
	for _, n := range w.notifications(t, w.AliceAppt.ID) {
		want = append(want, n.ID)
	}
	sort.Strings(want)
	res, err := dbtest.Race(w.Ctx, w.DB, sameActors(service(), 2), dbtest.RaceOptions{
		Rounds: 10,
		Setup: func(ctx context.Context, r int) error {
			w.Owner(t, func(tx pgx.Tx) error {
				_, err := tx.Exec(ctx, `update public.notifications set status = 'pending', attempts = 0, claimed_at = null, sent_at = null,
					next_attempt_at = now() - interval '1 second' where appointment_id = $1`, w.AliceAppt.ID)
				return err
			})
			return nil
		},
	}, func(ctx context.Context, tx pgx.Tx, i int) ([]string, error) {
		rows, err := gen.New(tx).NotificationsClaim(ctx, w.AliceAppt.ID)
		var ids []string
		for _, n := range rows {
			ids = append(ids, n.ID)
		}
		return ids, err
	})
	if err != nil {
		t.Fatal(err)
	}
	split := map[string]int{}
	for r, rd := range res {
		checkLosers(t, rd, ok)
		var got []string
		for _, o := range rd {
			got = append(got, o.Value...)
		}
		split[fmt.Sprintf("%d/%d", len(rd[0].Value), len(rd[1].Value))]++
		sort.Strings(got)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("round %d: claimed %d notifications (%v), want each of %d exactly once", r, len(got), got, len(want))
		}
	}
	if n := w.Count(t, `public.notifications where appointment_id = $1 and (status <> 'sending' or attempts <> 1)`, w.AliceAppt.ID); n != 0 {
		t.Errorf("%d notifications not claimed exactly once in the last round", n)
	}
	t.Logf("%d notifications, 10 rounds; how the two dispatchers split them: %v", len(want), split)
}

// One verification code consumed by ten requests at once: one succeeds.
// Ten wrong guesses at once: exactly max_attempts are counted, then the
// code is locked.
func TestPart2RaceVerificationCode(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	const callers, rounds = 10, 4
	var email, code string
	setup := func(prefix string) func(context.Context, int) error {
		return func(ctx context.Context, r int) error {
			email = fmt.Sprintf("%s%d@example.test", prefix, r)
			w.As(t, service(), func(q *gen.Queries) error {
				var err error
				code, err = q.VerificationCodeIssue(ctx, gen.VerificationCodeIssueParams{Email: email, Purpose: "password_reset"})
				return err
			})
			return nil
		}
	}
	consume := func(wrong bool) func(context.Context, pgx.Tx, int) (bool, error) {
		return func(ctx context.Context, tx pgx.Tx, i int) (bool, error) {
			c := code
			if wrong {
				c = wrongCode(code)
			}
			return gen.New(tx).VerificationCodeConsume(ctx, gen.VerificationCodeConsumeParams{Email: email, Purpose: "password_reset", Code: c})
		}
	}
	count := func(rd []dbtest.Outcome[bool], verified bool) int {
		n := 0
		for _, o := range rd {
			if o.OK() && o.Value == verified {
				n++
			}
		}
		return n
	}

	t.Run("right code", func(t *testing.T) {
		res, err := dbtest.Race(w.Ctx, w.DB, sameActors(service(), callers), dbtest.RaceOptions{Rounds: rounds, Setup: setup("right")}, consume(false))
		if err != nil {
			t.Fatal(err)
		}
		for r, rd := range res {
			if got, wrongly := count(rd, true), count(rd, false); got != 1 || wrongly != 0 {
				t.Errorf("round %d: %d verified, %d rejected, want 1 and 0", r, got, wrongly)
			}
			checkLosers(t, rd, fails("PT409", "verification_code_used"))
		}
		if n := w.Count(t, `public.verification_codes where email like 'right%' and consumed_at is not null and attempts = 0`); n != rounds {
			t.Errorf("%d codes consumed cleanly, want %d", n, rounds)
		}
	})
	t.Run("wrong guesses", func(t *testing.T) {
		res, err := dbtest.Race(w.Ctx, w.DB, sameActors(service(), callers), dbtest.RaceOptions{Rounds: rounds, Setup: setup("wrong")}, consume(true))
		if err != nil {
			t.Fatal(err)
		}
		for r, rd := range res {
			if got, verified := count(rd, false), count(rd, true); got != 5 || verified != 0 {
				t.Errorf("round %d: %d wrong guesses counted, %d verified, want 5 and 0", r, got, verified)
			}
			checkLosers(t, rd, fails("P0001", "verification_code_locked"))
		}
		if n := w.Count(t, `public.verification_codes where email like 'wrong%' and attempts = max_attempts and locked_at is not null`); n != rounds {
			t.Errorf("%d codes locked at max_attempts, want %d", n, rounds)
		}
	})
}

// Eight customers redeem a coupon with room for k at once: exactly k
// redemptions. One customer redeems a coupon on three holds at once with
// a per-customer cap of p: exactly p.
func TestPart2RaceCouponLimit(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	rs := w.racers(t, 8)
	live := func(coupon string) int {
		return w.Count(t, `public.coupon_redemptions r join public.holds h on h.id = r.hold_id
			where r.code = $1 and h.status = 'active' and h.expires_at > now()`, coupon)
	}

	t.Run("total limit", func(t *testing.T) {
		limit := func(r int) int { return 1 + r%3 }
		holds := make([]gen.Hold, len(rs))
		code := ""
		res, err := dbtest.Race(w.Ctx, w.DB, actorsOf(rs), dbtest.RaceOptions{
			Rounds: 4,
			Setup: func(ctx context.Context, r int) error {
				w.Owner(t, func(tx pgx.Tx) error {
					_, err := tx.Exec(ctx, `delete from public.holds where business_id = $1 and lower(slot) >= $2`, w.Biz.ID, w.AtDay(2, 0, 0))
					return err
				})
				for i, c := range rs {
					holds[i] = w.holdFor(t, c, w.AtDay(2, 7+i, 0))
				}
				code = fmt.Sprintf("LAST%d", r)
				k := int32(limit(r))
				w.coupon(t, code, &k, 1, nil, nil, true)
				return nil
			},
		}, func(ctx context.Context, tx pgx.Tx, i int) (string, error) {
			rows, err := gen.New(tx).CouponRedeem(ctx, gen.CouponRedeemParams{Code: code, HoldID: holds[i].ID, IdempotencyKey: code})
			if err != nil {
				return "", err
			}
			return rows[0].ID, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for r, rd := range res {
			if got := dbtest.Successes(rd); got != limit(r) {
				t.Errorf("round %d: %d redemptions of a coupon limited to %d", r, got, limit(r))
			}
			checkLosers(t, rd, fails("P0001", "coupon_exhausted"))
		}
		if got := live(code); got != limit(len(res)-1) {
			t.Errorf("%d live redemptions of %s, want %d", got, code, limit(len(res)-1))
		}
	})

	t.Run("per-customer limit", func(t *testing.T) {
		c := rs[0]
		perCustomer := func(r int) int { return 1 + r%2 }
		holds := make([]gen.Hold, 3) // max_active_holds_per_customer is 3
		code := ""
		res, err := dbtest.Race(w.Ctx, w.DB, sameActors(c.p.Actor(), len(holds)), dbtest.RaceOptions{
			Rounds: 4,
			Setup: func(ctx context.Context, r int) error {
				w.Owner(t, func(tx pgx.Tx) error {
					_, err := tx.Exec(ctx, `delete from public.holds where customer_id = $1`, c.p.ID)
					return err
				})
				for i := range holds {
					holds[i] = w.holdFor(t, c, w.AtDay(3, 8+2*i, 0))
				}
				code = fmt.Sprintf("MINE%d", r)
				w.coupon(t, code, nil, int32(perCustomer(r)), nil, nil, true)
				return nil
			},
		}, func(ctx context.Context, tx pgx.Tx, i int) (string, error) {
			rows, err := gen.New(tx).CouponRedeem(ctx, gen.CouponRedeemParams{Code: code, HoldID: holds[i].ID, IdempotencyKey: fmt.Sprintf("%s-%d", code, i)})
			if err != nil {
				return "", err
			}
			return rows[0].ID, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for r, rd := range res {
			if got := dbtest.Successes(rd); got != perCustomer(r) {
				t.Errorf("round %d: %d redemptions by one customer, cap %d", r, got, perCustomer(r))
			}
			checkLosers(t, rd, fails("P0001", "coupon_customer_limit_reached"))
		}
	})
}
