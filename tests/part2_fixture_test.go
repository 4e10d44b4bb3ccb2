package tests

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dbtool-dev/dbtool/dbtest"
	"github.com/dbtool-dev/dbtool/gen"
)

// BillingWorld is the part II fixture: the part I world plus a membership
// plan, Alice's membership and credits, a coupon, a payment session on
// Bob's hold, a claimed notification and an issued verification code, all
// made through the bindings by the people (or servers) who would make them.
type BillingWorld struct {
	*World

	Plan            gen.MembershipPlan // "Monthly Shine" at business 1: 4 credits a month (Max)
	AliceMembership gen.Membership     // Alice on Plan since the first of this month (billing)
	AliceCredits    int32              // Alice's balance at business 1: 4 (membership) + 6 (Olga's grant)
	Coupon          gen.Coupon         // WELCOME10 at business 1: 10 % off, 100 in total, 1 per customer (Max)
	BobSession      gen.PaymentSession // checkout session cs_bob on BobHold (server)
	Sending         gen.Notification   // one of BobAppt's notifications, claimed by the dispatcher (status sending)
	VeraEmail       string             // an e-mail with a sign_in code issued (server)
	VeraCode        string
}

const (
	welcomeCode   = "WELCOME10"
	bobSessionID  = "cs_bob"
	periodCredits = 4
	grantCredits  = 6
)

// service is the server's request (service_role key, no user).
func service() dbtest.Actor { return dbtest.ServiceRole() }

// serviceAs is the server acting for a user (service_role with a sub claim).
func serviceAs(p dbtest.Persona) dbtest.Actor {
	return dbtest.Role("service_role", map[string]any{"sub": p.ID})
}

// monthStart is the first day of the current month (UTC, the server's
// time zone): a billing period start.
func monthStart() time.Time {
	now := time.Now().UTC()
	return time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
}

// newBillingWorld builds the part I world and the part II fixture on it.
func newBillingWorld(tb testing.TB) *BillingWorld {
	tb.Helper()
	bw := &BillingWorld{World: newWorld(tb), VeraEmail: "vera@example.test"}
	w, ctx := bw.World, bw.Ctx
	w.As(tb, w.Max.Actor(), func(q *gen.Queries) error {
		var err error
		if bw.Plan, err = q.MembershipPlanCreate(ctx, gen.MembershipPlanCreateParams{BusinessID: w.Biz.ID, Name: "Monthly Shine",
			MonthlyCredits: periodCredits, PriceCents: 2900}); err != nil {
			return err
		}
		limit := int32(100)
		bw.Coupon, err = q.CouponCreate(ctx, gen.CouponCreateParams{BusinessID: w.Biz.ID, Code: welcomeCode, DiscountKind: "percent",
			DiscountValue: 10, MaxRedemptions: &limit, PerCustomerLimit: 1})
		return err
	})
	w.As(tb, service(), func(q *gen.Queries) error {
		rows, err := q.MembershipActivate(ctx, gen.MembershipActivateParams{CustomerID: w.Alice.ID, PlanID: bw.Plan.ID, PeriodStart: pgDate(monthStart())})
		if err := one(rows, err); err != nil {
			return err
		}
		bw.AliceMembership = rows[0]
		sessions, err := q.PaymentSessionRecord(ctx, gen.PaymentSessionRecordParams{HoldID: w.BobHold.ID, ProviderSessionID: bobSessionID})
		if err := one(sessions, err); err != nil {
			return err
		}
		bw.BobSession = sessions[0]
		claimed, err := q.NotificationsClaim(ctx, w.BobAppt.ID)
		if err != nil {
			return err
		}
		if len(claimed) == 0 {
			return errors.New("Bob's appointment has no notification to claim")
		}
		bw.Sending = claimed[0]
		bw.VeraCode, err = q.VerificationCodeIssue(ctx, gen.VerificationCodeIssueParams{Email: bw.VeraEmail, Purpose: "sign_in"})
		return err
	})
	w.As(tb, w.Olga.Actor(), func(q *gen.Queries) error {
		return one(q.CreditsGrant(ctx, gen.CreditsGrantParams{BusinessID: w.Biz.ID, CustomerID: w.Alice.ID, Amount: grantCredits,
			Reason: "welcome bonus", IdempotencyKey: "fixture-welcome"}))
	})
	bw.AliceCredits = periodCredits + grantCredits
	if got := bw.Balance(tb, w.Biz.ID, w.Alice.ID); got != bw.AliceCredits {
		tb.Fatalf("fixture: Alice's balance is %d, want %d", got, bw.AliceCredits)
	}
	return bw
}

// Balance is a customer's credit balance at a business, read as the owner
// (0 when there is no balance row).
func (w *World) Balance(tb testing.TB, business, customer string) int32 {
	tb.Helper()
	var n int32
	w.Owner(tb, func(tx pgx.Tx) error {
		return tx.QueryRow(w.Ctx, `select coalesce((select balance from public.credit_balances where business_id = $1 and customer_id = $2), 0)`,
			business, customer).Scan(&n)
	})
	return n
}

// LedgerDrift counts the balances that differ from the sum of their
// ledger entries, and ledger entries whose balance_after is negative or
// does not follow from the previous entry (as the owner): 0 when the
// ledger and the balances agree.
func (w *World) LedgerDrift(tb testing.TB) int {
	return w.Count(tb, `(
		select b.business_id from public.credit_balances b
		where b.balance <> coalesce((select sum(l.delta) from public.credit_ledger l
		                             where l.business_id = b.business_id and l.customer_id = b.customer_id), 0)
		   or b.balance < 0
		union all
		select x.business_id from (
			select l.business_id, l.delta, l.balance_after,
			       coalesce(lag(l.balance_after) over (partition by l.business_id, l.customer_id order by l.id), 0) as before
			from public.credit_ledger l) x
		where x.balance_after < 0 or x.balance_after <> x.before + x.delta
	) drift`)
}

// grant gives customer credits at business as the server (credits_grant).
func (w *World) grant(tb testing.TB, business, customer string, amount int32, key string) gen.CreditLedger {
	tb.Helper()
	var e gen.CreditLedger
	w.As(tb, service(), func(q *gen.Queries) error {
		rows, err := q.CreditsGrant(w.Ctx, gen.CreditsGrantParams{BusinessID: business, CustomerID: customer, Amount: amount,
			Reason: "test credits", IdempotencyKey: key})
		if err := one(rows, err); err != nil {
			return err
		}
		e = rows[0]
		return nil
	})
	return e
}

// session records a provider checkout session for hold as the server.
func (w *World) session(tb testing.TB, hold gen.Hold, providerID string) gen.PaymentSession {
	tb.Helper()
	var s gen.PaymentSession
	w.As(tb, service(), func(q *gen.Queries) error {
		rows, err := q.PaymentSessionRecord(w.Ctx, gen.PaymentSessionRecordParams{HoldID: hold.ID, ProviderSessionID: providerID})
		if err := one(rows, err); err != nil {
			return err
		}
		s = rows[0]
		return nil
	})
	return s
}

// event delivers a provider webhook event as the server and returns the
// stored event.
func (w *World) event(tb testing.TB, eventID, providerSession, status string, amount int32) gen.PaymentEvent {
	tb.Helper()
	var e gen.PaymentEvent
	w.As(tb, service(), func(q *gen.Queries) error {
		rows, err := q.PaymentEventRecord(w.Ctx, gen.PaymentEventRecordParams{ProviderEventID: eventID, ProviderSessionID: providerSession,
			Status: status, AmountCents: amount})
		if err := one(rows, err); err != nil {
			return err
		}
		e = rows[0]
		return nil
	})
	return e
}

// coupon adds an amount coupon (5.00 off) to business 1 as Max
// (catalog.manage), with a plain insert under RLS: the CouponCreate
// binding does not take valid_from or active.
func (w *World) coupon(tb testing.TB, code string, limit *int32, perCustomer int32, validFrom, validUntil *time.Time, active bool) gen.Coupon {
	tb.Helper()
	var c gen.Coupon
	w.AsTx(tb, w.Max.Actor(), func(tx pgx.Tx) error {
		return tx.QueryRow(w.Ctx, `insert into public.coupons (business_id, code, discount_kind, discount_value, valid_from, valid_until, max_redemptions, per_customer_limit, active)
			values ($1, $2, 'amount', 500, coalesce($3, now()), $4, $5, $6, $7)
			returning id, business_id, code, discount_kind, discount_value, valid_from, valid_until, max_redemptions, per_customer_limit, active`,
			w.Biz.ID, code, validFrom, validUntil, limit, perCustomer, active).Scan(&c.ID, &c.BusinessID, &c.Code, &c.DiscountKind,
			&c.DiscountValue, &c.ValidFrom, &c.ValidUntil, &c.MaxRedemptions, &c.PerCustomerLimit, &c.Active)
	})
	return c
}

// expireHold moves a hold's expiry into the past (as the owner), as if
// hold_minutes had passed.
func (w *World) expireHold(tb testing.TB, hold string) {
	tb.Helper()
	w.Owner(tb, func(tx pgx.Tx) error {
		_, err := tx.Exec(w.Ctx, `update public.holds set created_at = now() - interval '1 hour', expires_at = now() - interval '1 minute' where id = $1`, hold)
		return err
	})
}

// notifications lists an appointment's notifications as the owner, oldest
// first.
func (w *World) notifications(tb testing.TB, appointment string) []gen.Notification {
	tb.Helper()
	var ns []gen.Notification
	w.Owner(tb, func(tx pgx.Tx) error {
		var err error
		ns, err = gen.New(tx).NotificationList(w.Ctx, appointment)
		return err
	})
	return ns
}

// payload decodes a notification's payload.
func payload(tb testing.TB, n gen.Notification) map[string]any {
	tb.Helper()
	m := map[string]any{}
	if err := json.Unmarshal(n.Payload, &m); err != nil {
		tb.Fatalf("notification %s payload %s: %v", n.ID, n.Payload, err)
	}
	return m
}

// tryLacking runs fn as actor in one rolled-back request in which the
// member role no longer holds permission: the database owner removes the
// role_permissions row, then switches to the actor's role and claims the
// way PostgREST does, in the same transaction. It stands in for a business
// whose staff role was configured without the permission.
func (w *World) tryLacking(role, permission string, actor dbtest.Actor, fn func(q *gen.Queries) error) error {
	err := w.DB.AsOwner(w.Ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(w.Ctx, `delete from public.role_permissions where role = $1 and permission = $2`, role, permission)
		if err != nil {
			return err
		}
		if tag.RowsAffected() != 1 {
			return fmt.Errorf("role %s does not hold %s", role, permission)
		}
		claims, err := json.Marshal(actor.Claims)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(w.Ctx, `select set_config('role', $1, true), set_config('request.jwt.claims', $2, true),
			set_config('request.method', 'POST', true)`, actor.Role, string(claims)); err != nil {
			return err
		}
		if err := fn(gen.New(tx)); err != nil {
			return err
		}
		return errRollback
	})
	if errors.Is(err, errRollback) {
		return nil
	}
	return err
}

// readOnly is actor's request in a READ ONLY transaction, as PostgREST
// runs GET requests and STABLE functions.
func readOnly(actor dbtest.Actor) dbtest.Actor {
	actor.ReadOnly = true
	return actor
}

// sameActors is n copies of actor (one person calling from n requests).
func sameActors(actor dbtest.Actor, n int) []dbtest.Actor {
	as := make([]dbtest.Actor, n)
	for i := range as {
		as[i] = actor
	}
	return as
}
