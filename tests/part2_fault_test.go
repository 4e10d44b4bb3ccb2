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

// newCustomer is a customer of the world with a sedan and a home address.
func (w *World) newCustomer(tb testing.TB, name, plate string) racer {
	tb.Helper()
	p := w.DB.Persona(tb, name)
	v, a := w.customer(tb, p, "sedan", plate)
	return racer{p, v, a}
}

// holdFor is a Wash hold of business 1 for c at start.
func (w *World) holdFor(tb testing.TB, c racer, start time.Time) gen.Hold {
	tb.Helper()
	return w.Hold(tb, c.p, w.Biz.ID, w.Wash.ID, start, c.vehicle.ID, c.address.ID)
}

// sessionByProvider reads a payment session as the server.
func (w *World) sessionByProvider(tb testing.TB, providerID string) gen.PaymentSession {
	tb.Helper()
	var s gen.PaymentSession
	w.As(tb, service(), func(q *gen.Queries) error {
		list, err := q.PaymentSessionList(w.Ctx)
		for _, x := range list {
			if x.ProviderSessionID == providerID {
				s = x
			}
		}
		if err == nil && s.ID == "" {
			err = fmt.Errorf("no session %s", providerID)
		}
		return err
	})
	return s
}

// refundQueue is the provider session ids of PaymentSessionRefundList.
func (w *World) refundQueue(tb testing.TB) map[string]string {
	tb.Helper()
	m := map[string]string{}
	w.As(tb, service(), func(q *gen.Queries) error {
		rows, err := q.PaymentSessionRefundList(w.Ctx)
		for _, s := range rows {
			m[s.ProviderSessionID] = s.Status
		}
		return err
	})
	return m
}

// appointmentOfHold is the appointment made from hold ("" when none), as
// the owner, and how many there are.
func (w *World) appointmentOfHold(tb testing.TB, hold string) (string, int) {
	tb.Helper()
	var id string
	n := 0
	w.Owner(tb, func(tx pgx.Tx) error {
		rows, err := tx.Query(w.Ctx, `select id::text from public.appointments where hold_id = $1`, hold)
		if err != nil {
			return err
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if len(ids) > 0 {
			id = ids[0]
		}
		n = len(ids)
		return err
	})
	return id, n
}

func TestPart2PaymentFaults(t *testing.T) {
	t.Parallel()
	bw := newBillingWorld(t)
	w, ctx := bw.World, bw.Ctx

	t.Run("event for an unknown session", func(t *testing.T) {
		before := w.Snapshot(t)
		err := w.Call(service(), func(q *gen.Queries) error {
			return one(q.PaymentEventRecord(ctx, gen.PaymentEventRecordParams{ProviderEventID: "evt_ghost", ProviderSessionID: "cs_ghost", Status: "succeeded", AmountCents: 4000}))
		})
		expect(t, err, fails("PT404", "payment_session_not_found"))
		if d := before.Diff(w.Snapshot(t)); len(d) > 0 {
			t.Errorf("the refused event wrote to %v", d)
		}
		// The provider retries after the session is recorded: then it counts.
		h := w.holdFor(t, w.newCustomer(t, "Gus Ghost", "G-1"), w.AtDay(1, 7, 0))
		s := w.session(t, h, "cs_ghost")
		if e := w.event(t, "evt_ghost", "cs_ghost", "succeeded", s.AmountCents); e.Outcome != "confirmed" {
			t.Errorf("the retried event: outcome %s, want confirmed", e.Outcome)
		}
	})

	for i, delta := range []int32{-1, +100} {
		t.Run(fmt.Sprintf("amount off by %+d is recorded, not confirmed", delta), func(t *testing.T) {
			mia := w.newCustomer(t, fmt.Sprintf("Mia Mismatch %d", i), fmt.Sprintf("M-%d", i))
			h := w.holdFor(t, mia, w.AtDay(1, 8+i, 0))
			provider := fmt.Sprintf("cs_mismatch_%d", i)
			s := w.session(t, h, provider)
			e := w.event(t, provider+"_evt1", provider, "succeeded", s.AmountCents+delta)
			if e.Outcome != "amount_mismatch" || e.AppointmentID != nil || e.AmountCents != s.AmountCents+delta || e.ExpectedAmountCents != s.AmountCents {
				t.Errorf("stored %+v", e)
			}
			if _, n := w.appointmentOfHold(t, h.ID); n != 0 {
				t.Errorf("%d appointments from a mismatched payment", n)
			}
			if n := w.Count(t, `public.holds where id = $1 and status = 'active'`, h.ID); n != 1 {
				t.Error("the hold is no longer active")
			}
			if got := w.refundQueue(t)[provider]; got != "amount_mismatch" {
				t.Errorf("refund queue has the session as %q, want amount_mismatch", got)
			}
			// A correct amount afterwards does not confirm a settled session.
			if e := w.event(t, provider+"_evt2", provider, "succeeded", s.AmountCents); e.Outcome != "ignored" || e.AppointmentID != nil {
				t.Errorf("a later correct event: %+v, want ignored", e)
			}
			if _, n := w.appointmentOfHold(t, h.ID); n != 0 {
				t.Errorf("%d appointments after the later event", n)
			}
			// The refund closes it.
			if e := w.event(t, provider+"_refund", provider, "refunded", s.AmountCents+delta); e.Outcome != "refunded" {
				t.Errorf("refund event: outcome %s", e.Outcome)
			}
			if got := w.sessionByProvider(t, provider).Status; got != "refunded" {
				t.Errorf("session %s after the refund, want refunded", got)
			}
			if _, queued := w.refundQueue(t)[provider]; queued {
				t.Error("a refunded session stays in the refund queue")
			}
			// The customer sees their session, not the provider's events;
			// billing.view sees the events, staff without it nothing.
			var sessions, ownEvents, billingEvents, staffEvents int
			w.As(t, mia.p.Actor(), func(q *gen.Queries) error {
				got, err := q.PaymentSessionGet(ctx, s.ID)
				if err == nil && got.Status == "refunded" {
					sessions = 1
				}
				evs, err2 := q.PaymentEventList(ctx, s.ID)
				ownEvents = len(evs)
				if err == nil {
					err = err2
				}
				return err
			})
			w.As(t, w.Max.Actor(), func(q *gen.Queries) error {
				evs, err := q.PaymentEventList(ctx, s.ID)
				billingEvents = len(evs)
				return err
			})
			w.As(t, w.Sam.Actor(), func(q *gen.Queries) error {
				evs, err := q.PaymentEventList(ctx, s.ID)
				staffEvents = len(evs)
				return err
			})
			if sessions != 1 || ownEvents != 0 || billingEvents != 3 || staffEvents != 0 {
				t.Errorf("customer sees %d session(s) and %d events, billing.view %d events, staff %d (want 1, 0, 3, 0)", sessions, ownEvents, billingEvents, staffEvents)
			}
		})
	}

	t.Run("payment after the hold expired, slot still free", func(t *testing.T) {
		eli := w.newCustomer(t, "Eli Expired", "E-1")
		h := w.holdFor(t, eli, w.AtDay(1, 10, 0))
		s := w.session(t, h, "cs_expired_free")
		w.expireHold(t, h.ID)
		w.As(t, service(), func(q *gen.Queries) error {
			n, err := q.HoldsExpire(ctx)
			if err == nil && n < 1 {
				err = fmt.Errorf("holds_expire expired %d holds", n)
			}
			return err
		})
		e := w.event(t, "evt_expired_free", "cs_expired_free", "succeeded", s.AmountCents)
		appt, n := w.appointmentOfHold(t, h.ID)
		if e.Outcome != "confirmed" || n != 1 || e.AppointmentID == nil || *e.AppointmentID != appt {
			t.Fatalf("stored %+v; %d appointments from the hold", e, n)
		}
		got := w.sessionByProvider(t, "cs_expired_free")
		if got.Status != "succeeded" || got.AppointmentID == nil || *got.AppointmentID != appt {
			t.Errorf("session %+v", got)
		}
		if n := w.Count(t, `public.holds where id = $1 and status = 'confirmed'`, h.ID); n != 1 {
			t.Error("the hold is not confirmed")
		}
		// The customer's payment is the act: the business hears of the
		// booking, the customer gets the confirmation.
		kinds := map[string]string{}
		for _, n := range w.notifications(t, appt) {
			kinds[n.Kind] = n.Audience
			if n.Kind == "appointment_created" && payload(t, n)["actor_id"] != eli.p.ID {
				t.Errorf("appointment_created names actor %v, want the customer", payload(t, n)["actor_id"])
			}
			if n.Kind == "appointment_confirmed" && (n.RecipientID == nil || *n.RecipientID != eli.p.ID || payload(t, n)["amount_cents"] != float64(s.AmountCents)) {
				t.Errorf("appointment_confirmed %+v payload %s", n, n.Payload)
			}
		}
		if kinds["appointment_created"] != "business" || kinds["appointment_confirmed"] != "customer" || len(kinds) != 2 {
			t.Errorf("notifications %v, want appointment_created to the business and appointment_confirmed to the customer", kinds)
		}
	})

	t.Run("payment after the hold expired, slot taken meanwhile", func(t *testing.T) {
		tia := w.newCustomer(t, "Tia Taken", "T-1")
		otto := w.newCustomer(t, "Otto Other", "O-1")
		start := w.AtDay(1, 12, 0)
		h := w.holdFor(t, tia, start)
		s := w.session(t, h, "cs_expired_taken")
		w.expireHold(t, h.ID)
		// The other crews are blacked out, and Otto books the hold's crew.
		w.As(t, w.Max.Actor(), func(q *gen.Queries) error {
			for _, c := range w.Crews {
				if c.ID == h.CrewID {
					continue
				}
				id := c.ID
				if _, err := q.BlackoutCreate(ctx, gen.BlackoutCreateParams{BusinessID: w.Biz.ID, CrewID: &id, During: tsRange(start, start.Add(time.Hour))}); err != nil {
					return err
				}
			}
			return nil
		})
		w.Book(t, otto.p, w.Biz.ID, w.Wash.ID, start, otto.vehicle.ID, otto.address.ID)
		before := w.Overlaps(t)
		e := w.event(t, "evt_expired_taken", "cs_expired_taken", "succeeded", s.AmountCents)
		if e.Outcome != "refund_required" || e.AppointmentID != nil {
			t.Errorf("stored %+v, want refund_required", e)
		}
		if _, n := w.appointmentOfHold(t, h.ID); n != 0 {
			t.Errorf("%d appointments from a hold whose slot was taken", n)
		}
		if got := w.refundQueue(t)["cs_expired_taken"]; got != "refund_required" {
			t.Errorf("refund queue has the session as %q", got)
		}
		if n := w.Overlaps(t); n != before {
			t.Errorf("%d overlapping appointments", n)
		}
		// The provider's retry returns the stored event.
		if again := w.event(t, "evt_expired_taken", "cs_expired_taken", "succeeded", s.AmountCents); again.ID != e.ID || again.Outcome != "refund_required" {
			t.Errorf("the retry returned %+v", again)
		}
	})

	t.Run("payment for a released hold", func(t *testing.T) {
		rex := w.newCustomer(t, "Rex Released", "R-1")
		h := w.holdFor(t, rex, w.AtDay(1, 14, 0))
		s := w.session(t, h, "cs_released")
		w.As(t, rex.p.Actor(), func(q *gen.Queries) error { return q.HoldRelease(ctx, h.ID) })
		e := w.event(t, "evt_released", "cs_released", "succeeded", s.AmountCents)
		if _, n := w.appointmentOfHold(t, h.ID); e.Outcome != "refund_required" || n != 0 {
			t.Errorf("stored %+v with %d appointments, want refund_required and none", e, n)
		}
	})

	t.Run("payment for a hold confirmed meanwhile", func(t *testing.T) {
		cody := w.newCustomer(t, "Cody Confirmed", "C-1")
		h := w.holdFor(t, cody, w.AtDay(1, 16, 0))
		s := w.session(t, h, "cs_confirmed")
		var appt gen.Appointment
		w.As(t, cody.p.Actor(), func(q *gen.Queries) error {
			rows, err := q.HoldConfirm(ctx, h.ID)
			if err := one(rows, err); err != nil {
				return err
			}
			appt = rows[0]
			return nil
		})
		e := w.event(t, "evt_confirmed", "cs_confirmed", "succeeded", s.AmountCents)
		if _, n := w.appointmentOfHold(t, h.ID); e.Outcome != "confirmed" || e.AppointmentID == nil || *e.AppointmentID != appt.ID || n != 1 {
			t.Errorf("stored %+v with %d appointments, want confirmed for %s", e, n, appt.ID)
		}
	})

	t.Run("failed, then succeeded", func(t *testing.T) {
		fay := w.newCustomer(t, "Fay Failed", "F-1")
		h := w.holdFor(t, fay, w.AtDay(1, 18, 0))
		s := w.session(t, h, "cs_failed")
		if e := w.event(t, "evt_pending", "cs_failed", "pending", s.AmountCents); e.Outcome != "recorded" {
			t.Errorf("pending event: outcome %s", e.Outcome)
		}
		if e := w.event(t, "evt_early_refund", "cs_failed", "refunded", s.AmountCents); e.Outcome != "ignored" {
			t.Errorf("refund of an unpaid session: outcome %s, want ignored", e.Outcome)
		}
		if e := w.event(t, "evt_failed", "cs_failed", "failed", s.AmountCents); e.Outcome != "failed" || w.sessionByProvider(t, "cs_failed").Status != "failed" {
			t.Errorf("failed event: outcome %s", e.Outcome)
		}
		e := w.event(t, "evt_retry", "cs_failed", "succeeded", s.AmountCents)
		if _, n := w.appointmentOfHold(t, h.ID); e.Outcome != "confirmed" || n != 1 {
			t.Errorf("succeeded after failed: %+v, %d appointments", e, n)
		}
		if e := w.event(t, "evt_late_failure", "cs_failed", "failed", s.AmountCents); e.Outcome != "ignored" || w.sessionByProvider(t, "cs_failed").Status != "succeeded" {
			t.Errorf("a failure after success: outcome %s", e.Outcome)
		}
	})

	t.Run("coupon, then payment of the discounted amount", func(t *testing.T) {
		cora := w.newCustomer(t, "Cora Coupon", "K-1")
		h := w.holdFor(t, cora, w.AtDay(1, 20, 0))
		var r gen.CouponRedemption
		w.As(t, cora.p.Actor(), func(q *gen.Queries) error {
			rows, err := q.CouponRedeem(ctx, gen.CouponRedeemParams{Code: welcomeCode, HoldID: h.ID, IdempotencyKey: "cora-1"})
			if err := one(rows, err); err != nil {
				return err
			}
			r = rows[0]
			return nil
		})
		s := w.session(t, h, "cs_coupon")
		if s.AmountCents != h.PriceCents-r.DiscountCents || r.DiscountCents != h.PriceCents/10 {
			t.Fatalf("session of %d cents for a price of %d with a discount of %d", s.AmountCents, h.PriceCents, r.DiscountCents)
		}
		e := w.event(t, "evt_coupon", "cs_coupon", "succeeded", s.AmountCents)
		if e.Outcome != "confirmed" || e.AppointmentID == nil {
			t.Fatalf("stored %+v", e)
		}
		if n := w.Count(t, `public.appointments where id = $1 and discount_cents = $2 and amount_due_cents = $3`, *e.AppointmentID, r.DiscountCents, s.AmountCents); n != 1 {
			t.Error("the appointment does not carry the coupon's discount")
		}
	})
}

// TestPart2LedgerAppendOnly: no role can change or remove a ledger entry,
// the database owner included, and every write path keeps the balance.
func TestPart2LedgerAppendOnly(t *testing.T) {
	t.Parallel()
	bw := newBillingWorld(t)
	w, ctx := bw.World, bw.Ctx
	c := w.cast()
	appendOnly := fails("42501", "credit_ledger_append_only")
	stmts := []struct{ name, sql string }{
		{"update", `update public.credit_ledger set delta = delta + 100 where customer_id = $1`},
		{"delete", `delete from public.credit_ledger where customer_id = $1`},
		{"update balance", `update public.credit_balances set balance = balance + 100 where customer_id = $1`},
		{"insert", `insert into public.credit_ledger (business_id, customer_id, kind, delta, reason, idempotency_key) select id, $1::uuid, 'grant', 100, 'x', 'x' from public.businesses limit 1`},
	}
	roles := []struct {
		name  string
		actor dbtest.Actor
	}{
		{"service_role", c.Service}, {"service_role as the customer", c.ServiceAsAlice}, {"customer", c.Alice},
		{"owner of the business", c.Olga}, {"platform admin", c.Admin}, {"anon", c.Anon},
	}
	before := w.Snapshot(t)
	for _, st := range stmts {
		t.Run(st.name, func(t *testing.T) {
			for _, r := range roles {
				t.Run(r.name, func(t *testing.T) {
					err := w.DB.As(ctx, r.actor, func(tx pgx.Tx) error {
						_, err := tx.Exec(ctx, st.sql, w.Alice.ID)
						return err
					})
					expect(t, err, denied)
				})
			}
		})
	}
	for _, st := range []struct{ name, sql string }{
		{"update", `update public.credit_ledger set delta = delta + 100 where customer_id = $1`},
		{"delete", `delete from public.credit_ledger where customer_id = $1`},
		{"truncate", `truncate public.credit_ledger`},
	} {
		t.Run("database owner "+st.name, func(t *testing.T) {
			err := w.DB.AsOwner(ctx, func(tx pgx.Tx) error {
				var args []any
				if strings.Contains(st.sql, "$1") {
					args = append(args, w.Alice.ID)
				}
				_, err := tx.Exec(ctx, st.sql, args...)
				return err
			})
			expect(t, err, appendOnly)
		})
	}
	if d := before.Diff(w.Snapshot(t)); len(d) > 0 {
		t.Errorf("refused statements changed %v", d)
	}

	// Manual inserts go through the balance trigger too.
	bal := w.Balance(t, w.Biz.ID, w.Alice.ID)
	insert := func(delta, balanceAfter int32, key string) error {
		return w.DB.AsOwner(ctx, func(tx pgx.Tx) error {
			_, err := tx.Exec(ctx, `insert into public.credit_ledger (business_id, customer_id, kind, delta, balance_after, reason, idempotency_key, created_by_role)
				values ($1, $2, 'grant', $3, $4, 'manual', $5, 'system')`, w.Biz.ID, w.Alice.ID, delta, balanceAfter, key)
			return err
		})
	}
	t.Run("manual entry below zero", func(t *testing.T) {
		expect(t, insert(-(bal+1), 0, "manual-1"), fails("P0001", "insufficient_credits"))
	})
	t.Run("manual entry with a forged balance_after", func(t *testing.T) {
		expect(t, insert(5, 999, "manual-2"), ok)
		if got := w.Balance(t, w.Biz.ID, w.Alice.ID); got != bal+5 {
			t.Errorf("balance %d, want %d", got, bal+5)
		}
		if n := w.Count(t, `public.credit_ledger where idempotency_key = 'manual-2' and balance_after = $1`, bal+5); n != 1 {
			t.Error("balance_after was taken from the insert, not from the balance")
		}
	})
	if n := w.LedgerDrift(t); n != 0 {
		t.Errorf("%d balances or ledger entries disagree", n)
	}
}

// auditRow is what the audit log says happened.
type auditRow struct {
	table, op, actor, role string
	business               string
}

// TestPart2AuditLog: the audit log records who did what on the money,
// booking, membership, member and settings tables; only platform admins
// and the server read it, nobody changes it; a row for a month without a
// partition lands in the default partition.
func TestPart2AuditLog(t *testing.T) {
	t.Parallel()
	bw := newBillingWorld(t)
	w, ctx := bw.World, bw.Ctx
	var since time.Time
	w.Owner(t, func(tx pgx.Tx) error { return tx.QueryRow(ctx, `select now()`).Scan(&since) })

	w.As(t, w.Sam.Actor(), func(q *gen.Queries) error {
		return one(q.AppointmentSetStatus(ctx, gen.AppointmentSetStatusParams{AppointmentID: w.BobAppt.ID, Status: "in_progress"}))
	})
	paid := w.event(t, "evt_audit", bobSessionID, "succeeded", bw.BobSession.AmountCents)
	w.As(t, w.Olga.Actor(), func(q *gen.Queries) error {
		return one(q.CreditsGrant(ctx, gen.CreditsGrantParams{BusinessID: w.Biz.ID, CustomerID: w.Bob.ID, Amount: 3, Reason: "sorry for the wait", IdempotencyKey: "audit-1"}))
	})
	w.As(t, service(), func(q *gen.Queries) error {
		return one(q.MembershipActivate(ctx, gen.MembershipActivateParams{CustomerID: w.Bob.ID, PlanID: bw.Plan.ID, PeriodStart: pgDate(monthStart())}))
	})
	w.As(t, w.Alice.Actor(), func(q *gen.Queries) error { return one(q.MembershipCancel(ctx, bw.AliceMembership.ID)) })
	w.As(t, w.Olga.Actor(), func(q *gen.Queries) error {
		if err := one(q.MemberSetRole(ctx, gen.MemberSetRoleParams{BusinessID: w.Biz.ID, UserID: w.Sam.ID, Role: "manager"})); err != nil {
			return err
		}
		v := int32(30)
		return one(q.SettingsSet(ctx, gen.SettingsSetParams{BusinessID: w.Biz.ID, Key: "hold_minutes", Value: &v}))
	})

	// Read back through the binding, as a platform admin.
	tables := []string{"appointments", "payment_sessions", "payment_events", "credit_ledger", "memberships", "business_members", "business_settings"}
	got := map[auditRow]int{}
	var rows []gen.AuditLog
	w.As(t, w.Admin.Actor(), func(q *gen.Queries) error {
		for _, table := range tables {
			rs, err := q.AuditLogList(ctx, gen.AuditLogListParams{TableName: table, Since: since})
			if err != nil {
				return err
			}
			rows = append(rows, rs...)
		}
		return nil
	})
	str := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	for _, r := range rows {
		got[auditRow{r.TableName, r.Operation, str(r.ActorID), str(r.ActorRole), str(r.BusinessID)}]++
		if (r.Operation == "UPDATE") != (r.OldRow != nil && r.NewRow != nil) || (r.Operation == "INSERT") != (r.OldRow == nil) {
			t.Errorf("%s %s: old_row %s, new_row %s", r.TableName, r.Operation, r.OldRow, r.NewRow)
		}
	}
	biz := w.Biz.ID
	for _, want := range []auditRow{
		{"appointments", "UPDATE", w.Sam.ID, "authenticated", biz},       // status in_progress
		{"appointments", "INSERT", "", "service_role", biz},              // the paid hold
		{"payment_sessions", "UPDATE", "", "service_role", biz},          // succeeded
		{"payment_events", "INSERT", "", "service_role", biz},            // the webhook
		{"credit_ledger", "INSERT", w.Olga.ID, "authenticated", biz},     // the grant
		{"credit_ledger", "INSERT", "", "service_role", biz},             // the membership's credits
		{"memberships", "INSERT", "", "service_role", biz},               // Bob's membership
		{"memberships", "UPDATE", w.Alice.ID, "authenticated", biz},      // Alice cancels
		{"business_members", "UPDATE", w.Olga.ID, "authenticated", biz},  // Sam promoted
		{"business_settings", "UPDATE", w.Olga.ID, "authenticated", biz}, // hold_minutes
	} {
		if got[want] == 0 {
			t.Errorf("no audit row %+v; the log has %v", want, got)
		}
	}
	if len(got) == 0 || paid.Outcome != "confirmed" {
		t.Fatalf("nothing to check: %d audit rows, payment %s", len(rows), paid.Outcome)
	}

	t.Run("readers", func(t *testing.T) {
		total := w.Count(t, `public.audit_log`)
		for _, r := range []struct {
			name  string
			actor dbtest.Actor
			want  int
		}{
			{"platform admin", w.Admin.Actor(), total},
			{"service_role", service(), total},
			{"owner of the business (audit.read): its rows", w.Olga.Actor(), w.Count(t, `public.audit_log where business_id = $1`, w.Biz.ID)},
			{"owner of another business: its rows", w.Nora.Actor(), w.Count(t, `public.audit_log where business_id = $1`, w.Biz2.ID)},
			{"staff", w.Sam.Actor(), 0},
			{"customer", w.Alice.Actor(), 0},
		} {
			var n int
			err := w.DB.As(ctx, r.actor, func(tx pgx.Tx) error {
				return tx.QueryRow(ctx, `select count(*) from public.audit_log`).Scan(&n)
			})
			if err != nil || n != r.want {
				t.Errorf("%s reads %d audit rows (%s), want %d", r.name, n, describe(err), r.want)
			}
		}
		err := w.DB.As(ctx, dbtest.Anon(), func(tx pgx.Tx) error {
			_, err := tx.Exec(ctx, `select count(*) from public.audit_log`)
			return err
		})
		expect(t, err, denied)
	})

	var month string
	w.Owner(t, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `select 'private.audit_log_p' || to_char(now() at time zone 'UTC', 'YYYYMM')`).Scan(&month)
	})
	t.Run("nobody changes it", func(t *testing.T) {
		before := w.Snapshot(t)
		for _, actor := range []dbtest.Actor{service(), w.Admin.Actor(), w.Olga.Actor()} {
			for _, sql := range []string{`update public.audit_log set actor_id = null`, `delete from public.audit_log`} {
				err := w.DB.As(ctx, actor, func(tx pgx.Tx) error { _, err := tx.Exec(ctx, sql); return err })
				if pe := describe(err); !strings.HasPrefix(pe, "42501 []") {
					t.Errorf("%s as %s: %s, want 42501 without a rule (no privilege)", sql, actor.Role, pe)
				}
			}
		}
		for _, sql := range []string{
			`update public.audit_log set actor_id = null`,
			`delete from public.audit_log`,
			`truncate public.audit_log`,
			`delete from ` + month,
			`update ` + month + ` set actor_role = 'nobody'`,
			`truncate ` + month,
			`truncate private.audit_log_default`,
		} {
			err := w.DB.AsOwner(ctx, func(tx pgx.Tx) error { _, err := tx.Exec(ctx, sql); return err })
			if pe := describe(err); !strings.HasPrefix(pe, "42501 [audit_log_append_only]") {
				t.Errorf("%s as the database owner: %s, want 42501 audit_log_append_only", sql, pe)
			}
		}
		if d := before.Diff(w.Snapshot(t)); len(d) > 0 {
			t.Errorf("refused statements changed %v", d)
		}
	})

	t.Run("a month without a partition", func(t *testing.T) {
		partitionOf := func(where string, args ...any) string {
			var p string
			w.Owner(t, func(tx pgx.Tx) error {
				return tx.QueryRow(ctx, `select tableoid::regclass::text from public.audit_log where `+where+` order by id desc limit 1`, args...).Scan(&p)
			})
			return p
		}
		// A row dated in a month that never had a partition.
		w.Owner(t, func(tx pgx.Tx) error {
			_, err := tx.Exec(ctx, `insert into public.audit_log (created_at, table_name, operation, new_row) values ('2001-02-03 04:05:06+00', 'appointments', 'INSERT', '{}')`)
			return err
		})
		if p := partitionOf(`created_at = '2001-02-03 04:05:06+00'`); p != "private.audit_log_default" {
			t.Errorf("a 2001 row landed in %s", p)
		}
		// This month's partition gone: an audited action still succeeds and
		// its row lands in the default partition, where it stays.
		w.Owner(t, func(tx pgx.Tx) error { _, err := tx.Exec(ctx, `drop table `+month); return err })
		v := int32(45)
		w.As(t, w.Olga.Actor(), func(q *gen.Queries) error {
			return one(q.SettingsSet(ctx, gen.SettingsSetParams{BusinessID: w.Biz.ID, Key: "hold_minutes", Value: &v}))
		})
		if p := partitionOf(`table_name = 'business_settings' and new_row ->> 'value' = '45'`); p != "private.audit_log_default" {
			t.Errorf("the settings change was audited in %q, want private.audit_log_default", p)
		}
		w.As(t, service(), func(q *gen.Queries) error {
			n, err := q.AuditPartitionsEnsure(ctx, 0)
			if err == nil && n != 0 {
				err = fmt.Errorf("audit_partitions_ensure created %d partitions for a month whose rows sit in the default partition", n)
			}
			return err
		})
		if p := partitionOf(`table_name = 'business_settings' and new_row ->> 'value' = '45'`); p != "private.audit_log_default" {
			t.Errorf("after audit_partitions_ensure the row is in %q", p)
		}
	})
}

// TestPart2NotificationTriggers: appointment changes and messages queue a
// notification for the other party: the business when the customer acts,
// the customer when anyone else does.
func TestPart2NotificationTriggers(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := w.Ctx
	cleo := w.newCustomer(t, "Cleo Customer", "CL-1")
	first := w.Book(t, cleo.p, w.Biz.ID, w.Wash.ID, w.AtDay(1, 9, 0), cleo.vehicle.ID, cleo.address.ID)
	second := w.Book(t, cleo.p, w.Biz.ID, w.Wash.ID, w.AtDay(1, 13, 0), cleo.vehicle.ID, cleo.address.ID)
	third := w.Book(t, cleo.p, w.Biz.ID, w.Wash.ID, w.AtDay(1, 17, 0), cleo.vehicle.ID, cleo.address.ID)
	w.As(t, w.Sam.Actor(), func(q *gen.Queries) error {
		return one(q.AppointmentReschedule(ctx, gen.AppointmentRescheduleParams{AppointmentID: first.ID, NewStart: w.AtDay(1, 10, 0)}))
	})
	w.As(t, cleo.p.Actor(), func(q *gen.Queries) error {
		return one(q.AppointmentReschedule(ctx, gen.AppointmentRescheduleParams{AppointmentID: first.ID, NewStart: w.AtDay(1, 11, 0)}))
	})
	w.post(t, cleo.p, first.ID, "The gate is open. "+strings.Repeat("x", 200))
	w.post(t, w.Sam, first.ID, "Thanks, see you.")
	w.As(t, cleo.p.Actor(), func(q *gen.Queries) error {
		return one(q.AppointmentCancel(ctx, gen.AppointmentCancelParams{AppointmentID: first.ID, Reason: ptr("car sold")}))
	})
	w.As(t, w.Sam.Actor(), func(q *gen.Queries) error {
		return one(q.AppointmentSetStatus(ctx, gen.AppointmentSetStatusParams{AppointmentID: second.ID, Status: "in_progress"}))
	})
	w.As(t, w.Olga.Actor(), func(q *gen.Queries) error {
		return one(q.AppointmentCancel(ctx, gen.AppointmentCancelParams{AppointmentID: third.ID, Reason: ptr("crew ill")}))
	})

	type note struct{ kind, audience string }
	customer, business := "customer", "business"
	for _, tc := range []struct {
		appt gen.Appointment
		want []note
	}{
		{first, []note{{"appointment_created", business}, {"appointment_rescheduled", customer}, {"appointment_rescheduled", business},
			{"appointment_message", business}, {"appointment_message", customer}, {"appointment_cancelled", business}}},
		{second, []note{{"appointment_created", business}, {"appointment_status_changed", customer}}},
		{third, []note{{"appointment_created", business}, {"appointment_cancelled", customer}}},
	} {
		ns := w.notifications(t, tc.appt.ID)
		var got []note
		for _, n := range ns {
			got = append(got, note{n.Kind, n.Audience})
			p := payload(t, n)
			switch n.Audience {
			case customer:
				if n.RecipientID == nil || *n.RecipientID != cleo.p.ID {
					t.Errorf("%s to the customer has recipient %v", n.Kind, n.RecipientID)
				}
				if _, leaks := p["actor_id"]; leaks {
					t.Errorf("%s to the customer names the staff member: %s", n.Kind, n.Payload)
				}
			case business:
				if n.RecipientID != nil {
					t.Errorf("%s to the business has recipient %v", n.Kind, *n.RecipientID)
				}
				if n.Kind != "appointment_message" && p["actor_id"] != cleo.p.ID {
					t.Errorf("%s to the business: actor_id %v, want the customer", n.Kind, p["actor_id"])
				}
			}
			if n.Status != "pending" || n.BusinessID != w.Biz.ID || n.CustomerID != cleo.p.ID {
				t.Errorf("notification %+v", n)
			}
			switch n.Kind {
			case "appointment_rescheduled":
				if p["from_starts_at"] == nil || p["starts_at"] == nil {
					t.Errorf("reschedule payload %s", n.Payload)
				}
			case "appointment_status_changed":
				if p["from_status"] != "confirmed" || p["status"] != "in_progress" {
					t.Errorf("status payload %s", n.Payload)
				}
			case "appointment_cancelled":
				if p["cancel_reason"] == nil {
					t.Errorf("cancel payload %s", n.Payload)
				}
			case "appointment_message":
				if preview, _ := p["preview"].(string); preview == "" || len([]rune(preview)) > 140 {
					t.Errorf("message preview %q", preview)
				}
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("appointment at %v: notifications %v, want %v", tc.appt.Slot.Lower.Time, got, tc.want)
		}
	}

	// Who reads them: the customer their own, members the business's.
	count := func(actor dbtest.Actor) int {
		n := 0
		w.As(t, actor, func(q *gen.Queries) error {
			ns, err := q.NotificationList(ctx, first.ID)
			n = len(ns)
			return err
		})
		return n
	}
	if c, s, b, st := count(cleo.p.Actor()), count(w.Sam.Actor()), count(w.Bob.Actor()), count(w.Stan.Actor()); c != 2 || s != 4 || b != 0 || st != 0 {
		t.Errorf("the first appointment's notifications: customer reads %d, staff %d, another customer %d, other tenant %d (want 2, 4, 0, 0)", c, s, b, st)
	}
}

// TestPart2NotificationDelivery: a failed delivery comes back after a
// backoff and ends as failed after max_attempts; errors are kept short.
func TestPart2NotificationDelivery(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := w.Ctx
	claim := func() []gen.Notification {
		var ns []gen.Notification
		w.As(t, service(), func(q *gen.Queries) error {
			var err error
			ns, err = q.NotificationsClaim(ctx, w.DaveAppt.ID)
			return err
		})
		return ns
	}
	queued := w.notifications(t, w.DaveAppt.ID)
	if len(queued) == 0 {
		t.Fatal("Dave's appointment has no notification")
	}
	target := queued[0].ID
	for attempt := int32(1); attempt <= 5; attempt++ {
		claimed := claim()
		var n *gen.Notification
		for i := range claimed {
			if claimed[i].ID == target {
				n = &claimed[i]
			}
		}
		if n == nil || n.Attempts != attempt {
			t.Fatalf("attempt %d: the notification was not claimed (%d rows)", attempt, len(claimed))
		}
		w.As(t, service(), func(q *gen.Queries) error {
			return q.NotificationMark(ctx, gen.NotificationMarkParams{NotificationID: target, Delivered: false, Error: ptr(strings.Repeat("z", 3000))})
		})
		var status string
		var lastError, wait int
		w.Owner(t, func(tx pgx.Tx) error {
			return tx.QueryRow(ctx, `select status, char_length(last_error), round(extract(epoch from next_attempt_at - now()) / 60)::int from public.notifications where id = $1`,
				target).Scan(&status, &lastError, &wait)
		})
		if attempt < 5 && (status != "pending" || wait != 1<<attempt) {
			t.Errorf("after failed attempt %d: %s, next attempt in %d minutes, want pending in %d", attempt, status, wait, 1<<attempt)
		}
		if attempt == 5 && status != "failed" {
			t.Errorf("after the last attempt: %s, want failed", status)
		}
		if lastError != 1000 {
			t.Errorf("last_error kept %d characters, want 1000", lastError)
		}
		// Not due yet: nothing to claim until the backoff has passed.
		for _, again := range claim() {
			if again.ID == target {
				t.Errorf("attempt %d: claimed again before its backoff", attempt)
			}
		}
		w.Owner(t, func(tx pgx.Tx) error {
			_, err := tx.Exec(ctx, `update public.notifications set next_attempt_at = now() - interval '1 second' where id = $1`, target)
			return err
		})
	}
	for _, again := range claim() {
		if again.ID == target {
			t.Error("a failed notification was claimed again")
		}
	}
}

// TestPart2VerificationCodes: a wrong guess is counted and committed, and
// only the newest code of an (email, purpose) counts.
func TestPart2VerificationCodes(t *testing.T) {
	t.Parallel()
	bw := newBillingWorld(t)
	w, ctx := bw.World, bw.Ctx
	consume := func(code string) bool {
		var okay bool
		w.As(t, service(), func(q *gen.Queries) error {
			var err error
			okay, err = q.VerificationCodeConsume(ctx, gen.VerificationCodeConsumeParams{Email: bw.VeraEmail, Purpose: "sign_in", Code: code})
			return err
		})
		return okay
	}
	if consume(wrongCode(bw.VeraCode)) {
		t.Fatal("a wrong code verified")
	}
	if n := w.Count(t, `public.verification_codes where email = $1 and attempts = 1 and consumed_at is null`, bw.VeraEmail); n != 1 {
		t.Error("the wrong guess was not counted")
	}
	// A new code (a minute later) replaces the old one.
	w.Owner(t, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `update public.verification_codes set created_at = created_at - interval '2 minutes', expires_at = expires_at - interval '2 minutes' where email = $1`, bw.VeraEmail)
		return err
	})
	var fresh string
	w.As(t, service(), func(q *gen.Queries) error {
		var err error
		fresh, err = q.VerificationCodeIssue(ctx, gen.VerificationCodeIssueParams{Email: bw.VeraEmail, Purpose: "sign_in"})
		return err
	})
	if fresh != bw.VeraCode && consume(bw.VeraCode) {
		t.Error("the replaced code still verifies")
	}
	if !consume(fresh) {
		t.Error("the newest code does not verify")
	}
	if n := w.Count(t, `public.verification_codes where email = $1 and consumed_at is not null`, bw.VeraEmail); n != 1 {
		t.Errorf("%d codes consumed, want 1", n)
	}
	// Codes are stored as HMACs: the code itself is nowhere in the table.
	if n := w.Count(t, `public.verification_codes v where position(convert_to($1, 'UTF8') in v.code_hmac) > 0 or octet_length(v.code_hmac) <> 32`, fresh); n != 0 {
		t.Error("the code is stored in clear")
	}
}

// TestPart2MembershipPeriods: a period's credits are granted once per
// (business, customer, period), renewals only move forward, and a
// cancelled membership keeps its credits.
func TestPart2MembershipPeriods(t *testing.T) {
	t.Parallel()
	bw := newBillingWorld(t)
	w, ctx := bw.World, bw.Ctx
	this := monthStart()
	next := this.AddDate(0, 1, 0)
	activate := func(period time.Time) gen.Membership {
		var m gen.Membership
		w.As(t, service(), func(q *gen.Queries) error {
			rows, err := q.MembershipActivate(ctx, gen.MembershipActivateParams{CustomerID: w.Bob.ID, PlanID: bw.Plan.ID, PeriodStart: pgDate(period)})
			if err := one(rows, err); err != nil {
				return err
			}
			m = rows[0]
			return nil
		})
		return m
	}
	balance := func() int32 { return w.Balance(t, w.Biz.ID, w.Bob.ID) }
	first := activate(this)
	if balance() != periodCredits {
		t.Fatalf("balance %d after the first period, want %d", balance(), periodCredits)
	}
	if again := activate(this); again.ID != first.ID || balance() != periodCredits {
		t.Errorf("a replay: membership %s, balance %d", again.ID, balance())
	}
	renewed := activate(next)
	if renewed.ID != first.ID || !renewed.CurrentPeriodStart.Time.Equal(next) || balance() != 2*periodCredits {
		t.Errorf("renewal: %+v, balance %d", renewed, balance())
	}
	if late := activate(this); !late.CurrentPeriodStart.Time.Equal(next) || balance() != 2*periodCredits {
		t.Errorf("a late event for the previous period moved the membership to %v (balance %d)", late.CurrentPeriodStart.Time, balance())
	}
	w.As(t, w.Bob.Actor(), func(q *gen.Queries) error { return one(q.MembershipCancel(ctx, first.ID)) })
	if balance() != 2*periodCredits {
		t.Errorf("cancelling took credits: balance %d", balance())
	}
	// Reactivated in the same period: a new membership, no second grant.
	if again := activate(next); again.ID == first.ID || again.Status != "active" || balance() != 2*periodCredits {
		t.Errorf("reactivation: %+v, balance %d", again, balance())
	}
	if n := w.Count(t, `public.memberships where customer_id = $1 and status = 'active'`, w.Bob.ID); n != 1 {
		t.Errorf("%d active memberships", n)
	}
	if n := w.LedgerDrift(t); n != 0 {
		t.Errorf("%d balances or ledger entries disagree", n)
	}
}

// TestPart2StatsView: the statistics' materialized view is closed to every
// API role; business_stats serves it to billing.view, as fresh as the
// last refresh.
func TestPart2StatsView(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := w.Ctx
	for _, actor := range []dbtest.Actor{dbtest.Anon(), w.Olga.Actor(), w.Admin.Actor(), service()} {
		err := w.DB.As(ctx, actor, func(tx pgx.Tx) error {
			_, err := tx.Exec(ctx, `select * from private.business_stats_daily`)
			return err
		})
		if describe(err) == "success" || !strings.HasPrefix(describe(err), "42501") {
			t.Errorf("%s reads private.business_stats_daily: %s, want 42501", actor.Role, describe(err))
		}
	}
	day := func(actor dbtest.Actor) (gen.BusinessStatsRow, error) {
		var row gen.BusinessStatsRow
		err := w.DB.As(ctx, readOnly(actor), func(tx pgx.Tx) error {
			rows, err := gen.New(tx).BusinessStats(ctx, gen.BusinessStatsParams{BusinessID: w.Biz.ID, FromDay: pgDate(w.Day), ToDay: pgDate(w.Day)})
			if err := one(rows, err); err != nil {
				return err
			}
			row = rows[0]
			return nil
		})
		return row, err
	}
	refresh := func() {
		w.As(t, service(), func(q *gen.Queries) error { return q.BusinessStatsRefresh(ctx) })
	}
	revenue := func() int64 {
		var n int64
		w.Owner(t, func(tx pgx.Tx) error {
			return tx.QueryRow(ctx, `select coalesce(sum(amount_due_cents), 0) from public.appointments
				where business_id = $1 and status <> 'cancelled' and (lower(slot) at time zone $2)::date = $3`, w.Biz.ID, tz1, pgDate(w.Day)).Scan(&n)
		})
		return n
	}
	stale, err := day(w.Max.Actor())
	if err != nil || stale.Bookings != 0 {
		t.Errorf("before any refresh: %+v (%s), want no bookings (the view was built empty)", stale, describe(err))
	}
	refresh()
	got, err := day(w.Max.Actor())
	if err != nil || got.Bookings != 2 || got.Cancellations != 0 || got.RevenueCents != revenue() {
		t.Errorf("after a refresh: %+v (%s), want 2 bookings, %d cents", got, describe(err), revenue())
	}
	w.As(t, w.Olga.Actor(), func(q *gen.Queries) error {
		return one(q.AppointmentCancel(ctx, gen.AppointmentCancelParams{AppointmentID: w.BobAppt.ID}))
	})
	if got, _ := day(w.Olga.Actor()); got.Bookings != 2 {
		t.Errorf("the cancellation shows before the refresh: %+v", got)
	}
	refresh()
	if got, err := day(w.Olga.Actor()); err != nil || got.Bookings != 1 || got.Cancellations != 1 || got.RevenueCents != revenue() {
		t.Errorf("after the cancellation: %+v (%s), want 1 booking, 1 cancellation, %d cents", got, describe(err), revenue())
	}
	_, err = day(w.Sam.Actor())
	expect(t, err, fails("42501", "permission_required"))
	// Business 2's owner reads her own business, not business 1.
	if _, err := day(w.Nora.Actor()); err == nil {
		t.Error("the owner of another business read business 1's statistics")
	}
	err = w.DB.As(ctx, readOnly(w.Nora.Actor()), func(tx pgx.Tx) error {
		rows, err := gen.New(tx).BusinessStats(ctx, gen.BusinessStatsParams{BusinessID: w.Biz2.ID, FromDay: pgDate(w.Day2), ToDay: pgDate(w.Day2)})
		if err == nil && (len(rows) != 1 || rows[0].Bookings != 1) {
			err = fmt.Errorf("business 2: %+v", rows)
		}
		return err
	})
	expect(t, err, ok)
}
