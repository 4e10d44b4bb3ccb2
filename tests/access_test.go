package tests

import (
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/dbtool-dev/dbtool/dbtest"
	"github.com/dbtool-dev/dbtool/gen"
)

// cast is the people a procedure is called by in the role matrix.
type cast struct {
	// Business 1: its owner, manager (every permission but owner-only
	// ones), staff (appointments.manage and notes.manage only).
	Olga, Max, Sam dbtest.Actor
	// Customers of business 1: Alice owns the hold and the appointment
	// under test, Bob is another customer.
	Alice, Bob dbtest.Actor
	// Business 2's owner and staff: another tenant.
	Nora, Stan dbtest.Actor
	// A platform admin (reads everything, writes nothing).
	Admin dbtest.Actor
	// No sign-in; the service key without and with a customer identity.
	Anon, Service, ServiceAsAlice dbtest.Actor
}

func (w *World) cast() cast {
	return cast{
		Olga: w.Olga.Actor(), Max: w.Max.Actor(), Sam: w.Sam.Actor(),
		Alice: w.Alice.Actor(), Bob: w.Bob.Actor(),
		Nora: w.Nora.Actor(), Stan: w.Stan.Actor(),
		Admin: w.Admin.Actor(),
		Anon:  dbtest.Anon(), Service: dbtest.ServiceRole(),
		ServiceAsAlice: dbtest.Role("service_role", map[string]any{"sub": w.Alice.ID}),
	}
}

type roleCase struct {
	role  string
	actor dbtest.Actor
	want  Want
}

// one expects exactly one returned row (the procedures return the row
// they wrote).
func one[T any](rows []T, err error) error {
	if err != nil {
		return err
	}
	if len(rows) != 1 {
		return fmt.Errorf("returned %d rows, want 1", len(rows))
	}
	return nil
}

// TestProcedureRoles calls every procedure with one body per procedure
// across the roles, each call in a request that is rolled back (so every
// role meets the same world), and asserts the SQLSTATE and rule name.
func TestProcedureRoles(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	c := w.cast()
	ctx := w.Ctx
	pending := w.DB.Persona(t, "Pending Person") // pending.person@example.test, invited by Olga

	procs := []struct {
		name  string
		body  func(q *gen.Queries) error
		cases []roleCase
	}{
		{
			name: "business_create",
			body: func(q *gen.Queries) error {
				return one(q.BusinessCreate(ctx, gen.BusinessCreateParams{Name: "Fresh Start", Slug: "fresh-start", Timezone: "Europe/Paris"}))
			},
			cases: []roleCase{
				{"customer", c.Alice, ok},
				{"owner of another business", c.Nora, ok},
				{"anon", c.Anon, denied},
				{"service_role", c.Service, denied},
				{"service_role as customer", c.ServiceAsAlice, denied},
			},
		},
		{
			name: "business_update",
			body: func(q *gen.Queries) error {
				name := "Shine Mobile Berlin"
				return one(q.BusinessUpdate(ctx, gen.BusinessUpdateParams{BusinessID: w.Biz.ID, Name: &name}))
			},
			cases: []roleCase{
				{"owner", c.Olga, ok},
				{"manager", c.Max, fails("42501", "owner_required")},
				{"staff", c.Sam, fails("42501", "owner_required")},
				{"customer", c.Alice, fails("42501", "owner_required")},
				{"owner of another business", c.Nora, fails("42501", "owner_required")},
				{"staff of another business", c.Stan, fails("42501", "owner_required")},
				{"platform admin", c.Admin, fails("42501", "owner_required")},
				{"anon", c.Anon, denied},
				{"service_role", c.Service, denied},
			},
		},
		{
			name: "business_setting_set",
			body: func(q *gen.Queries) error {
				v := int32(20)
				return one(q.BusinessSettingSet(ctx, gen.BusinessSettingSetParams{BusinessID: w.Biz.ID, Key: "hold_minutes", Value: &v}))
			},
			cases: []roleCase{
				{"owner", c.Olga, ok},
				{"manager", c.Max, fails("42501", "owner_required")},
				{"staff", c.Sam, fails("42501", "owner_required")},
				{"customer", c.Alice, fails("42501", "owner_required")},
				{"owner of another business", c.Nora, fails("42501", "owner_required")},
				{"staff of another business", c.Stan, fails("42501", "owner_required")},
				{"platform admin", c.Admin, fails("42501", "owner_required")},
				{"anon", c.Anon, denied},
				{"service_role", c.Service, denied},
			},
		},
		{
			name: "invitation_create staff",
			body: func(q *gen.Queries) error {
				tok, err := q.InvitationCreate(ctx, gen.InvitationCreateParams{BusinessID: w.Biz.ID, Email: "new.hire@example.test", Role: "staff"})
				if err == nil && len(tok) != 64 {
					err = fmt.Errorf("token %q is not 32 random bytes in hex", tok)
				}
				return err
			},
			cases: []roleCase{
				{"owner", c.Olga, ok},
				{"manager (members.manage)", c.Max, ok},
				{"staff without members.manage", c.Sam, fails("42501", "permission_required")},
				{"customer", c.Alice, fails("42501", "permission_required")},
				{"owner of another business", c.Nora, fails("42501", "permission_required")},
				{"staff of another business", c.Stan, fails("42501", "permission_required")},
				{"platform admin", c.Admin, fails("42501", "permission_required")},
				{"anon", c.Anon, denied},
				{"service_role", c.Service, denied},
			},
		},
		{
			name: "invitation_create owner",
			body: func(q *gen.Queries) error {
				_, err := q.InvitationCreate(ctx, gen.InvitationCreateParams{BusinessID: w.Biz.ID, Email: "co.owner@example.test", Role: "owner"})
				return err
			},
			cases: []roleCase{
				{"owner", c.Olga, ok},
				{"manager", c.Max, fails("42501", "owner_required")},
				{"staff", c.Sam, fails("42501", "permission_required")},
				{"owner of another business", c.Nora, fails("42501", "permission_required")},
			},
		},
		{
			name: "invitation_accept",
			body: func(q *gen.Queries) error {
				rows, err := q.InvitationAccept(ctx, w.PendingToken)
				if err == nil && (len(rows) != 1 || rows[0].BusinessID != w.Biz.ID || rows[0].Role != "staff") {
					err = fmt.Errorf("invitation_accept returned %+v", rows)
				}
				return err
			},
			cases: []roleCase{
				{"invitee", pending.Actor(), ok},
				{"owner who invited", c.Olga, fails("PT404", "invitation_not_found")},
				{"customer", c.Alice, fails("PT404", "invitation_not_found")},
				{"staff of another business", c.Stan, fails("PT404", "invitation_not_found")},
				{"platform admin", c.Admin, fails("PT404", "invitation_not_found")},
				{"anon", c.Anon, denied},
				{"service_role", c.Service, denied},
				{"service_role as invitee", dbtest.Role("service_role", map[string]any{"sub": pending.ID, "email": pending.Email}), denied},
			},
		},
		{
			name: "member_set_role",
			body: func(q *gen.Queries) error {
				rows, err := q.MemberSetRole(ctx, gen.MemberSetRoleParams{BusinessID: w.Biz.ID, UserID: w.Sam.ID, Role: "manager"})
				if err == nil && (len(rows) != 1 || rows[0].Role != "manager") {
					err = fmt.Errorf("member_set_role returned %+v", rows)
				}
				return err
			},
			cases: []roleCase{
				{"owner", c.Olga, ok},
				{"manager", c.Max, fails("42501", "owner_required")},
				{"staff promoting themselves", c.Sam, fails("42501", "owner_required")},
				{"customer", c.Alice, fails("42501", "owner_required")},
				{"owner of another business", c.Nora, fails("42501", "owner_required")},
				{"staff of another business", c.Stan, fails("42501", "owner_required")},
				{"platform admin", c.Admin, fails("42501", "owner_required")},
				{"anon", c.Anon, denied},
				{"service_role", c.Service, denied},
			},
		},
		{
			name: "member_remove",
			body: func(q *gen.Queries) error {
				return q.MemberRemove(ctx, gen.MemberRemoveParams{BusinessID: w.Biz.ID, UserID: w.Sam.ID})
			},
			cases: []roleCase{
				{"owner", c.Olga, ok},
				{"the member themselves", c.Sam, ok},
				{"manager", c.Max, fails("42501", "owner_required")},
				{"customer", c.Alice, fails("42501", "owner_required")},
				{"owner of another business", c.Nora, fails("42501", "owner_required")},
				{"staff of another business", c.Stan, fails("42501", "owner_required")},
				{"platform admin", c.Admin, fails("42501", "owner_required")},
				{"anon", c.Anon, denied},
				{"service_role", c.Service, denied},
			},
		},
		{
			name: "availability_get",
			body: func(q *gen.Queries) error {
				rows, err := q.AvailabilityGet(ctx, gen.AvailabilityGetParams{BusinessID: w.Biz.ID, ServiceID: w.Wash.ID, Day: pgDate(w.Day)})
				if err == nil && len(rows) == 0 {
					err = errors.New("no slots")
				}
				return err
			},
			cases: []roleCase{
				{"owner", c.Olga, ok},
				{"staff", c.Sam, ok},
				{"customer", c.Alice, ok},
				{"staff of another business", c.Stan, ok},
				{"anon", c.Anon, ok},
				{"service_role", c.Service, ok},
			},
		},
		{
			name: "hold_create",
			body: func(q *gen.Queries) error {
				return one(q.HoldCreate(ctx, holdParams(w.Biz.ID, w.Wash.ID, w.At(11, 0), w.AliceCar.ID, w.AliceHome.ID)))
			},
			cases: []roleCase{
				{"owner of the vehicle", c.Alice, ok},
				{"service_role as the customer", c.ServiceAsAlice, ok},
				{"another customer with her vehicle", c.Bob, fails("PT404", "vehicle_not_found")},
				{"staff", c.Sam, fails("PT404", "vehicle_not_found")},
				{"business owner", c.Olga, fails("PT404", "vehicle_not_found")},
				{"staff of another business", c.Stan, fails("PT404", "vehicle_not_found")},
				{"platform admin", c.Admin, fails("PT404", "vehicle_not_found")},
				{"anon", c.Anon, denied},
				{"service_role without sub", c.Service, fails("42501", "not_authenticated")},
			},
		},
		{
			name:  "hold_release",
			body:  func(q *gen.Queries) error { return q.HoldRelease(ctx, w.AliceHold.ID) },
			cases: holdCases(c),
		},
		{
			name: "hold_confirm",
			body: func(q *gen.Queries) error {
				rows, err := q.HoldConfirm(ctx, w.AliceHold.ID)
				if err == nil && (len(rows) != 1 || rows[0].Status != "confirmed" || rows[0].CustomerID != w.Alice.ID) {
					err = fmt.Errorf("hold_confirm returned %+v", rows)
				}
				return err
			},
			cases: holdCases(c),
		},
		{
			name: "holds_expire",
			body: func(q *gen.Queries) error { _, err := q.HoldsExpire(ctx); return err },
			cases: []roleCase{
				{"service_role", c.Service, ok},
				{"owner", c.Olga, denied},
				{"customer", c.Alice, denied},
				{"anon", c.Anon, denied},
			},
		},
		{
			name: "appointment_reschedule",
			body: func(q *gen.Queries) error {
				rows, err := q.AppointmentReschedule(ctx, gen.AppointmentRescheduleParams{AppointmentID: w.AliceAppt.ID, NewStart: w.At(11, 0)})
				if err == nil && (len(rows) != 1 || !rows[0].Slot.Lower.Time.Equal(w.At(11, 0))) {
					err = fmt.Errorf("appointment_reschedule returned %+v", rows)
				}
				return err
			},
			cases: []roleCase{
				{"customer", c.Alice, ok},
				{"service_role as the customer", c.ServiceAsAlice, ok},
				{"owner", c.Olga, ok},
				{"manager", c.Max, ok},
				{"staff (appointments.manage)", c.Sam, ok},
				{"another customer", c.Bob, fails("PT404", "appointment_not_found")},
				{"owner of another business", c.Nora, fails("PT404", "appointment_not_found")},
				{"staff of another business", c.Stan, fails("PT404", "appointment_not_found")},
				{"platform admin", c.Admin, fails("42501", "permission_required")},
				{"anon", c.Anon, denied},
				{"service_role without sub", c.Service, fails("42501", "not_authenticated")},
			},
		},
		{
			name: "appointment_cancel",
			body: func(q *gen.Queries) error {
				reason := "changed plans"
				rows, err := q.AppointmentCancel(ctx, gen.AppointmentCancelParams{AppointmentID: w.AliceAppt.ID, Reason: &reason})
				if err == nil && (len(rows) != 1 || rows[0].Status != "cancelled" || rows[0].CancelReason == nil || *rows[0].CancelReason != reason) {
					err = fmt.Errorf("appointment_cancel returned %+v", rows)
				}
				return err
			},
			cases: []roleCase{
				{"customer", c.Alice, ok},
				{"service_role as the customer", c.ServiceAsAlice, ok},
				{"owner", c.Olga, ok},
				{"staff (appointments.manage)", c.Sam, ok},
				{"another customer", c.Bob, fails("PT404", "appointment_not_found")},
				{"owner of another business", c.Nora, fails("PT404", "appointment_not_found")},
				{"staff of another business", c.Stan, fails("PT404", "appointment_not_found")},
				{"platform admin", c.Admin, fails("42501", "permission_required")},
				{"anon", c.Anon, denied},
				{"service_role without sub", c.Service, fails("42501", "not_authenticated")},
			},
		},
		{
			name: "appointment_set_status",
			body: func(q *gen.Queries) error {
				rows, err := q.AppointmentSetStatus(ctx, gen.AppointmentSetStatusParams{AppointmentID: w.AliceAppt.ID, Status: "in_progress"})
				if err == nil && (len(rows) != 1 || rows[0].Status != "in_progress") {
					err = fmt.Errorf("appointment_set_status returned %+v", rows)
				}
				return err
			},
			cases: []roleCase{
				{"staff (appointments.manage)", c.Sam, ok},
				{"manager", c.Max, ok},
				{"owner", c.Olga, ok},
				{"customer", c.Alice, fails("42501", "permission_required")},
				{"service_role as the customer", c.ServiceAsAlice, fails("42501", "permission_required")},
				{"another customer", c.Bob, fails("PT404", "appointment_not_found")},
				{"staff of another business", c.Stan, fails("PT404", "appointment_not_found")},
				{"platform admin", c.Admin, fails("42501", "permission_required")},
				{"anon", c.Anon, denied},
				{"service_role without sub", c.Service, fails("42501", "not_authenticated")},
			},
		},
		{
			name: "appointment_message_post",
			body: func(q *gen.Queries) error {
				rows, err := q.AppointmentMessagePost(ctx, gen.AppointmentMessagePostParams{AppointmentID: w.AliceAppt.ID, Body: "On my way."})
				if err == nil && len(rows) != 1 {
					err = fmt.Errorf("appointment_message_post returned %+v", rows)
				}
				return err
			},
			cases: []roleCase{
				{"customer", c.Alice, ok},
				{"service_role as the customer", c.ServiceAsAlice, ok},
				{"staff", c.Sam, ok},
				{"owner", c.Olga, ok},
				{"another customer", c.Bob, fails("PT404", "appointment_not_found")},
				{"owner of another business", c.Nora, fails("PT404", "appointment_not_found")},
				{"staff of another business", c.Stan, fails("PT404", "appointment_not_found")},
				{"platform admin", c.Admin, fails("42501", "permission_required")},
				{"anon", c.Anon, denied},
				{"service_role without sub", c.Service, fails("42501", "not_authenticated")},
			},
		},
	}

	before := w.Snapshot(t)
	for _, p := range procs {
		t.Run(p.name, func(t *testing.T) {
			for _, rc := range p.cases {
				t.Run(rc.role, func(t *testing.T) {
					t.Parallel()
					expect(t, w.Try(rc.actor, p.body), rc.want)
				})
			}
		})
	}
	// Every call was rolled back: the world is untouched.
	if d := before.Diff(w.Snapshot(t)); len(d) > 0 {
		t.Errorf("rolled-back calls changed %v", d)
	}
}

// holdCases: who may release or confirm Alice's hold.
func holdCases(c cast) []roleCase {
	return []roleCase{
		{"customer", c.Alice, ok},
		{"service_role as the customer", c.ServiceAsAlice, ok},
		{"another customer", c.Bob, fails("PT404", "hold_not_found")},
		{"staff (sees the hold)", c.Sam, fails("42501", "hold_owner_required")},
		{"owner (sees the hold)", c.Olga, fails("42501", "hold_owner_required")},
		{"owner of another business", c.Nora, fails("PT404", "hold_not_found")},
		{"staff of another business", c.Stan, fails("PT404", "hold_not_found")},
		{"platform admin (sees the hold)", c.Admin, fails("42501", "hold_owner_required")},
		{"anon", c.Anon, denied},
		{"service_role without sub", c.Service, fails("42501", "not_authenticated")},
	}
}

// sight is what one role may read of a table: a predicate over the rows
// (evaluated as the owner to get the expected count), or denied.
type sight struct {
	pred   string // SQL over the table's columns; "true" = every row in scope
	denied bool
}

var (
	all     = sight{pred: "true"}
	none    = sight{pred: "false"}
	refused = sight{denied: true}
)

func where(pred string, args ...any) sight { return sight{pred: fmt.Sprintf(pred, args...)} }

// TestTableIsolation reads every table as each role and compares what the
// role sees of business 1 (and of business 1's customers) with what it
// should see: members see their business, customers their own rows, staff
// of business 2 nothing, anon only the public catalogue.
func TestTableIsolation(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	c := w.cast()
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
	biz1 := lit(w.Biz.ID)
	customers1 := fmt.Sprintf("(%s, %s, %s)", lit(w.Alice.ID), lit(w.Bob.ID), lit(w.Carol.ID))
	people1 := fmt.Sprintf("(%s, %s, %s, %s, %s)", lit(w.Olga.ID), lit(w.Max.ID), lit(w.Sam.ID), lit(w.Alice.ID), lit(w.Bob.ID))
	members := func(s sight) map[string]sight {
		return map[string]sight{"owner": s, "manager": s, "staff": s, "platform admin": all, "service_role": all}
	}
	merge := func(a, b map[string]sight) map[string]sight {
		for k, v := range b {
			a[k] = v
		}
		return a
	}
	public := func() map[string]sight {
		m := map[string]sight{}
		for _, r := range roles {
			m[r.name] = all
		}
		return m
	}
	activeOnly := func() map[string]sight {
		return merge(members(all), map[string]sight{"customer": where("active"), "another customer": where("active"),
			"staff of another business": where("active"), "owner of another business": where("active"), "anon": where("active")})
	}
	// Prices of inactive services are the business's, like the services.
	activePrices := where("service_id in (select id from public.services where active)")
	staffOnly := func() map[string]sight {
		return merge(members(all), map[string]sight{"customer": none, "another customer": none,
			"staff of another business": none, "owner of another business": none, "anon": refused})
	}
	booking := func() map[string]sight {
		return merge(members(all), map[string]sight{
			"customer":                  where("customer_id = %s", lit(w.Alice.ID)),
			"another customer":          where("customer_id = %s", lit(w.Bob.ID)),
			"staff of another business": none, "owner of another business": none, "anon": refused})
	}
	served := func(col string) sight {
		return where("id in (select %s from public.appointments where business_id = %s)", col, biz1)
	}
	customerAssets := func(col string) map[string]sight {
		return merge(members(served(col)), map[string]sight{
			"customer":                  where("user_id = %s", lit(w.Alice.ID)),
			"another customer":          where("user_id = %s", lit(w.Bob.ID)),
			"staff of another business": none, "owner of another business": none, "anon": refused})
	}
	signedIn := func() map[string]sight {
		m := public()
		m["anon"] = refused
		return m
	}

	tables := []struct {
		table string
		scope string // business 1's rows
		see   map[string]sight
	}{
		{"businesses", "id = " + biz1, public()},
		{"business_settings", "business_id = " + biz1, public()},
		{"services", "business_id = " + biz1, activeOnly()},
		{"service_prices", "business_id = " + biz1, merge(members(all), map[string]sight{
			"customer": activePrices, "another customer": activePrices,
			"staff of another business": activePrices, "owner of another business": activePrices, "anon": activePrices})},
		{"addons", "business_id = " + biz1, activeOnly()},
		{"working_hours", "business_id = " + biz1, public()},
		{"crews", "business_id = " + biz1, staffOnly()},
		{"blackouts", "business_id = " + biz1, staffOnly()},
		{"business_members", "business_id = " + biz1, staffOnly()},
		{"invitations", "business_id = " + biz1, merge(members(all), map[string]sight{
			"staff":    where("email = %s", lit(w.Sam.Email)), // no members.manage: only the invitation to Sam
			"customer": none, "another customer": none,
			"staff of another business": none, "owner of another business": none, "anon": refused})},
		{"holds", "business_id = " + biz1, booking()},
		{"hold_addons", "business_id = " + biz1, booking()},
		{"appointments", "business_id = " + biz1, booking()},
		{"appointment_addons", "business_id = " + biz1, booking()},
		{"appointment_status_history", "business_id = " + biz1, booking()},
		{"appointment_messages", "business_id = " + biz1, booking()},
		{"vehicles", "user_id in " + customers1, customerAssets("vehicle_id")},
		{"addresses", "user_id in " + customers1, customerAssets("address_id")},
		{"profiles", "id in " + people1, merge(members(where("id in (select user_id from public.business_members where business_id = %s) or %s",
			biz1, served("customer_id").pred)), map[string]sight{
			"customer":                  where("id = %s", lit(w.Alice.ID)),
			"another customer":          where("id = %s", lit(w.Bob.ID)),
			"staff of another business": none, "owner of another business": none, "anon": refused})},
		{"permissions", "true", signedIn()},
		{"role_permissions", "true", signedIn()},
		{"platform_admins", "true", map[string]sight{
			"owner": none, "manager": none, "staff": none, "customer": none, "another customer": none,
			"staff of another business": none, "owner of another business": none,
			"platform admin": where("user_id = %s", lit(w.Admin.ID)), "anon": refused, "service_role": all}},
	}

	for _, tc := range tables {
		t.Run(tc.table, func(t *testing.T) {
			t.Parallel()
			inScope := w.Count(t, "public."+tc.table+" where "+tc.scope)
			if inScope == 0 {
				t.Fatalf("the fixture has no %s rows in scope: nothing to isolate", tc.table)
			}
			for _, r := range roles {
				s, found := tc.see[r.name]
				if !found {
					t.Fatalf("no expectation for %s", r.name)
				}
				t.Run(r.name, func(t *testing.T) {
					var got int
					err := w.DB.As(w.Ctx, r.actor, func(tx pgx.Tx) error {
						return tx.QueryRow(w.Ctx, "select count(*) from public."+tc.table+" where "+tc.scope).Scan(&got)
					})
					if s.denied {
						expect(t, err, denied)
						return
					}
					if err != nil {
						t.Fatalf("select: %s", describe(err))
					}
					want := w.Count(t, "public."+tc.table+" where ("+tc.scope+") and ("+s.pred+")")
					if s.pred == "true" && want == 0 {
						t.Fatalf("nothing to see")
					}
					if got != want {
						t.Errorf("sees %d of %d rows in scope, want %d (%s)", got, inScope, want, s.pred)
					}
				})
			}
		})
	}

	// The other tenant sees its own rows (so "none" above is isolation,
	// not a broken policy).
	t.Run("business 2 staff see business 2", func(t *testing.T) {
		t.Parallel()
		for _, table := range []string{"crews", "blackouts", "business_members", "holds", "appointments", "appointment_messages", "appointment_status_history"} {
			var got int
			err := w.DB.As(w.Ctx, c.Stan, func(tx pgx.Tx) error {
				return tx.QueryRow(w.Ctx, "select count(*) from public."+table+" where business_id = $1", w.Biz2.ID).Scan(&got)
			})
			want := w.Count(t, "public."+table+" where business_id = $1", w.Biz2.ID)
			if err != nil || got != want || want == 0 {
				t.Errorf("%s: Stan sees %d of business 2's %d rows (%s)", table, got, want, describe(err))
			}
		}
	})
}

// TestTableWriteIsolation runs the same statement on a table as each role:
// writes into another tenant or another customer affect no row (RLS
// filters) or are refused (42501), and nothing changes.
func TestTableWriteIsolation(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	c := w.cast()
	before := w.Snapshot(t)

	// Statements against business 1's rows. want: affected rows or denied.
	type res struct {
		rows   int64
		denied bool
	}
	n := func(k int64) res { return res{rows: k} }
	no := res{denied: true}
	stmts := []struct {
		name string
		sql  string
		args []any
		want map[string]res
	}{
		{"update services", `update public.services set description = 'x' where business_id = $1`, []any{w.Biz.ID},
			map[string]res{"manager": n(3), "staff without catalog.manage": n(0), "owner of another business": n(0), "customer": n(0), "platform admin": n(0), "anon": no}},
		{"delete addons", `delete from public.addons where business_id = $1 and not active`, []any{w.Biz.ID},
			map[string]res{"manager": n(1), "staff without catalog.manage": n(0), "owner of another business": n(0), "customer": n(0), "anon": no}},
		{"insert service", `insert into public.services (business_id, name, duration_minutes) values ($1, 'Sneaky', 30)`, []any{w.Biz.ID},
			map[string]res{"manager": n(1), "staff without catalog.manage": no, "owner of another business": no, "customer": no, "anon": no}},
		{"update service_prices", `update public.service_prices set price_cents = 1 where business_id = $1`, []any{w.Biz.ID},
			map[string]res{"manager": n(4), "staff without catalog.manage": n(0), "owner of another business": n(0), "customer": n(0), "anon": no}},
		{"insert service_price into another tenant", `insert into public.service_prices (service_id, business_id, vehicle_type, price_cents) values ($1, $2, 'van', 1)`,
			[]any{w.Wash.ID, w.Biz.ID},
			map[string]res{"manager": n(1), "staff without catalog.manage": no, "owner of another business": no, "customer": no, "anon": no}},
		{"update working_hours", `update public.working_hours set opens = '06:00' where business_id = $1`, []any{w.Biz.ID},
			map[string]res{"manager": n(7), "staff without catalog.manage": n(0), "owner of another business": n(0), "customer": n(0), "anon": no}},
		{"insert crew", `insert into public.crews (business_id, name) values ($1, 'Crew Z')`, []any{w.Biz.ID},
			map[string]res{"manager": n(1), "staff without catalog.manage": no, "owner of another business": no, "customer": no, "anon": no}},
		{"deactivate crews", `update public.crews set active = false where business_id = $1`, []any{w.Biz.ID},
			map[string]res{"manager": n(3), "staff without catalog.manage": n(0), "owner of another business": n(0), "customer": n(0), "anon": no}},
		{"delete blackouts", `delete from public.blackouts where business_id = $1`, []any{w.Biz.ID},
			map[string]res{"manager": n(1), "staff without catalog.manage": n(0), "owner of another business": n(0), "customer": n(0), "anon": no}},
		{"insert blackout", `insert into public.blackouts (business_id, during) values ($1, tstzrange(now() + interval '1 day', now() + interval '2 days'))`, []any{w.Biz.ID},
			map[string]res{"manager": n(1), "staff without catalog.manage": no, "owner of another business": no, "customer": no, "anon": no}},
		{"update Alice's vehicles", `update public.vehicles set make = 'Trabant' where user_id = $1`, []any{w.Alice.ID},
			map[string]res{"customer": n(1), "another customer": n(0), "manager": n(0), "owner of another business": n(0), "anon": no}},
		{"insert a vehicle for Alice", `insert into public.vehicles (user_id, vehicle_type, make, model, plate) values ($1, 'van', 'Ford', 'Transit', 'X-1')`, []any{w.Alice.ID},
			map[string]res{"customer": n(1), "another customer": no, "manager": no, "owner of another business": no, "anon": no}},
		{"update Alice's addresses", `update public.addresses set city = 'Potsdam' where user_id = $1`, []any{w.Alice.ID},
			map[string]res{"customer": n(1), "another customer": n(0), "manager": n(0), "platform admin": n(0), "anon": no}},
		{"delete Bob's booked vehicle", `delete from public.vehicles where user_id = $1`, []any{w.Bob.ID},
			map[string]res{"customer": n(0), "manager": n(0), "anon": no}},
		{"update Alice's profile", `update public.profiles set display_name = 'Mallory' where id = $1`, []any{w.Alice.ID},
			map[string]res{"customer": n(1), "another customer": n(0), "manager": n(0), "owner of another business": n(0), "anon": no}},
		{"verify Alice's phone", `update public.profiles set phone_verified_at = now() where id = $1`, []any{w.Alice.ID},
			map[string]res{"customer": no, "another customer": no, "manager": no, "anon": no}},
		{"write a hold directly", `update public.holds set status = 'released' where business_id = $1`, []any{w.Biz.ID},
			map[string]res{"customer": no, "manager": no, "owner of another business": no, "anon": no}},
		{"write an appointment directly", `update public.appointments set price_cents = 0 where business_id = $1`, []any{w.Biz.ID},
			map[string]res{"customer": no, "manager": no, "owner of another business": no, "anon": no}},
		{"become a member directly", `insert into public.business_members (business_id, user_id, role) values ($1, auth.uid(), 'owner')`, []any{w.Biz.ID},
			map[string]res{"customer": no, "manager": no, "owner of another business": no, "anon": no}},
	}
	actors := map[string]dbtest.Actor{
		"manager": c.Max, "staff without catalog.manage": c.Sam, "owner of another business": c.Nora,
		"customer": c.Alice, "another customer": c.Bob, "platform admin": c.Admin, "anon": c.Anon,
	}
	for _, st := range stmts {
		t.Run(st.name, func(t *testing.T) {
			for role, want := range st.want {
				t.Run(role, func(t *testing.T) {
					t.Parallel()
					var affected int64
					err := w.DB.As(w.Ctx, actors[role], func(tx pgx.Tx) error {
						tag, err := tx.Exec(w.Ctx, st.sql, st.args...)
						affected = tag.RowsAffected()
						if err != nil {
							return err
						}
						return errRollback
					})
					if want.denied {
						expect(t, err, denied)
						return
					}
					if !errors.Is(err, errRollback) {
						t.Fatalf("got %s, want %d rows", describe(err), want.rows)
					}
					if affected != want.rows {
						t.Errorf("affected %d rows, want %d", affected, want.rows)
					}
				})
			}
		})
	}
	if d := before.Diff(w.Snapshot(t)); len(d) > 0 {
		t.Errorf("rolled-back statements changed %v", d)
	}
}
