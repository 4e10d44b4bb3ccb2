package tests

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dbtool-dev/dbtool/dbtest"
	"github.com/dbtool-dev/dbtool/gen"
)

// billingCase is one role calling one part II procedure. lacking names a
// permission the member role is stripped of for the call (tryLacking).
type billingCase struct {
	role    string
	actor   dbtest.Actor
	want    Want
	lacking string
}

// TestPart2ProcedureRoles calls every part II procedure with one body per
// procedure across the roles. A call expected to succeed runs in a request
// that is rolled back (every role meets the same world); a call expected
// to be refused runs in a request that commits if the call returns, so a
// refusal that wrote anything (or a wrongly accepted call) shows in the
// snapshot of every table taken before and after.
func TestPart2ProcedureRoles(t *testing.T) {
	t.Parallel()
	bw := newBillingWorld(t)
	w, ctx := bw.World, bw.Ctx
	c := w.cast()
	bobAsService := serviceAs(w.Bob)
	owner := func(a dbtest.Actor) billingCase { return billingCase{"owner", a, ok, ""} }

	// Reminders for every confirmed appointment starting within the window.
	windowStart := time.Now().Truncate(time.Second)
	windowEnd := windowStart.Add(7 * 24 * time.Hour)
	reminders := w.Count(t, `public.appointments where status = 'confirmed' and lower(slot) >= $1 and lower(slot) < $2`, windowStart, windowEnd)
	if reminders == 0 {
		t.Fatal("the fixture has no appointment to remind of")
	}
	sixDigits := regexp.MustCompile(`^[0-9]{6}$`)

	procs := []struct {
		name   string
		body   func(q *gen.Queries) error
		serial bool // cases that would skip each other's locked rows run one at a time
		cases  []billingCase
	}{
		{
			name: "credits_grant",
			body: func(q *gen.Queries) error {
				rows, err := q.CreditsGrant(ctx, gen.CreditsGrantParams{BusinessID: w.Biz.ID, CustomerID: w.Alice.ID, Amount: 5,
					Reason: "goodwill", IdempotencyKey: "roles-grant"})
				if err := one(rows, err); err != nil {
					return err
				}
				if e := rows[0]; e.Kind != "grant" || e.Delta != 5 || e.BalanceAfter != bw.AliceCredits+5 {
					return fmt.Errorf("credits_grant wrote %+v", e)
				}
				return nil
			},
			cases: []billingCase{
				owner(c.Olga),
				{"manager without credits.manage", c.Max, fails("42501", "permission_required"), ""},
				{"staff without credits.manage", c.Sam, fails("42501", "permission_required"), ""},
				{"the customer herself", c.Alice, fails("42501", "permission_required"), ""},
				{"another customer", c.Bob, fails("42501", "permission_required"), ""},
				{"owner of another business", c.Nora, fails("42501", "permission_required"), ""},
				{"staff of another business", c.Stan, fails("42501", "permission_required"), ""},
				{"platform admin", c.Admin, fails("42501", "permission_required"), ""},
				{"anon", c.Anon, denied, ""},
				{"service_role", c.Service, ok, ""},
				{"service_role as the customer", c.ServiceAsAlice, ok, ""},
			},
		},
		{
			name: "credits_redeem",
			body: func(q *gen.Queries) error {
				rows, err := q.CreditsRedeem(ctx, gen.CreditsRedeemParams{AppointmentID: w.AliceAppt.ID, Amount: 2, IdempotencyKey: "roles-redeem"})
				if err := one(rows, err); err != nil {
					return err
				}
				e := rows[0]
				if e.Kind != "redeem" || e.Delta != -2 || e.BalanceAfter != bw.AliceCredits-2 || e.AppointmentID == nil || *e.AppointmentID != w.AliceAppt.ID {
					return fmt.Errorf("credits_redeem wrote %+v", e)
				}
				return nil
			},
			cases: []billingCase{
				{"customer (owns the appointment)", c.Alice, ok, ""},
				{"service_role as the customer", c.ServiceAsAlice, ok, ""},
				{"another customer", c.Bob, fails("PT404", "appointment_not_found"), ""},
				{"owner of the business", c.Olga, fails("42501", "appointment_customer_required"), ""},
				{"staff", c.Sam, fails("42501", "appointment_customer_required"), ""},
				{"owner of another business", c.Nora, fails("PT404", "appointment_not_found"), ""},
				{"staff of another business", c.Stan, fails("PT404", "appointment_not_found"), ""},
				{"platform admin", c.Admin, fails("42501", "appointment_customer_required"), ""},
				{"anon", c.Anon, denied, ""},
				{"service_role without sub", c.Service, fails("42501", "not_authenticated"), ""},
			},
		},
		{
			name: "membership_activate",
			body: func(q *gen.Queries) error {
				rows, err := q.MembershipActivate(ctx, gen.MembershipActivateParams{CustomerID: w.Bob.ID, PlanID: bw.Plan.ID, PeriodStart: pgDate(monthStart())})
				if err := one(rows, err); err != nil {
					return err
				}
				if m := rows[0]; m.CustomerID != w.Bob.ID || m.Status != "active" || m.PlanID != bw.Plan.ID {
					return fmt.Errorf("membership_activate wrote %+v", m)
				}
				return nil
			},
			cases: []billingCase{
				{"service_role", c.Service, ok, ""},
				{"service_role as the customer", bobAsService, ok, ""},
				{"the customer", c.Bob, denied, ""},
				{"owner", c.Olga, denied, ""},
				{"manager", c.Max, denied, ""},
				{"staff", c.Sam, denied, ""},
				{"another customer", c.Alice, denied, ""},
				{"staff of another business", c.Stan, denied, ""},
				{"platform admin", c.Admin, denied, ""},
				{"anon", c.Anon, denied, ""},
			},
		},
		{
			name: "membership_cancel",
			body: func(q *gen.Queries) error {
				rows, err := q.MembershipCancel(ctx, bw.AliceMembership.ID)
				if err := one(rows, err); err != nil {
					return err
				}
				// The customer's own id when they cancel; an owner is "staff", never an id.
				if m := rows[0]; m.Status != "cancelled" || m.CancelledAt == nil || m.CancelledByRole == nil ||
					(*m.CancelledByRole == "customer") != (m.CancelledBy != nil && *m.CancelledBy == m.CustomerID) {
					return fmt.Errorf("membership_cancel wrote %+v", m)
				}
				return nil
			},
			cases: []billingCase{
				{"customer (owns the membership)", c.Alice, ok, ""},
				{"service_role as the customer", c.ServiceAsAlice, ok, ""},
				owner(c.Olga),
				{"manager", c.Max, fails("42501", "owner_required"), ""},
				{"staff", c.Sam, fails("42501", "owner_required"), ""},
				{"another customer", c.Bob, fails("PT404", "membership_not_found"), ""},
				{"owner of another business", c.Nora, fails("PT404", "membership_not_found"), ""},
				{"staff of another business", c.Stan, fails("PT404", "membership_not_found"), ""},
				{"platform admin", c.Admin, fails("42501", "owner_required"), ""},
				{"anon", c.Anon, denied, ""},
				{"service_role without sub", c.Service, fails("42501", "not_authenticated"), ""},
			},
		},
		{
			name: "coupon_redeem",
			body: func(q *gen.Queries) error {
				rows, err := q.CouponRedeem(ctx, gen.CouponRedeemParams{Code: "welcome10", HoldID: w.AliceHold.ID, IdempotencyKey: "roles-coupon"})
				if err := one(rows, err); err != nil {
					return err
				}
				if r := rows[0]; r.Code != welcomeCode || r.AmountBeforeCents != w.AliceHold.PriceCents || r.DiscountCents != w.AliceHold.PriceCents/10 {
					return fmt.Errorf("coupon_redeem wrote %+v for a hold of %d cents", r, w.AliceHold.PriceCents)
				}
				return nil
			},
			cases: []billingCase{
				{"customer (owns the hold)", c.Alice, ok, ""},
				{"service_role as the customer", c.ServiceAsAlice, ok, ""},
				{"another customer", c.Bob, fails("PT404", "hold_not_found"), ""},
				{"owner of the business", c.Olga, fails("42501", "hold_owner_required"), ""},
				{"staff", c.Sam, fails("42501", "hold_owner_required"), ""},
				{"owner of another business", c.Nora, fails("PT404", "hold_not_found"), ""},
				{"staff of another business", c.Stan, fails("PT404", "hold_not_found"), ""},
				{"platform admin", c.Admin, fails("42501", "hold_owner_required"), ""},
				{"anon", c.Anon, denied, ""},
				{"service_role without sub", c.Service, fails("42501", "not_authenticated"), ""},
			},
		},
		{
			name: "payment_session_record",
			body: func(q *gen.Queries) error {
				rows, err := q.PaymentSessionRecord(ctx, gen.PaymentSessionRecordParams{HoldID: w.AliceHold.ID, ProviderSessionID: "cs_roles"})
				if err := one(rows, err); err != nil {
					return err
				}
				if s := rows[0]; s.AmountCents != w.AliceHold.AmountDueCents || s.Currency != w.Biz.Currency || s.Status != "pending" || s.CustomerID != w.Alice.ID {
					return fmt.Errorf("payment_session_record wrote %+v", s)
				}
				return nil
			},
			cases: []billingCase{
				{"service_role", c.Service, ok, ""},
				{"service_role as the customer", c.ServiceAsAlice, ok, ""},
				{"customer (owns the hold)", c.Alice, denied, ""},
				{"owner", c.Olga, denied, ""},
				{"manager (billing.view)", c.Max, denied, ""},
				{"staff", c.Sam, denied, ""},
				{"another customer", c.Bob, denied, ""},
				{"staff of another business", c.Stan, denied, ""},
				{"platform admin", c.Admin, denied, ""},
				{"anon", c.Anon, denied, ""},
			},
		},
		{
			name: "payment_event_record",
			body: func(q *gen.Queries) error {
				rows, err := q.PaymentEventRecord(ctx, gen.PaymentEventRecordParams{ProviderEventID: "evt_roles", ProviderSessionID: bobSessionID,
					Status: "succeeded", AmountCents: bw.BobSession.AmountCents})
				if err := one(rows, err); err != nil {
					return err
				}
				if e := rows[0]; e.Outcome != "confirmed" || e.AppointmentID == nil || e.CustomerID != w.Bob.ID || e.ExpectedAmountCents != bw.BobSession.AmountCents {
					return fmt.Errorf("payment_event_record stored %+v", e)
				}
				return nil
			},
			cases: []billingCase{
				{"service_role", c.Service, ok, ""},
				{"service_role as the customer", bobAsService, ok, ""},
				{"the paying customer", c.Bob, denied, ""},
				{"owner", c.Olga, denied, ""},
				{"manager (billing.view)", c.Max, denied, ""},
				{"staff", c.Sam, denied, ""},
				{"staff of another business", c.Stan, denied, ""},
				{"platform admin", c.Admin, denied, ""},
				{"anon", c.Anon, denied, ""},
			},
		},
		{
			name:   "notifications_claim",
			serial: true,
			body: func(q *gen.Queries) error {
				rows, err := q.NotificationsClaim(ctx, w.AliceAppt.ID)
				if err != nil {
					return err
				}
				if len(rows) == 0 {
					return errors.New("claimed nothing")
				}
				for _, n := range rows {
					if n.Status != "sending" || n.Attempts != 1 || n.ClaimedAt == nil || n.AppointmentID != w.AliceAppt.ID {
						return fmt.Errorf("claimed %+v", n)
					}
				}
				return nil
			},
			cases: []billingCase{
				{"customer (the recipient)", c.Alice, ok, ""},
				owner(c.Olga),
				{"manager", c.Max, ok, ""},
				{"staff", c.Sam, ok, ""},
				{"service_role", c.Service, ok, ""},
				{"service_role as the customer", c.ServiceAsAlice, ok, ""},
				{"another customer", c.Bob, fails("PT404", "appointment_not_found"), ""},
				{"owner of another business", c.Nora, fails("PT404", "appointment_not_found"), ""},
				{"staff of another business", c.Stan, fails("PT404", "appointment_not_found"), ""},
				{"platform admin", c.Admin, fails("42501", "permission_required"), ""},
				{"anon", c.Anon, denied, ""},
			},
		},
		{
			name: "notification_mark",
			body: func(q *gen.Queries) error {
				if err := q.NotificationMark(ctx, gen.NotificationMarkParams{NotificationID: bw.Sending.ID, Delivered: true}); err != nil {
					return err
				}
				ns, err := q.NotificationList(ctx, bw.Sending.AppointmentID)
				if err != nil {
					return err
				}
				for _, n := range ns {
					if n.ID == bw.Sending.ID && n.Status == "sent" && n.SentAt != nil {
						return nil
					}
				}
				return errors.New("the notification is not marked sent")
			},
			cases: []billingCase{
				{"service_role", c.Service, ok, ""},
				{"service_role as the customer", bobAsService, ok, ""},
				{"customer of the appointment", c.Bob, denied, ""},
				{"owner", c.Olga, denied, ""},
				{"staff", c.Sam, denied, ""},
				{"staff of another business", c.Stan, denied, ""},
				{"platform admin", c.Admin, denied, ""},
				{"anon", c.Anon, denied, ""},
			},
		},
		{
			name: "reminders_queue",
			body: func(q *gen.Queries) error {
				n, err := q.RemindersQueue(ctx, gen.RemindersQueueParams{WindowStart: windowStart, WindowEnd: windowEnd})
				if err == nil && int(n) != reminders {
					err = fmt.Errorf("queued %d reminders, want %d", n, reminders)
				}
				return err
			},
			cases: []billingCase{
				{"service_role", c.Service, ok, ""},
				{"service_role as a customer", c.ServiceAsAlice, ok, ""},
				{"customer", c.Alice, denied, ""},
				{"owner", c.Olga, denied, ""},
				{"staff", c.Sam, denied, ""},
				{"staff of another business", c.Stan, denied, ""},
				{"platform admin", c.Admin, denied, ""},
				{"anon", c.Anon, denied, ""},
			},
		},
		{
			name: "verification_code_issue",
			body: func(q *gen.Queries) error {
				code, err := q.VerificationCodeIssue(ctx, gen.VerificationCodeIssueParams{Email: "new.person@example.test", Purpose: "email_verification"})
				if err == nil && !sixDigits.MatchString(code) {
					err = fmt.Errorf("code %q is not 6 digits", code)
				}
				return err
			},
			cases: []billingCase{
				{"service_role", c.Service, ok, ""},
				{"service_role as a user", c.ServiceAsAlice, ok, ""},
				{"customer", c.Alice, denied, ""},
				{"owner", c.Olga, denied, ""},
				{"staff", c.Sam, denied, ""},
				{"staff of another business", c.Stan, denied, ""},
				{"platform admin", c.Admin, denied, ""},
				{"anon", c.Anon, denied, ""},
			},
		},
		{
			name: "verification_code_consume",
			body: func(q *gen.Queries) error {
				verified, err := q.VerificationCodeConsume(ctx, gen.VerificationCodeConsumeParams{Email: bw.VeraEmail, Purpose: "sign_in", Code: bw.VeraCode})
				if err == nil && !verified {
					err = errors.New("the issued code did not verify")
				}
				return err
			},
			cases: []billingCase{
				{"service_role", c.Service, ok, ""},
				{"service_role as a user", c.ServiceAsAlice, ok, ""},
				{"customer", c.Alice, denied, ""},
				{"owner", c.Olga, denied, ""},
				{"staff", c.Sam, denied, ""},
				{"staff of another business", c.Stan, denied, ""},
				{"platform admin", c.Admin, denied, ""},
				{"anon", c.Anon, denied, ""},
			},
		},
		{
			name: "admin_note_add",
			body: func(q *gen.Queries) error {
				rows, err := q.AdminNoteAdd(ctx, gen.AdminNoteAddParams{BusinessID: w.Biz.ID, CustomerID: w.Alice.ID, Body: "Prefers mornings."})
				if err := one(rows, err); err != nil {
					return err
				}
				if n := rows[0]; n.BusinessID != w.Biz.ID || n.CustomerID != w.Alice.ID || n.AuthorID == nil || n.Body != "Prefers mornings." {
					return fmt.Errorf("admin_note_add wrote %+v", n)
				}
				return nil
			},
			cases: []billingCase{
				owner(c.Olga),
				{"manager (notes.manage)", c.Max, ok, ""},
				{"staff (notes.manage)", c.Sam, ok, ""},
				{"staff without notes.manage", c.Sam, fails("42501", "permission_required"), "notes.manage"},
				{"the customer herself", c.Alice, fails("42501", "permission_required"), ""},
				{"another customer", c.Bob, fails("42501", "permission_required"), ""},
				{"owner of another business", c.Nora, fails("42501", "permission_required"), ""},
				{"staff of another business", c.Stan, fails("42501", "permission_required"), ""},
				{"platform admin", c.Admin, fails("42501", "permission_required"), ""},
				{"anon", c.Anon, denied, ""},
				{"service_role", c.Service, denied, ""},
				{"service_role as the owner", serviceAs(w.Olga), denied, ""},
			},
		},
		{
			name: "settings_set",
			body: func(q *gen.Queries) error {
				v := int32(20)
				rows, err := q.SettingsSet(ctx, gen.SettingsSetParams{BusinessID: w.Biz.ID, Key: "hold_minutes", Value: &v})
				if err := one(rows, err); err != nil {
					return err
				}
				if s := rows[0]; s.Key != "hold_minutes" || s.Value != 20 {
					return fmt.Errorf("settings_set wrote %+v", s)
				}
				return nil
			},
			cases: []billingCase{
				owner(c.Olga),
				{"manager", c.Max, fails("42501", "owner_required"), ""},
				{"staff", c.Sam, fails("42501", "owner_required"), ""},
				{"customer", c.Alice, fails("42501", "owner_required"), ""},
				{"owner of another business", c.Nora, fails("42501", "owner_required"), ""},
				{"staff of another business", c.Stan, fails("42501", "owner_required"), ""},
				{"platform admin", c.Admin, fails("42501", "owner_required"), ""},
				{"anon", c.Anon, denied, ""},
				{"service_role", c.Service, denied, ""},
				{"service_role as the owner", serviceAs(w.Olga), denied, ""},
			},
		},
		{
			name: "business_stats",
			body: func(q *gen.Queries) error {
				rows, err := q.BusinessStats(ctx, gen.BusinessStatsParams{BusinessID: w.Biz.ID, FromDay: pgDate(w.Day.AddDate(0, 0, -1)), ToDay: pgDate(w.Day.AddDate(0, 0, 1))})
				if err == nil && len(rows) != 3 {
					err = fmt.Errorf("%d days of statistics, want 3", len(rows))
				}
				return err
			},
			// STABLE: PostgREST runs it in a READ ONLY transaction.
			cases: []billingCase{
				owner(readOnly(c.Olga)),
				{"manager (billing.view)", readOnly(c.Max), ok, ""},
				{"staff without billing.view", readOnly(c.Sam), fails("42501", "permission_required"), ""},
				{"customer", readOnly(c.Alice), fails("42501", "permission_required"), ""},
				{"owner of another business", readOnly(c.Nora), fails("42501", "permission_required"), ""},
				{"staff of another business", readOnly(c.Stan), fails("42501", "permission_required"), ""},
				{"platform admin", readOnly(c.Admin), ok, ""},
				{"anon", readOnly(c.Anon), denied, ""},
				{"service_role", readOnly(c.Service), ok, ""},
				{"service_role as a customer", readOnly(c.ServiceAsAlice), ok, ""},
			},
		},
		{
			name: "business_stats_refresh",
			body: func(q *gen.Queries) error { return q.BusinessStatsRefresh(ctx) },
			cases: []billingCase{
				{"service_role", c.Service, ok, ""},
				{"service_role as the owner", serviceAs(w.Olga), ok, ""},
				{"owner", c.Olga, denied, ""},
				{"manager (billing.view)", c.Max, denied, ""},
				{"customer", c.Alice, denied, ""},
				{"staff of another business", c.Stan, denied, ""},
				{"platform admin", c.Admin, denied, ""},
				{"anon", c.Anon, denied, ""},
			},
		},
		{
			name: "audit_partitions_ensure",
			body: func(q *gen.Queries) error {
				n, err := q.AuditPartitionsEnsure(ctx, 3)
				if err == nil && (n < 0 || n > 4) {
					err = fmt.Errorf("created %d partitions for 4 months", n)
				}
				return err
			},
			cases: []billingCase{
				{"service_role", c.Service, ok, ""},
				{"service_role as the owner", serviceAs(w.Olga), ok, ""},
				{"owner", c.Olga, denied, ""},
				{"staff", c.Sam, denied, ""},
				{"customer", c.Alice, denied, ""},
				{"staff of another business", c.Stan, denied, ""},
				{"platform admin", c.Admin, denied, ""},
				{"anon", c.Anon, denied, ""},
			},
		},
	}

	before := w.Snapshot(t)
	for _, p := range procs {
		t.Run(p.name, func(t *testing.T) {
			for _, bc := range p.cases {
				t.Run(bc.role, func(t *testing.T) {
					if !p.serial {
						t.Parallel()
					}
					var err error
					switch {
					case bc.lacking != "":
						err = w.tryLacking("staff", bc.lacking, bc.actor, p.body)
					case bc.want == ok:
						err = w.Try(bc.actor, p.body)
					default:
						err = w.Call(bc.actor, p.body)
					}
					expect(t, err, bc.want)
				})
			}
		})
	}
	// Successes were rolled back and refusals wrote nothing: the world is untouched.
	if d := before.Diff(w.Snapshot(t)); len(d) > 0 {
		t.Errorf("the calls changed %v", d)
	}
}

// TestPart2TableIsolation reads every part II table as each role and
// compares what the role sees of business 1 with what it should see.
func TestPart2TableIsolation(t *testing.T) {
	t.Parallel()
	bw := newBillingWorld(t)
	w, ctx := bw.World, bw.Ctx
	c := w.cast()
	// Rows for every table: a redemption, a provider event, a note, Bob's credits.
	w.As(t, w.Alice.Actor(), func(q *gen.Queries) error {
		return one(q.CouponRedeem(ctx, gen.CouponRedeemParams{Code: welcomeCode, HoldID: w.AliceHold.ID, IdempotencyKey: "isolation"}))
	})
	w.event(t, "evt_isolation", bobSessionID, "pending", bw.BobSession.AmountCents)
	w.As(t, w.Sam.Actor(), func(q *gen.Queries) error {
		return one(q.AdminNoteAdd(ctx, gen.AdminNoteAddParams{BusinessID: w.Biz.ID, CustomerID: w.Alice.ID, Body: "Allergic to citrus cleaner."}))
	})
	w.grant(t, w.Biz.ID, w.Bob.ID, 2, "isolation")
	// ... and rows of Bob's own where the fixture has only Alice's (and back).
	w.session(t, w.AliceHold, "cs_alice")
	w.post(t, w.Sam, w.BobAppt.ID, "Running ten minutes late.")
	w.As(t, service(), func(q *gen.Queries) error {
		return one(q.MembershipActivate(ctx, gen.MembershipActivateParams{CustomerID: w.Bob.ID, PlanID: bw.Plan.ID, PeriodStart: pgDate(monthStart())}))
	})
	bobHold := w.Hold(t, w.Bob, w.Biz.ID, w.Wash.ID, w.AtDay(1, 10, 0), w.BobCar.ID, w.BobHome.ID)
	w.As(t, w.Bob.Actor(), func(q *gen.Queries) error {
		return one(q.CouponRedeem(ctx, gen.CouponRedeemParams{Code: welcomeCode, HoldID: bobHold.ID, IdempotencyKey: "isolation"}))
	})

	lit := quoteLiteral
	roles := []struct {
		name  string
		actor dbtest.Actor
	}{
		{"owner", c.Olga}, {"manager", c.Max}, {"staff", c.Sam},
		{"customer", c.Alice}, {"another customer", c.Bob},
		{"staff of another business", c.Stan}, {"owner of another business", c.Nora},
		{"platform admin", c.Admin}, {"anon", c.Anon}, {"service_role", c.Service},
	}
	see := func(owner, manager, staff, alice, bob sight) map[string]sight {
		return map[string]sight{"owner": owner, "manager": manager, "staff": staff, "customer": alice, "another customer": bob,
			"staff of another business": none, "owner of another business": none, "platform admin": all, "anon": refused, "service_role": all}
	}
	own := func(col string) (sight, sight) {
		return where("%s = %s", col, lit(w.Alice.ID)), where("%s = %s", col, lit(w.Bob.ID))
	}
	alice, bob := own("customer_id")
	toAlice, toBob := own("recipient_id")
	toBusiness := where("audience = 'business'")
	serverOnly := map[string]sight{}
	for _, r := range roles {
		serverOnly[r.name] = refused
	}
	serverOnly["service_role"] = all
	public := map[string]sight{}
	for _, r := range roles {
		public[r.name] = all
	}
	scope := "business_id = " + lit(w.Biz.ID)

	tables := []struct {
		table, scope string
		see          map[string]sight
	}{
		{"membership_plans", scope, public},
		{"memberships", scope, see(all, all, all, alice, bob)},
		{"credit_balances", scope, see(all, all, all, alice, bob)},
		{"credit_ledger", scope, see(all, all, all, alice, bob)},
		{"coupons", scope, see(all, all, none, none, none)},
		{"coupon_redemptions", scope, see(all, all, none, alice, bob)},
		{"payment_sessions", scope, see(all, all, none, alice, bob)},
		{"payment_events", scope, see(all, all, none, none, none)},
		{"notifications", scope, see(toBusiness, toBusiness, toBusiness, toAlice, toBob)},
		{"admin_notes", scope, see(all, all, all, none, none)},
		{"audit_log", scope, see(all, none, none, none, none)}, // owners hold audit.read
		{"verification_codes", "true", serverOnly},
	}
	for _, tc := range tables {
		t.Run(tc.table, func(t *testing.T) {
			t.Parallel()
			if w.Count(t, "public."+tc.table+" where "+tc.scope) == 0 {
				t.Fatalf("the fixture has no %s rows in scope: nothing to isolate", tc.table)
			}
			for _, r := range roles {
				s := tc.see[r.name]
				t.Run(r.name, func(t *testing.T) {
					var got int
					err := w.DB.As(ctx, r.actor, func(tx pgx.Tx) error {
						return tx.QueryRow(ctx, "select count(*) from public."+tc.table+" where "+tc.scope).Scan(&got)
					})
					if s.denied {
						expect(t, err, denied)
						return
					}
					if err != nil {
						t.Fatalf("select: %s", describe(err))
					}
					want := w.Count(t, "public."+tc.table+" where ("+tc.scope+") and ("+s.pred+")")
					if s.pred != "false" && want == 0 {
						t.Fatalf("nothing to see for %s (%s)", r.name, s.pred)
					}
					if got != want {
						t.Errorf("sees %d rows, want %d (%s)", got, want, s.pred)
					}
				})
			}
		})
	}
}

// TestPart2PrivateRoutinesClosed: the booking step shared with the
// payment webhook and the part II trigger functions run only inside the
// procedures and triggers: no API role may call them, and the one that
// books cannot be reached even with the service key.
func TestPart2PrivateRoutinesClosed(t *testing.T) {
	t.Parallel()
	db := dbtest.New(t)
	ctx := context.Background()
	routines := []string{
		"private.appointment_from_hold(public.holds)",
		"private.credit_ledger_apply()",
		"private.refuse_change()",
		"private.appointments_after_write()",
		"private.audit_write(uuid, text, text, jsonb, jsonb)",
		"private.appointment_messages_notify()",
		"private.audit_row()",
	}
	var open []string
	err := db.AsOwner(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `select r.routine || ' to ' || g.role
			from unnest($1::text[]) r(routine) cross join unnest(array['anon', 'authenticated', 'service_role']) g(role)
			where has_function_privilege(g.role, r.routine::regprocedure, 'EXECUTE')`, routines)
		if err != nil {
			return err
		}
		open, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	})
	if err != nil {
		t.Fatal(describe(err))
	}
	if len(open) > 0 {
		t.Errorf("EXECUTE granted on %v", open)
	}
	for _, actor := range []dbtest.Actor{dbtest.Anon(), dbtest.User(unknownID, nil), service()} {
		err := db.As(ctx, actor, func(tx pgx.Tx) error {
			_, err := tx.Exec(ctx, `select private.appointment_from_hold(null::public.holds)`)
			return err
		})
		if describe(err) == "success" || !strings.HasPrefix(describe(err), "42501") {
			t.Errorf("%s calls private.appointment_from_hold: %s, want 42501", actor.Role, describe(err))
		}
	}
}
