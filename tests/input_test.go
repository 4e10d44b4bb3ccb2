package tests

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dbtool-dev/dbtool/dbtest"
	"github.com/dbtool-dev/dbtool/gen"
	"github.com/dbtool-dev/dbtool/internal/pgerr"
)

// unknownID is a well-formed uuid no row has.
const unknownID = "00000000-0000-4000-8000-00000000dead"

// arg is one named argument of a raw call.
type arg struct {
	name, typ string
	val       any
}

func a(name, typ string, val any) arg { return arg{name, typ, val} }

// rawCall calls public.fn with named arguments, for what the bindings
// cannot express (a NULL where the binding takes a string or a time).
func rawCall(tx pgx.Tx, fn string, args ...arg) error {
	parts := make([]string, len(args))
	vals := make([]any, len(args))
	for i, x := range args {
		parts[i] = fmt.Sprintf("%s => $%d::%s", x.name, i+1, x.typ)
		vals[i] = x.val
	}
	rows, err := tx.Query(context.Background(), fmt.Sprintf("select * from public.%s(%s)", fn, strings.Join(parts, ", ")), vals...)
	if err != nil {
		return err
	}
	rows.Close()
	return rows.Err()
}

// inputCase is one bad (or boundary) input. setup runs first and commits;
// then the call runs as the case's actor (or the suite's). A call that
// should fail is committed if it succeeds, so a wrongly accepted input
// shows up in the snapshot; a call that should succeed is rolled back.
type inputCase struct {
	name  string
	setup func(t *testing.T)
	actor *dbtest.Actor
	call  func(tx pgx.Tx) error
	want  Want
}

// runInputs runs the cases in order, asserting the outcome and that
// nothing was written (a snapshot of every table before and after).
func runInputs(t *testing.T, w *World, actor dbtest.Actor, cases []inputCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.setup != nil {
				c.setup(t)
			}
			who := actor
			if c.actor != nil {
				who = *c.actor
			}
			before := w.Snapshot(t)
			err := w.DB.As(w.Ctx, who, func(tx pgx.Tx) error {
				if err := c.call(tx); err != nil {
					return err
				}
				if c.want == ok {
					return errRollback
				}
				return nil
			})
			if errors.Is(err, errRollback) {
				err = nil
			}
			expect(t, err, c.want)
			if d := before.Diff(w.Snapshot(t)); len(d) > 0 {
				t.Errorf("the call wrote to %v", d)
			}
		})
	}
}

// q is shorthand for a call through the bindings.
func q(fn func(q *gen.Queries) error) func(tx pgx.Tx) error {
	return func(tx pgx.Tx) error { return fn(gen.New(tx)) }
}

func ptr[T any](v T) *T { return &v }

func (w *World) setSetting(t *testing.T, key string, v int32) {
	t.Helper()
	w.As(t, w.Olga.Actor(), func(q *gen.Queries) error {
		return one(q.BusinessSettingSet(w.Ctx, gen.BusinessSettingSetParams{BusinessID: w.Biz.ID, Key: key, Value: &v}))
	})
}

// blackoutAll closes the whole of business 1 for [from, to) (as Max).
func (w *World) blackoutAll(t *testing.T, from, to time.Time) {
	t.Helper()
	w.As(t, w.Max.Actor(), func(q *gen.Queries) error {
		_, err := q.BlackoutCreate(w.Ctx, gen.BlackoutCreateParams{BusinessID: w.Biz.ID, During: tsRange(from, to)})
		return err
	})
}

func TestBusinessCreateBadInput(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	create := func(name, slug, tz string) func(tx pgx.Tx) error {
		return q(func(q *gen.Queries) error {
			return one(q.BusinessCreate(w.Ctx, gen.BusinessCreateParams{Name: name, Slug: slug, Timezone: tz}))
		})
	}
	raw := func(name, slug, tz any) func(tx pgx.Tx) error {
		return func(tx pgx.Tx) error {
			return rawCall(tx, "business_create", a("name", "text", name), a("slug", "text", slug), a("timezone", "text", tz))
		}
	}
	nameBad := fails("22023", "business_name_invalid")
	slugBad := fails("22023", "business_slug_invalid")
	tzBad := fails("22023", "business_timezone_invalid")
	runInputs(t, w, w.Alice.Actor(), []inputCase{
		{name: "name null", call: raw(nil, "new-biz", tz1), want: nameBad},
		{name: "name empty", call: create("", "new-biz", tz1), want: nameBad},
		{name: "name blank", call: create("   ", "new-biz", tz1), want: nameBad},
		{name: "name 121 characters", call: create(strings.Repeat("n", 121), "new-biz", tz1), want: nameBad},
		{name: "name 120 characters", call: create(strings.Repeat("n", 120), "new-biz", tz1), want: ok},
		{name: "slug null", call: raw("New", nil, tz1), want: slugBad},
		{name: "slug too short", call: create("New", "ab", tz1), want: slugBad},
		{name: "slug with upper case", call: create("New", "New-Biz", tz1), want: slugBad},
		{name: "slug with space", call: create("New", "new biz", tz1), want: slugBad},
		{name: "slug 64 characters", call: create("New", strings.Repeat("s", 64), tz1), want: slugBad},
		{name: "slug 63 characters", call: create("New", strings.Repeat("s", 63), tz1), want: ok},
		{name: "slug taken", call: create("New", "shine-mobile", tz1), want: fails("23505", "business_slug_taken")},
		{name: "timezone null", call: raw("New", "new-biz", nil), want: tzBad},
		{name: "timezone empty", call: create("New", "new-biz", ""), want: tzBad},
		{name: "timezone unknown", call: create("New", "new-biz", "Mars/Olympus_Mons"), want: tzBad},
		{name: "timezone lower case", call: create("New", "new-biz", "europe/berlin"), want: tzBad},
		{name: "timezone POSIX offset", call: create("New", "new-biz", "+02:00"), want: tzBad},
		{name: "timezone 65 characters", call: create("New", "new-biz", strings.Repeat("x", 65)), want: tzBad},
		{name: "timezone of the other business", call: create("New", "new-biz", tz2), want: ok},
	})
}

func TestBusinessUpdateBadInput(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	update := func(business string, p gen.BusinessUpdateParams) func(tx pgx.Tx) error {
		p.BusinessID = business
		return q(func(q *gen.Queries) error { return one(q.BusinessUpdate(w.Ctx, p)) })
	}
	nameBad := fails("22023", "business_name_invalid")
	domainBad := fails("22023", "staff_email_domain_invalid")
	runInputs(t, w, w.Olga.Actor(), []inputCase{
		{name: "business_id null", call: func(tx pgx.Tx) error {
			return rawCall(tx, "business_update", a("business_id", "uuid", nil), a("name", "text", "X"))
		}, want: fails("22023", "argument_required")},
		{name: "business_id unknown", call: update(unknownID, gen.BusinessUpdateParams{Name: ptr("X")}), want: fails("PT404", "business_not_found")},
		{name: "business_id not a uuid", call: update("shine-mobile", gen.BusinessUpdateParams{Name: ptr("X")}), want: fails("22P02", "")},
		{name: "name empty", call: update(w.Biz.ID, gen.BusinessUpdateParams{Name: ptr("")}), want: nameBad},
		{name: "name blank", call: update(w.Biz.ID, gen.BusinessUpdateParams{Name: ptr("  ")}), want: nameBad},
		{name: "name 121 characters", call: update(w.Biz.ID, gen.BusinessUpdateParams{Name: ptr(strings.Repeat("n", 121))}), want: nameBad},
		{name: "timezone unknown", call: update(w.Biz.ID, gen.BusinessUpdateParams{Timezone: ptr("Atlantis/Capital")}), want: fails("22023", "business_timezone_invalid")},
		{name: "timezone empty", call: update(w.Biz.ID, gen.BusinessUpdateParams{Timezone: ptr("")}), want: fails("22023", "business_timezone_invalid")},
		{name: "staff_email_domain with space", call: update(w.Biz.ID, gen.BusinessUpdateParams{StaffEmailDomain: ptr("shine mobile.de")}), want: domainBad},
		{name: "staff_email_domain without dot", call: update(w.Biz.ID, gen.BusinessUpdateParams{StaffEmailDomain: ptr("localhost")}), want: domainBad},
		{name: "staff_email_domain leading hyphen", call: update(w.Biz.ID, gen.BusinessUpdateParams{StaffEmailDomain: ptr("-shine.de")}), want: domainBad},
		{name: "staff_email_domain an e-mail address", call: update(w.Biz.ID, gen.BusinessUpdateParams{StaffEmailDomain: ptr("olga@shine.de")}), want: domainBad},
		{name: "all arguments valid", call: update(w.Biz.ID, gen.BusinessUpdateParams{Name: ptr("Shine"), Timezone: ptr(tz2),
			PaymentRequired: ptr(true), StaffEmailDomain: ptr("Shine.DE")}), want: ok},
	})
}

func TestBusinessSettingSetBadInput(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	set := func(business, key string, v *int32) func(tx pgx.Tx) error {
		return q(func(q *gen.Queries) error {
			return one(q.BusinessSettingSet(w.Ctx, gen.BusinessSettingSetParams{BusinessID: business, Key: key, Value: v}))
		})
	}
	cases := []inputCase{
		{name: "business_id null", call: func(tx pgx.Tx) error {
			return rawCall(tx, "business_setting_set", a("business_id", "uuid", nil), a("key", "text", "hold_minutes"), a("value", "integer", 10))
		}, want: fails("22023", "argument_required")},
		{name: "key null", call: func(tx pgx.Tx) error {
			return rawCall(tx, "business_setting_set", a("business_id", "uuid", w.Biz.ID), a("key", "text", nil), a("value", "integer", 10))
		}, want: fails("22023", "argument_required")},
		{name: "business_id unknown", call: set(unknownID, "hold_minutes", ptr[int32](10)), want: fails("PT404", "business_not_found")},
		{name: "key unknown", call: set(w.Biz.ID, "nap_minutes", ptr[int32](10)), want: fails("22023", "setting_key_invalid")},
		{name: "key empty", call: set(w.Biz.ID, "", ptr[int32](10)), want: fails("22023", "setting_key_invalid")},
		{name: "key in upper case", call: set(w.Biz.ID, "HOLD_MINUTES", ptr[int32](10)), want: fails("22023", "setting_key_invalid")},
		{name: "value null restores the default", call: set(w.Biz.ID, "hold_minutes", nil), want: ok},
	}
	ranges := []struct {
		key      string
		min, max int32
	}{
		{"hold_minutes", 1, 120},
		{"max_active_holds_per_customer", 1, 20},
		{"max_upcoming_appointments_per_customer", 1, 50},
		{"customer_cancel_cutoff_hours", 0, 168},
		{"customer_reschedule_cutoff_hours", 0, 168},
	}
	for _, r := range ranges {
		bad := fails("23514", "business_settings_"+r.key+"_check")
		cases = append(cases,
			inputCase{name: fmt.Sprintf("%s below %d", r.key, r.min), call: set(w.Biz.ID, r.key, ptr(r.min-1)), want: bad},
			inputCase{name: fmt.Sprintf("%s negative", r.key), call: set(w.Biz.ID, r.key, ptr[int32](-1000)), want: bad},
			inputCase{name: fmt.Sprintf("%s above %d", r.key, r.max), call: set(w.Biz.ID, r.key, ptr(r.max+1)), want: bad},
			inputCase{name: fmt.Sprintf("%s at %d", r.key, r.min), call: set(w.Biz.ID, r.key, ptr(r.min)), want: ok},
			inputCase{name: fmt.Sprintf("%s at %d", r.key, r.max), call: set(w.Biz.ID, r.key, ptr(r.max)), want: ok},
		)
	}
	runInputs(t, w, w.Olga.Actor(), cases)
}

func TestInvitationCreateBadInput(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	invite := func(business, email, role string) func(tx pgx.Tx) error {
		return q(func(q *gen.Queries) error {
			_, err := q.InvitationCreate(w.Ctx, gen.InvitationCreateParams{BusinessID: business, Email: email, Role: role})
			return err
		})
	}
	raw := func(business, email, role any) func(tx pgx.Tx) error {
		return func(tx pgx.Tx) error {
			return rawCall(tx, "invitation_create", a("business_id", "uuid", business), a("email", "text", email), a("role", "text", role))
		}
	}
	roleBad := fails("22023", "member_role_invalid")
	emailBad := fails("22023", "invitation_email_invalid")
	runInputs(t, w, w.Olga.Actor(), []inputCase{
		{name: "business_id null", call: raw(nil, "x@example.test", "staff"), want: fails("22023", "argument_required")},
		{name: "business_id unknown", call: invite(unknownID, "x@example.test", "staff"), want: fails("PT404", "business_not_found")},
		{name: "role null", call: raw(w.Biz.ID, "x@example.test", nil), want: roleBad},
		{name: "role empty", call: invite(w.Biz.ID, "x@example.test", ""), want: roleBad},
		{name: "role unknown", call: invite(w.Biz.ID, "x@example.test", "admin"), want: roleBad},
		{name: "role in upper case", call: invite(w.Biz.ID, "x@example.test", "Owner"), want: roleBad},
		{name: "email null", call: raw(w.Biz.ID, nil, "staff"), want: emailBad},
		{name: "email empty", call: invite(w.Biz.ID, "", "staff"), want: emailBad},
		{name: "email without @", call: invite(w.Biz.ID, "x.example.test", "staff"), want: emailBad},
		{name: "email without a dot in the domain", call: invite(w.Biz.ID, "x@localhost", "staff"), want: emailBad},
		{name: "email with a space", call: invite(w.Biz.ID, "x y@example.test", "staff"), want: emailBad},
		{name: "email with two @", call: invite(w.Biz.ID, "x@@example.test", "staff"), want: emailBad},
		{name: "email 255 characters", call: invite(w.Biz.ID, strings.Repeat("x", 242)+"@example.test", "staff"), want: emailBad},
		{name: "email 254 characters", call: invite(w.Biz.ID, strings.Repeat("x", 241)+"@example.test", "staff"), want: ok},
		{name: "email of a member", call: invite(w.Biz.ID, w.Sam.Email, "manager"), want: fails("PT409", "member_exists")},
		{name: "email of a member in upper case with spaces", call: invite(w.Biz.ID, "  "+strings.ToUpper(w.Sam.Email)+" ", "manager"), want: fails("PT409", "member_exists")},
		{name: "email outside the staff e-mail domain", setup: func(t *testing.T) {
			w.As(t, w.Olga.Actor(), func(q *gen.Queries) error {
				return one(q.BusinessUpdate(w.Ctx, gen.BusinessUpdateParams{BusinessID: w.Biz.ID, StaffEmailDomain: ptr("shine.test")}))
			})
		}, call: invite(w.Biz.ID, "x@example.test", "staff"), want: fails("P0001", "staff_email_domain_mismatch")},
		{name: "email inside the staff e-mail domain", call: invite(w.Biz.ID, "x@shine.test", "staff"), want: ok},
	})
}

func TestInvitationAcceptBadInput(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ivy := w.DB.Persona(t, "Ivy Invitee")
	eve := w.DB.Persona(t, "Eve Expired")
	mia := w.DB.Persona(t, "Mia Member")
	dom := w.DB.Persona(t, "Dom Outsider")
	rex := w.DB.Persona(t, "Rex Replaced")
	tokens := map[string]string{}
	w.As(t, w.Olga.Actor(), func(q *gen.Queries) error {
		for _, p := range []dbtest.Persona{ivy, eve, mia, dom, rex} {
			tok, err := q.InvitationCreate(w.Ctx, gen.InvitationCreateParams{BusinessID: w.Biz.ID, Email: p.Email, Role: "staff"})
			if err != nil {
				return err
			}
			tokens[p.Name] = tok
		}
		return nil
	})
	accept := func(token string) func(tx pgx.Tx) error {
		return q(func(q *gen.Queries) error { return one(q.InvitationAccept(w.Ctx, token)) })
	}
	as := func(p dbtest.Persona) *dbtest.Actor { a := p.Actor(); return &a }
	notFound := fails("PT404", "invitation_not_found")
	runInputs(t, w, ivy.Actor(), []inputCase{
		{name: "token null", call: func(tx pgx.Tx) error { return rawCall(tx, "invitation_accept", a("token", "text", nil)) }, want: fails("22023", "argument_required")},
		{name: "token empty", call: accept(""), want: fails("22023", "argument_required")},
		{name: "token unknown", call: accept(strings.Repeat("ab", 32)), want: notFound},
		{name: "token of another invitee", call: accept(tokens["Eve Expired"]), want: notFound},
		{name: "token in upper case", call: accept(strings.ToUpper(tokens["Ivy Invitee"])), want: notFound},
		{name: "token replaced by a newer invitation", actor: as(rex), setup: func(t *testing.T) {
			w.As(t, w.Olga.Actor(), func(q *gen.Queries) error {
				_, err := q.InvitationCreate(w.Ctx, gen.InvitationCreateParams{BusinessID: w.Biz.ID, Email: rex.Email, Role: "manager"})
				return err
			})
		}, call: accept(tokens["Rex Replaced"]), want: notFound},
		{name: "token used twice", setup: func(t *testing.T) {
			w.As(t, ivy.Actor(), func(q *gen.Queries) error { return one(q.InvitationAccept(w.Ctx, tokens["Ivy Invitee"])) })
		}, call: accept(tokens["Ivy Invitee"]), want: fails("PT409", "invitation_already_accepted")},
		{name: "token expired", actor: as(eve), setup: func(t *testing.T) {
			w.Owner(t, func(tx pgx.Tx) error {
				_, err := tx.Exec(w.Ctx, `update public.invitations set created_at = now() - interval '8 days', expires_at = now() - interval '1 day' where email = $1`, eve.Email)
				return err
			})
		}, call: accept(tokens["Eve Expired"]), want: fails("P0001", "invitation_expired")},
		{name: "invitee already a member", actor: as(mia), setup: func(t *testing.T) {
			w.Owner(t, func(tx pgx.Tx) error {
				_, err := tx.Exec(w.Ctx, `insert into public.business_members (business_id, user_id, role) values ($1, $2, 'staff')`, w.Biz.ID, mia.ID)
				return err
			})
		}, call: accept(tokens["Mia Member"]), want: fails("PT409", "member_exists")},
		{name: "staff e-mail domain changed since the invitation", actor: as(dom), setup: func(t *testing.T) {
			w.As(t, w.Olga.Actor(), func(q *gen.Queries) error {
				return one(q.BusinessUpdate(w.Ctx, gen.BusinessUpdateParams{BusinessID: w.Biz.ID, StaffEmailDomain: ptr("shine.test")}))
			})
		}, call: accept(tokens["Dom Outsider"]), want: fails("P0001", "staff_email_domain_mismatch")},
	})
}

func TestMemberSetRoleBadInput(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	set := func(business, user, role string) func(tx pgx.Tx) error {
		return q(func(q *gen.Queries) error {
			return one(q.MemberSetRole(w.Ctx, gen.MemberSetRoleParams{BusinessID: business, UserID: user, Role: role}))
		})
	}
	raw := func(business, user, role any) func(tx pgx.Tx) error {
		return func(tx pgx.Tx) error {
			return rawCall(tx, "member_set_role", a("business_id", "uuid", business), a("user_id", "uuid", user), a("role", "text", role))
		}
	}
	runInputs(t, w, w.Olga.Actor(), []inputCase{
		{name: "business_id null", call: raw(nil, w.Sam.ID, "manager"), want: fails("22023", "argument_required")},
		{name: "user_id null", call: raw(w.Biz.ID, nil, "manager"), want: fails("22023", "argument_required")},
		{name: "role null", call: raw(w.Biz.ID, w.Sam.ID, nil), want: fails("22023", "member_role_invalid")},
		{name: "role unknown", call: set(w.Biz.ID, w.Sam.ID, "boss"), want: fails("22023", "member_role_invalid")},
		{name: "role empty", call: set(w.Biz.ID, w.Sam.ID, ""), want: fails("22023", "member_role_invalid")},
		{name: "business_id unknown", call: set(unknownID, w.Sam.ID, "manager"), want: fails("PT404", "business_not_found")},
		{name: "user_id unknown", call: set(w.Biz.ID, unknownID, "manager"), want: fails("PT404", "member_not_found")},
		{name: "user_id of a customer", call: set(w.Biz.ID, w.Alice.ID, "staff"), want: fails("PT404", "member_not_found")},
		{name: "user_id of business 2's staff", call: set(w.Biz.ID, w.Stan.ID, "staff"), want: fails("PT404", "member_not_found")},
		{name: "user_id not a uuid", call: set(w.Biz.ID, "sam", "manager"), want: fails("22P02", "")},
		{name: "the last owner demotes herself", call: set(w.Biz.ID, w.Olga.ID, "manager"), want: fails("PT409", "last_owner")},
		{name: "the last owner stays owner", call: set(w.Biz.ID, w.Olga.ID, "owner"), want: ok},
	})
}

func TestMemberRemoveBadInput(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	remove := func(business, user string) func(tx pgx.Tx) error {
		return q(func(q *gen.Queries) error {
			return q.MemberRemove(w.Ctx, gen.MemberRemoveParams{BusinessID: business, UserID: user})
		})
	}
	raw := func(business, user any) func(tx pgx.Tx) error {
		return func(tx pgx.Tx) error {
			return rawCall(tx, "member_remove", a("business_id", "uuid", business), a("user_id", "uuid", user))
		}
	}
	runInputs(t, w, w.Olga.Actor(), []inputCase{
		{name: "business_id null", call: raw(nil, w.Sam.ID), want: fails("22023", "argument_required")},
		{name: "user_id null", call: raw(w.Biz.ID, nil), want: fails("22023", "argument_required")},
		{name: "business_id unknown", call: remove(unknownID, w.Sam.ID), want: fails("PT404", "business_not_found")},
		{name: "user_id unknown", call: remove(w.Biz.ID, unknownID), want: fails("PT404", "member_not_found")},
		{name: "user_id of a customer", call: remove(w.Biz.ID, w.Alice.ID), want: fails("PT404", "member_not_found")},
		{name: "the last owner leaves", call: remove(w.Biz.ID, w.Olga.ID), want: fails("PT409", "last_owner")},
		{name: "a customer leaves a business she is not in", actor: ptr(w.Alice.Actor()), call: remove(w.Biz.ID, w.Alice.ID), want: fails("PT404", "member_not_found")},
	})
}

func TestAvailabilityGetBadInput(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	var tyreShine string
	w.Owner(t, func(tx pgx.Tx) error {
		return tx.QueryRow(w.Ctx, `select id::text from public.addons where business_id = $1`, w.Biz2.ID).Scan(&tyreShine)
	})
	get := func(business, service string, day time.Time, addons ...string) func(tx pgx.Tx) error {
		return q(func(q *gen.Queries) error {
			_, err := q.AvailabilityGet(w.Ctx, gen.AvailabilityGetParams{BusinessID: business, ServiceID: service, Day: pgDate(day), AddonIds: uuidArray(addons...)})
			return err
		})
	}
	raw := func(business, service, day any) func(tx pgx.Tx) error {
		return func(tx pgx.Tx) error {
			return rawCall(tx, "availability_get", a("business_id", "uuid", business), a("service_id", "uuid", service), a("day", "date", day))
		}
	}
	slots := func(day time.Time, want int) func(tx pgx.Tx) error {
		return q(func(q *gen.Queries) error {
			rows, err := q.AvailabilityGet(w.Ctx, gen.AvailabilityGetParams{BusinessID: w.Biz.ID, ServiceID: w.Wash.ID, Day: pgDate(day)})
			if err == nil && len(rows) != want {
				err = fmt.Errorf("%d slots, want %d", len(rows), want)
			}
			return err
		})
	}
	day := pgDate(w.Day)
	runInputs(t, w, dbtest.Anon(), []inputCase{
		{name: "business_id null", call: raw(nil, w.Wash.ID, day), want: fails("22023", "argument_required")},
		{name: "service_id null", call: raw(w.Biz.ID, nil, day), want: fails("22023", "argument_required")},
		{name: "day null", call: raw(w.Biz.ID, w.Wash.ID, nil), want: fails("22023", "argument_required")},
		{name: "business_id unknown", call: get(unknownID, w.Wash.ID, w.Day), want: fails("PT404", "business_not_found")},
		{name: "service_id unknown", call: get(w.Biz.ID, unknownID, w.Day), want: fails("PT404", "service_not_found")},
		{name: "service of the other business", call: get(w.Biz.ID, w.Rinse2.ID, w.Day), want: fails("PT404", "service_not_found")},
		{name: "inactive service", call: get(w.Biz.ID, w.Retired.ID, w.Day), want: fails("PT404", "service_not_found")},
		{name: "add-on unknown", call: get(w.Biz.ID, w.Wash.ID, w.Day, unknownID), want: fails("PT404", "addon_not_found")},
		{name: "add-on inactive", call: get(w.Biz.ID, w.Wash.ID, w.Day, w.OldWax.ID), want: fails("PT404", "addon_not_found")},
		{name: "add-on of the other business", call: get(w.Biz.ID, w.Wash.ID, w.Day, tyreShine), want: fails("PT404", "addon_not_found")},
		{name: "add-on listed twice", call: get(w.Biz.ID, w.Wash.ID, w.Day, w.Wax.ID, w.Wax.ID), want: ok},
		{name: "a past day has no slots", call: slots(w.Day.AddDate(0, 0, -bookingDays-2), 0), want: ok},
		// 07:00 to 20:00 every 15 minutes, all three crews free except
		// where Alice's and Bob's bookings take one each: all 53 starts.
		{name: "the booking day has every start", call: slots(w.Day, 53), want: ok},
	})
}

func TestHoldCreateBadInput(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	var tyreShine string
	w.Owner(t, func(tx pgx.Tx) error {
		return tx.QueryRow(w.Ctx, `select id::text from public.addons where business_id = $1`, w.Biz2.ID).Scan(&tyreShine)
	})
	hold := func(p gen.HoldCreateParams) func(tx pgx.Tx) error {
		return q(func(q *gen.Queries) error { return one(q.HoldCreate(w.Ctx, p)) })
	}
	// base: Alice's valid hold of a Wash at 11:00.
	base := func(edit func(p *gen.HoldCreateParams)) func(tx pgx.Tx) error {
		p := holdParams(w.Biz.ID, w.Wash.ID, w.At(11, 0), w.AliceCar.ID, w.AliceHome.ID)
		edit(&p)
		return hold(p)
	}
	raw := func(null string) func(tx pgx.Tx) error {
		return func(tx pgx.Tx) error {
			vals := map[string]any{"business_id": w.Biz.ID, "service_id": w.Wash.ID, "slot_start": w.At(11, 0), "vehicle_id": w.AliceCar.ID, "address_id": w.AliceHome.ID}
			vals[null] = nil
			return rawCall(tx, "hold_create", a("business_id", "uuid", vals["business_id"]), a("service_id", "uuid", vals["service_id"]),
				a("slot_start", "timestamptz", vals["slot_start"]), a("vehicle_id", "uuid", vals["vehicle_id"]), a("address_id", "uuid", vals["address_id"]))
		}
	}
	day := w.Day
	utc := func(hh, mm int) time.Time {
		return time.Date(day.Year(), day.Month(), day.Day(), hh, mm, 0, 0, time.UTC)
	}
	carol := w.Carol.Actor()
	serviceAsAlice := dbtest.Role("service_role", map[string]any{"sub": w.Alice.ID})
	argReq := fails("22023", "argument_required")
	outside := fails("P0001", "slot_outside_working_hours")
	runInputs(t, w, w.Alice.Actor(), []inputCase{
		{name: "business_id null", call: raw("business_id"), want: argReq},
		{name: "service_id null", call: raw("service_id"), want: argReq},
		{name: "slot_start null", call: raw("slot_start"), want: argReq},
		{name: "vehicle_id null", call: raw("vehicle_id"), want: argReq},
		{name: "address_id null", call: raw("address_id"), want: argReq},
		{name: "business_id unknown", call: base(func(p *gen.HoldCreateParams) { p.BusinessID = unknownID }), want: fails("PT404", "business_not_found")},
		{name: "business_id not a uuid", call: base(func(p *gen.HoldCreateParams) { p.BusinessID = "shine" }), want: fails("22P02", "")},
		{name: "service_id unknown", call: base(func(p *gen.HoldCreateParams) { p.ServiceID = unknownID }), want: fails("PT404", "service_not_found")},
		{name: "service of the other business", call: base(func(p *gen.HoldCreateParams) { p.ServiceID = w.Rinse2.ID }), want: fails("PT404", "service_not_found")},
		{name: "service inactive", call: base(func(p *gen.HoldCreateParams) { p.ServiceID = w.Retired.ID }), want: fails("PT404", "service_not_found")},
		{name: "vehicle_id unknown", call: base(func(p *gen.HoldCreateParams) { p.VehicleID = unknownID }), want: fails("PT404", "vehicle_not_found")},
		{name: "vehicle of another customer", call: base(func(p *gen.HoldCreateParams) { p.VehicleID = w.BobCar.ID }), want: fails("PT404", "vehicle_not_found")},
		{name: "address_id unknown", call: base(func(p *gen.HoldCreateParams) { p.AddressID = unknownID }), want: fails("PT404", "address_not_found")},
		{name: "address of another customer", call: base(func(p *gen.HoldCreateParams) { p.AddressID = w.BobHome.ID }), want: fails("PT404", "address_not_found")},
		{name: "no price for the vehicle type", actor: &carol, call: hold(holdParams(w.Biz.ID, w.Wash.ID, w.At(11, 0), w.CarolTruck.ID, w.CarolHome.ID)), want: fails("P0001", "service_price_missing")},
		{name: "add-on unknown", call: base(func(p *gen.HoldCreateParams) { p.AddonIds = uuidArray(unknownID) }), want: fails("PT404", "addon_not_found")},
		{name: "add-on inactive", call: base(func(p *gen.HoldCreateParams) { p.AddonIds = uuidArray(w.OldWax.ID) }), want: fails("PT404", "addon_not_found")},
		{name: "add-on of the other business", call: base(func(p *gen.HoldCreateParams) { p.AddonIds = uuidArray(w.Wax.ID, tyreShine) }), want: fails("PT404", "addon_not_found")},
		{name: "add-on listed twice", call: base(func(p *gen.HoldCreateParams) { p.AddonIds = uuidArray(w.Wax.ID, w.Wax.ID) }), want: ok},
		{name: "slot_start off the quarter hour", call: base(func(p *gen.HoldCreateParams) { p.SlotStart = w.At(11, 7) }), want: fails("22023", "slot_invalid")},
		{name: "slot_start with seconds", call: base(func(p *gen.HoldCreateParams) { p.SlotStart = w.At(11, 0).Add(30 * time.Second) }), want: fails("22023", "slot_invalid")},
		{name: "slot_start with microseconds", call: base(func(p *gen.HoldCreateParams) { p.SlotStart = w.At(11, 0).Add(time.Microsecond) }), want: fails("22023", "slot_invalid")},
		{name: "slot_start yesterday", call: base(func(p *gen.HoldCreateParams) { p.SlotStart = w.AtDay(-bookingDays-1, 11, 0) }), want: fails("P0001", "slot_in_past")},
		{name: "slot_start before opening", call: base(func(p *gen.HoldCreateParams) { p.SlotStart = w.At(6, 45) }), want: outside},
		{name: "slot ends after closing", call: base(func(p *gen.HoldCreateParams) { p.SlotStart = w.At(20, 15) }), want: outside},
		{name: "slot with an add-on ends after closing", call: base(func(p *gen.HoldCreateParams) {
			p.SlotStart, p.AddonIds = w.At(20, 0), uuidArray(w.Wax.ID)
		}), want: outside},
		{name: "slot at midnight", call: base(func(p *gen.HoldCreateParams) { p.SlotStart = w.At(0, 0) }), want: outside},
		{name: "last slot of the day", call: base(func(p *gen.HoldCreateParams) { p.SlotStart = w.At(20, 0) }), want: ok},
		{name: "first slot of the day", call: base(func(p *gen.HoldCreateParams) { p.SlotStart = w.At(7, 0) }), want: ok},
		// Working hours are local: 06:00 UTC is 07:00 or 08:00 in Berlin
		// (open), 06:00 Berlin is closed; 20:00 UTC is 21:00 or 22:00 Berlin.
		{name: "06:00 UTC is inside Berlin's hours", call: base(func(p *gen.HoldCreateParams) { p.SlotStart = utc(6, 0) }), want: ok},
		{name: "20:00 UTC is after Berlin's closing", call: base(func(p *gen.HoldCreateParams) { p.SlotStart = utc(20, 0) }), want: outside},
		{name: "New York hours are New York time", call: hold(holdParams(w.Biz2.ID, w.Rinse2.ID, w.At2(7, 0), w.AliceCar.ID, w.AliceHome.ID)), want: ok},
		{name: "Berlin 07:00 is before New York opens", call: hold(holdParams(w.Biz2.ID, w.Rinse2.ID,
			time.Date(w.Day2.Year(), w.Day2.Month(), w.Day2.Day(), 7, 0, 0, 0, w.Loc), w.AliceCar.ID, w.AliceHome.ID)), want: outside},
		{name: "slot blacked out", setup: func(t *testing.T) { w.blackoutAll(t, w.At(11, 0), w.At(12, 0)) },
			call: base(func(p *gen.HoldCreateParams) {}), want: fails("PT409", "slot_unavailable")},
		{name: "slot overlapping a blackout by 15 minutes", call: base(func(p *gen.HoldCreateParams) { p.SlotStart = w.At(10, 15) }), want: fails("PT409", "slot_unavailable")},
		{name: "hold cap reached", setup: func(t *testing.T) { w.setSetting(t, "max_active_holds_per_customer", 1) },
			call: base(func(p *gen.HoldCreateParams) { p.SlotStart = w.At(16, 30) }), want: fails("P0001", "hold_cap_reached")},
		{name: "service_role may exceed the hold cap", actor: &serviceAsAlice,
			call: base(func(p *gen.HoldCreateParams) { p.SlotStart = w.At(16, 30) }), want: ok},
		{name: "appointment cap reached", setup: func(t *testing.T) {
			w.setSetting(t, "max_active_holds_per_customer", 3)
			w.setSetting(t, "max_upcoming_appointments_per_customer", 1)
		}, call: base(func(p *gen.HoldCreateParams) { p.SlotStart = w.At(16, 30) }), want: fails("P0001", "appointment_cap_reached")},
	})
}

func TestHoldReleaseBadInput(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	released := w.Hold(t, w.Alice, w.Biz.ID, w.Wash.ID, w.At(11, 0), w.AliceCar.ID, w.AliceHome.ID)
	w.As(t, w.Alice.Actor(), func(q *gen.Queries) error { return q.HoldRelease(w.Ctx, released.ID) })
	release := func(id string) func(tx pgx.Tx) error {
		return q(func(q *gen.Queries) error { return q.HoldRelease(w.Ctx, id) })
	}
	notFound := fails("PT404", "hold_not_found")
	runInputs(t, w, w.Alice.Actor(), []inputCase{
		{name: "hold_id null", call: func(tx pgx.Tx) error { return rawCall(tx, "hold_release", a("hold_id", "uuid", nil)) }, want: notFound},
		{name: "hold_id unknown", call: release(unknownID), want: notFound},
		{name: "hold_id not a uuid", call: release("my-hold"), want: fails("22P02", "")},
		{name: "hold of another customer", call: release(w.BobHold.ID), want: notFound},
		{name: "hold of another business's customer", call: release(w.DaveHold.ID), want: notFound},
		{name: "hold already released", call: release(released.ID), want: fails("PT409", "hold_not_active")},
		{name: "hold already confirmed", call: release(*w.AliceAppt.HoldID), want: fails("PT409", "hold_not_active")},
	})
}

func TestHoldConfirmBadInput(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	released := w.Hold(t, w.Alice, w.Biz.ID, w.Wash.ID, w.At(11, 0), w.AliceCar.ID, w.AliceHome.ID)
	w.As(t, w.Alice.Actor(), func(q *gen.Queries) error { return q.HoldRelease(w.Ctx, released.ID) })
	lapsed := w.Hold(t, w.Alice, w.Biz.ID, w.Wash.ID, w.At(11, 30), w.AliceCar.ID, w.AliceHome.ID)
	swept := w.Hold(t, w.Alice, w.Biz.ID, w.Wash.ID, w.At(12, 0), w.AliceCar.ID, w.AliceHome.ID)
	// lapsed: past expires_at, still status active; swept: expired by holds_expire.
	w.Owner(t, func(tx pgx.Tx) error {
		_, err := tx.Exec(w.Ctx, `update public.holds set created_at = now() - interval '1 hour', expires_at = now() - interval '1 minute'
			where id = any ($1::uuid[])`, []string{lapsed.ID, swept.ID})
		return err
	})
	var expired int32
	w.As(t, dbtest.ServiceRole(), func(q *gen.Queries) error {
		var err error
		expired, err = q.HoldsExpire(w.Ctx)
		return err
	})
	if expired != 2 {
		t.Fatalf("holds_expire expired %d holds, want 2", expired)
	}
	w.Owner(t, func(tx pgx.Tx) error {
		_, err := tx.Exec(w.Ctx, `update public.holds set status = 'active', expires_at = now() - interval '1 minute' where id = $1`, lapsed.ID)
		return err
	})
	started := w.Hold(t, w.Alice, w.Biz.ID, w.Wash.ID, w.At(12, 30), w.AliceCar.ID, w.AliceHome.ID)
	w.Owner(t, func(tx pgx.Tx) error {
		_, err := tx.Exec(w.Ctx, `update public.holds set slot = tstzrange(now() - interval '10 minutes', now() + interval '50 minutes') where id = $1`, started.ID)
		return err
	})
	confirm := func(id string) func(tx pgx.Tx) error {
		return q(func(q *gen.Queries) error { return one(q.HoldConfirm(w.Ctx, id)) })
	}
	notFound := fails("PT404", "hold_not_found")
	runInputs(t, w, w.Alice.Actor(), []inputCase{
		{name: "hold_id null", call: func(tx pgx.Tx) error { return rawCall(tx, "hold_confirm", a("hold_id", "uuid", nil)) }, want: notFound},
		{name: "hold_id unknown", call: confirm(unknownID), want: notFound},
		{name: "hold of another customer", call: confirm(w.BobHold.ID), want: notFound},
		{name: "hold of another business's customer", call: confirm(w.DaveHold.ID), want: notFound},
		{name: "hold released", call: confirm(released.ID), want: fails("PT409", "hold_not_active")},
		{name: "hold already confirmed", call: confirm(*w.AliceAppt.HoldID), want: fails("PT409", "hold_not_active")},
		{name: "hold past its expiry", call: confirm(lapsed.ID), want: fails("P0001", "hold_expired")},
		{name: "hold expired by holds_expire", call: confirm(swept.ID), want: fails("P0001", "hold_expired")},
		{name: "hold whose slot has started", call: confirm(started.ID), want: fails("P0001", "slot_in_past")},
		{name: "business requires payment", setup: func(t *testing.T) {
			w.As(t, w.Olga.Actor(), func(q *gen.Queries) error {
				return one(q.BusinessUpdate(w.Ctx, gen.BusinessUpdateParams{BusinessID: w.Biz.ID, PaymentRequired: ptr(true)}))
			})
		}, call: confirm(w.AliceHold.ID), want: fails("P0001", "payment_required")},
		{name: "appointment cap reached", setup: func(t *testing.T) {
			w.As(t, w.Olga.Actor(), func(q *gen.Queries) error {
				return one(q.BusinessUpdate(w.Ctx, gen.BusinessUpdateParams{BusinessID: w.Biz.ID, PaymentRequired: ptr(false)}))
			})
			w.setSetting(t, "max_upcoming_appointments_per_customer", 1)
		}, call: confirm(w.AliceHold.ID), want: fails("P0001", "appointment_cap_reached")},
		{name: "slot blacked out after the hold", setup: func(t *testing.T) {
			w.setSetting(t, "max_upcoming_appointments_per_customer", 5)
			w.blackoutAll(t, w.At(15, 0), w.At(15, 15))
		}, call: confirm(w.AliceHold.ID), want: fails("PT409", "slot_unavailable")},
	})
}

func TestAppointmentRescheduleBadInput(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	cancelled := w.Book(t, w.Alice, w.Biz.ID, w.Wash.ID, w.At(18, 0), w.AliceCar.ID, w.AliceHome.ID)
	w.As(t, w.Alice.Actor(), func(q *gen.Queries) error {
		return one(q.AppointmentCancel(w.Ctx, gen.AppointmentCancelParams{AppointmentID: cancelled.ID}))
	})
	move := func(id string, start time.Time) func(tx pgx.Tx) error {
		return q(func(q *gen.Queries) error {
			return one(q.AppointmentReschedule(w.Ctx, gen.AppointmentRescheduleParams{AppointmentID: id, NewStart: start}))
		})
	}
	notFound := fails("PT404", "appointment_not_found")
	sam := w.Sam.Actor()
	runInputs(t, w, w.Alice.Actor(), []inputCase{
		{name: "appointment_id null", call: func(tx pgx.Tx) error {
			return rawCall(tx, "appointment_reschedule", a("appointment_id", "uuid", nil), a("new_start", "timestamptz", w.At(11, 0)))
		}, want: notFound},
		{name: "appointment_id unknown", call: move(unknownID, w.At(11, 0)), want: notFound},
		{name: "appointment of another customer", call: move(w.BobAppt.ID, w.At(11, 0)), want: notFound},
		{name: "appointment at another business", call: move(w.DaveAppt.ID, w.At2(11, 0)), want: notFound},
		{name: "new_start null", call: func(tx pgx.Tx) error {
			return rawCall(tx, "appointment_reschedule", a("appointment_id", "uuid", w.AliceAppt.ID), a("new_start", "timestamptz", nil))
		}, want: fails("22023", "argument_required")},
		{name: "new_start off the quarter hour", call: move(w.AliceAppt.ID, w.At(11, 10)), want: fails("22023", "slot_invalid")},
		{name: "new_start with seconds", call: move(w.AliceAppt.ID, w.At(11, 0).Add(time.Second)), want: fails("22023", "slot_invalid")},
		{name: "new_start yesterday", call: move(w.AliceAppt.ID, w.AtDay(-bookingDays-1, 11, 0)), want: fails("P0001", "slot_in_past")},
		{name: "new_start before opening", call: move(w.AliceAppt.ID, w.At(6, 0)), want: fails("P0001", "slot_outside_working_hours")},
		{name: "new slot ends after closing", call: move(w.AliceAppt.ID, w.At(20, 0)), want: fails("P0001", "slot_outside_working_hours")},
		{name: "same slot again", call: move(w.AliceAppt.ID, w.At(9, 0)), want: ok},
		{name: "overlapping its own slot", call: move(w.AliceAppt.ID, w.At(9, 30)), want: ok},
		{name: "new slot blacked out", setup: func(t *testing.T) { w.blackoutAll(t, w.At(11, 0), w.At(12, 0)) },
			call: move(w.AliceAppt.ID, w.At(11, 0)), want: fails("PT409", "slot_unavailable")},
		{name: "cancelled appointment", call: move(cancelled.ID, w.At(16, 0)), want: fails("PT409", "appointment_not_active")},
		{name: "customer inside the reschedule cutoff", setup: func(t *testing.T) { w.setSetting(t, "customer_reschedule_cutoff_hours", 168) },
			call: move(w.AliceAppt.ID, w.At(16, 0)), want: fails("P0001", "reschedule_cutoff_passed")},
		{name: "staff are exempt from the cutoff", actor: &sam, call: move(w.AliceAppt.ID, w.At(16, 0)), want: ok},
	})
}

func TestAppointmentCancelBadInput(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	done := w.Book(t, w.Alice, w.Biz.ID, w.Wash.ID, w.At(18, 0), w.AliceCar.ID, w.AliceHome.ID)
	w.As(t, w.Sam.Actor(), func(q *gen.Queries) error {
		if err := one(q.AppointmentSetStatus(w.Ctx, gen.AppointmentSetStatusParams{AppointmentID: done.ID, Status: "in_progress"})); err != nil {
			return err
		}
		return one(q.AppointmentSetStatus(w.Ctx, gen.AppointmentSetStatusParams{AppointmentID: done.ID, Status: "completed"}))
	})
	cancelled := w.Book(t, w.Alice, w.Biz.ID, w.Wash.ID, w.At(11, 0), w.AliceCar.ID, w.AliceHome.ID)
	w.As(t, w.Alice.Actor(), func(q *gen.Queries) error {
		return one(q.AppointmentCancel(w.Ctx, gen.AppointmentCancelParams{AppointmentID: cancelled.ID}))
	})
	cancel := func(id string, reason *string) func(tx pgx.Tx) error {
		return q(func(q *gen.Queries) error {
			return one(q.AppointmentCancel(w.Ctx, gen.AppointmentCancelParams{AppointmentID: id, Reason: reason}))
		})
	}
	notFound := fails("PT404", "appointment_not_found")
	sam := w.Sam.Actor()
	runInputs(t, w, w.Alice.Actor(), []inputCase{
		{name: "appointment_id null", call: func(tx pgx.Tx) error {
			return rawCall(tx, "appointment_cancel", a("appointment_id", "uuid", nil), a("reason", "text", nil))
		}, want: notFound},
		{name: "appointment_id unknown", call: cancel(unknownID, nil), want: notFound},
		{name: "appointment of another customer", call: cancel(w.BobAppt.ID, nil), want: notFound},
		{name: "appointment at another business", call: cancel(w.DaveAppt.ID, nil), want: notFound},
		{name: "reason 501 characters", call: cancel(w.AliceAppt.ID, ptr(strings.Repeat("r", 501))), want: fails("22023", "cancel_reason_invalid")},
		{name: "reason 500 characters", call: cancel(w.AliceAppt.ID, ptr(strings.Repeat("r", 500))), want: ok},
		{name: "reason null", call: cancel(w.AliceAppt.ID, nil), want: ok},
		{name: "already cancelled", call: cancel(cancelled.ID, nil), want: fails("PT409", "appointment_not_active")},
		{name: "completed", call: cancel(done.ID, nil), want: fails("PT409", "appointment_not_active")},
		{name: "customer inside the cancel cutoff", setup: func(t *testing.T) { w.setSetting(t, "customer_cancel_cutoff_hours", 168) },
			call: cancel(w.AliceAppt.ID, nil), want: fails("P0001", "cancel_cutoff_passed")},
		{name: "staff are exempt from the cutoff", actor: &sam, call: cancel(w.AliceAppt.ID, ptr("crew ill")), want: ok},
	})
}

func TestAppointmentSetStatusBadInput(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	cancelled := w.Book(t, w.Alice, w.Biz.ID, w.Wash.ID, w.At(11, 0), w.AliceCar.ID, w.AliceHome.ID)
	w.As(t, w.Alice.Actor(), func(q *gen.Queries) error {
		return one(q.AppointmentCancel(w.Ctx, gen.AppointmentCancelParams{AppointmentID: cancelled.ID}))
	})
	set := func(id, status string, note *string) func(tx pgx.Tx) error {
		return q(func(q *gen.Queries) error {
			return one(q.AppointmentSetStatus(w.Ctx, gen.AppointmentSetStatusParams{AppointmentID: id, Status: status, Note: note}))
		})
	}
	direct := func(status string) func(tx pgx.Tx) error {
		return func(tx pgx.Tx) error {
			_, err := tx.Exec(w.Ctx, `update public.appointments set status = $2 where id = $1`, w.AliceAppt.ID, status)
			return err
		}
	}
	notFound := fails("PT404", "appointment_not_found")
	statusBad := fails("22023", "appointment_status_invalid")
	transition := fails("PT409", "appointment_status_transition_invalid")
	runInputs(t, w, w.Sam.Actor(), []inputCase{
		{name: "appointment_id null", call: func(tx pgx.Tx) error {
			return rawCall(tx, "appointment_set_status", a("appointment_id", "uuid", nil), a("status", "text", "in_progress"))
		}, want: notFound},
		{name: "appointment_id unknown", call: set(unknownID, "in_progress", nil), want: notFound},
		{name: "appointment at another business", call: set(w.DaveAppt.ID, "in_progress", nil), want: notFound},
		{name: "status null", call: func(tx pgx.Tx) error {
			return rawCall(tx, "appointment_set_status", a("appointment_id", "uuid", w.AliceAppt.ID), a("status", "text", nil))
		}, want: statusBad},
		{name: "status empty", call: set(w.AliceAppt.ID, "", nil), want: statusBad},
		{name: "status unknown", call: set(w.AliceAppt.ID, "done", nil), want: statusBad},
		{name: "status in upper case", call: set(w.AliceAppt.ID, "IN_PROGRESS", nil), want: statusBad},
		{name: "note 501 characters", call: set(w.AliceAppt.ID, "in_progress", ptr(strings.Repeat("n", 501))), want: fails("22023", "status_note_invalid")},
		{name: "note 500 characters", call: set(w.AliceAppt.ID, "in_progress", ptr(strings.Repeat("n", 500))), want: ok},
		{name: "confirmed to completed", call: set(w.AliceAppt.ID, "completed", nil), want: transition},
		{name: "confirmed to confirmed", call: set(w.AliceAppt.ID, "confirmed", nil), want: transition},
		{name: "cancelled to confirmed", call: set(cancelled.ID, "confirmed", nil), want: transition},
		{name: "cancelled to in_progress", call: set(cancelled.ID, "in_progress", nil), want: transition},
		{name: "confirmed to no_show", call: set(w.AliceAppt.ID, "no_show", ptr("nobody home")), want: ok},
	})
	// The state machine holds on every write path (service_role: see
	// TestKnownBugServiceRoleStatusUpdate).
	t.Run("owner updating the table", func(t *testing.T) {
		err := w.DB.AsOwner(w.Ctx, direct("completed"))
		expect(t, err, transition)
	})
}

func TestAppointmentMessagePostBadInput(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	post := func(id, body string) func(tx pgx.Tx) error {
		return q(func(q *gen.Queries) error {
			return one(q.AppointmentMessagePost(w.Ctx, gen.AppointmentMessagePostParams{AppointmentID: id, Body: body}))
		})
	}
	notFound := fails("PT404", "appointment_not_found")
	bodyBad := fails("22023", "message_body_invalid")
	runInputs(t, w, w.Alice.Actor(), []inputCase{
		{name: "appointment_id null", call: func(tx pgx.Tx) error {
			return rawCall(tx, "appointment_message_post", a("appointment_id", "uuid", nil), a("body", "text", "hi"))
		}, want: notFound},
		{name: "appointment_id unknown", call: post(unknownID, "hi"), want: notFound},
		{name: "appointment of another customer", call: post(w.BobAppt.ID, "hi"), want: notFound},
		{name: "body null", call: func(tx pgx.Tx) error {
			return rawCall(tx, "appointment_message_post", a("appointment_id", "uuid", w.AliceAppt.ID), a("body", "text", nil))
		}, want: bodyBad},
		{name: "body empty", call: post(w.AliceAppt.ID, ""), want: bodyBad},
		{name: "body of spaces", call: post(w.AliceAppt.ID, "    "), want: bodyBad},
		{name: "body 2001 characters", call: post(w.AliceAppt.ID, strings.Repeat("b", 2001)), want: bodyBad},
		{name: "body 2000 characters", call: post(w.AliceAppt.ID, strings.Repeat("b", 2000)), want: ok},
	})
}

// TestDirectWriteBadInput: the tables clients write directly reject bad
// rows with the documented constraint (rule name = constraint name).
func TestDirectWriteBadInput(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	max := w.Max.Actor()
	vehicle := func(vt, mk, model, plate string) func(tx pgx.Tx) error {
		return q(func(q *gen.Queries) error {
			_, err := q.VehicleCreate(w.Ctx, gen.VehicleCreateParams{VehicleType: vt, Make: mk, Model: model, Plate: plate})
			return err
		})
	}
	address := func(line1, city, postal string, def bool) func(tx pgx.Tx) error {
		return q(func(q *gen.Queries) error {
			_, err := q.AddressCreate(w.Ctx, gen.AddressCreateParams{Line1: line1, City: city, PostalCode: postal, IsDefault: def})
			return err
		})
	}
	service := func(name string, minutes int32) func(tx pgx.Tx) error {
		return q(func(q *gen.Queries) error {
			_, err := q.ServiceCreate(w.Ctx, gen.ServiceCreateParams{BusinessID: w.Biz.ID, Name: name, DurationMinutes: minutes})
			return err
		})
	}
	addon := func(name string, cents, minutes int32) func(tx pgx.Tx) error {
		return q(func(q *gen.Queries) error {
			_, err := q.AddonCreate(w.Ctx, gen.AddonCreateParams{BusinessID: w.Biz.ID, Name: name, PriceCents: cents, DurationMinutes: minutes})
			return err
		})
	}
	hours := func(wd int16, oh, om, ch, cm int) func(tx pgx.Tx) error {
		return q(func(q *gen.Queries) error {
			_, err := q.WorkingHoursSet(w.Ctx, gen.WorkingHoursSetParams{BusinessID: w.Biz.ID, Weekday: wd, Opens: clock(oh, om), Closes: clock(ch, cm)})
			return err
		})
	}
	crew := func(name string) func(tx pgx.Tx) error {
		return q(func(q *gen.Queries) error {
			_, err := q.CrewCreate(w.Ctx, gen.CrewCreateParams{BusinessID: w.Biz.ID, Name: name})
			return err
		})
	}
	blackout := func(crewID *string, from, to time.Time) func(tx pgx.Tx) error {
		return q(func(q *gen.Queries) error {
			_, err := q.BlackoutCreate(w.Ctx, gen.BlackoutCreateParams{BusinessID: w.Biz.ID, CrewID: crewID, During: tsRange(from, to)})
			return err
		})
	}
	chk := func(c string) Want { return fails("23514", c) }
	crew2 := w.Crew2.ID
	runInputs(t, w, w.Alice.Actor(), []inputCase{
		{name: "vehicle type unknown", call: vehicle("tank", "VW", "Golf", "A-1"), want: chk("vehicles_vehicle_type_check")},
		{name: "vehicle make blank", call: vehicle("sedan", "  ", "Golf", "A-1"), want: chk("vehicles_make_check")},
		{name: "vehicle model 61 characters", call: vehicle("sedan", "VW", strings.Repeat("m", 61), "A-1"), want: chk("vehicles_model_check")},
		{name: "vehicle plate in lower case", call: vehicle("sedan", "VW", "Golf", "a-1"), want: chk("vehicles_plate_check")},
		{name: "vehicle plate 17 characters", call: vehicle("sedan", "VW", "Golf", strings.Repeat("P", 17)), want: chk("vehicles_plate_check")},
		{name: "vehicle plate twice", call: vehicle("suv", "VW", "Tiguan", w.AliceCar.Plate), want: fails("23505", "vehicles_user_id_plate_key")},
		{name: "address line1 empty", call: address("", "Berlin", "10115", false), want: chk("addresses_line1_check")},
		{name: "address city 101 characters", call: address("Weg 1", strings.Repeat("c", 101), "10115", false), want: chk("addresses_city_check")},
		{name: "address postal code blank", call: address("Weg 1", "Berlin", " ", false), want: chk("addresses_postal_code_check")},
		{name: "second default address", call: address("Weg 1", "Berlin", "10115", true), want: fails("23505", "addresses_user_id_default_key")},
		{name: "service duration 14 minutes", actor: &max, call: service("Blink", 14), want: chk("services_duration_minutes_check")},
		{name: "service duration negative", actor: &max, call: service("Blink", -60), want: chk("services_duration_minutes_check")},
		{name: "service duration 601 minutes", actor: &max, call: service("Marathon", 601), want: chk("services_duration_minutes_check")},
		{name: "service name 121 characters", actor: &max, call: service(strings.Repeat("s", 121), 60), want: chk("services_name_check")},
		{name: "service name taken", actor: &max, call: service("Exterior Wash", 60), want: fails("23505", "services_business_id_name_key")},
		{name: "add-on price negative", actor: &max, call: addon("Foam", -1, 0), want: chk("addons_price_cents_check")},
		{name: "add-on 7 minutes", actor: &max, call: addon("Foam", 100, 7), want: chk("addons_duration_minutes_check")},
		{name: "working hours weekday 7", actor: &max, call: hours(7, 8, 0, 9, 0), want: chk("working_hours_weekday_check")},
		{name: "working hours weekday negative", actor: &max, call: hours(-1, 8, 0, 9, 0), want: chk("working_hours_weekday_check")},
		{name: "working hours closing before opening", actor: &max, call: hours(1, 22, 0, 21, 0), want: chk("working_hours_opens_closes_check")},
		{name: "working hours off the quarter hour", actor: &max, call: hours(1, 21, 10, 22, 0), want: chk("working_hours_quarter_hour_check")},
		{name: "crew name blank", actor: &max, call: crew(" "), want: chk("crews_name_check")},
		{name: "crew name taken", actor: &max, call: crew("Crew A"), want: fails("23505", "crews_business_id_name_key")},
		{name: "blackout ending before it starts", actor: &max, call: blackout(nil, w.At(12, 0), w.At(11, 0)), want: fails("22000", "")},
		{name: "blackout of an empty range", actor: &max, call: blackout(nil, w.At(12, 0), w.At(12, 0)), want: chk("blackouts_during_check")},
		{name: "blackout of another business's crew", actor: &max, call: blackout(&crew2, w.At(12, 0), w.At(13, 0)), want: fails("23503", "blackouts_crew_id_business_id_fkey")},
	})
}

// Every routine that takes text refuses a 10 MB argument with the
// argument's documented rule, and its error never echoes the argument.
func TestHugeArguments(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	huge := strings.Repeat("a", 10<<20)
	id := w.Biz.ID
	u := "00000000-0000-4000-8000-000000000009"
	type call struct {
		fn    string
		actor dbtest.Actor
		args  []arg
		want  Want
	}
	bad := func(rule string) Want { return fails("22023", rule) }
	T := func(name string, v any) arg { return a(name, "text", v) }
	U := func(name, v string) arg { return a(name, "uuid", v) }
	I := func(name string, v int) arg { return a(name, "integer", v) }
	olga, alice, srv := w.Olga.Actor(), w.Alice.Actor(), service()
	cases := []call{
		{"admin_note_add", olga, []arg{U("business_id", id), U("customer_id", w.Alice.ID), T("body", huge)}, bad("note_body_invalid")},
		{"appointment_cancel", alice, []arg{U("appointment_id", w.AliceAppt.ID), T("reason", huge)}, bad("cancel_reason_invalid")},
		{"appointment_message_post", alice, []arg{U("appointment_id", w.AliceAppt.ID), T("body", huge)}, bad("message_body_invalid")},
		{"appointment_set_status", olga, []arg{U("appointment_id", w.AliceAppt.ID), T("status", huge), T("note", nil)}, bad("appointment_status_invalid")},
		{"appointment_set_status", olga, []arg{U("appointment_id", w.AliceAppt.ID), T("status", "in_progress"), T("note", huge)}, bad("status_note_invalid")},
		{"business_create", olga, []arg{T("name", huge), T("slug", "huge-one"), T("timezone", "UTC")}, bad("business_name_invalid")},
		{"business_create", olga, []arg{T("name", "n"), T("slug", huge), T("timezone", "UTC")}, bad("business_slug_invalid")},
		{"business_create", olga, []arg{T("name", "n"), T("slug", "huge-two"), T("timezone", huge)}, bad("business_timezone_invalid")},
		{"business_update", olga, []arg{U("business_id", id), T("name", huge), T("timezone", nil), a("payment_required", "boolean", nil), T("staff_email_domain", nil)}, bad("business_name_invalid")},
		{"business_update", olga, []arg{U("business_id", id), T("name", nil), T("timezone", nil), a("payment_required", "boolean", nil), T("staff_email_domain", huge)}, bad("staff_email_domain_invalid")},
		{"business_setting_set", olga, []arg{U("business_id", id), T("key", huge), I("value", 1)}, bad("setting_key_invalid")},
		{"settings_set", olga, []arg{U("business_id", id), T("key", huge), I("value", 1)}, bad("setting_key_invalid")},
		{"coupon_redeem", alice, []arg{T("code", huge), U("hold_id", w.AliceHold.ID), T("idempotency_key", "k")}, bad("coupon_code_invalid")},
		{"coupon_redeem", alice, []arg{T("code", "ABC"), U("hold_id", w.AliceHold.ID), T("idempotency_key", huge)}, bad("idempotency_key_invalid")},
		{"credits_grant", olga, []arg{U("business_id", id), U("customer_id", w.Alice.ID), I("amount", 1), T("reason", huge), T("idempotency_key", "k")}, bad("credits_reason_invalid")},
		{"credits_redeem", alice, []arg{U("appointment_id", w.AliceAppt.ID), I("amount", 1), T("idempotency_key", huge)}, bad("idempotency_key_invalid")},
		{"invitation_accept", alice, []arg{T("token", huge)}, fails("PT404", "invitation_not_found")},
		{"invitation_create", olga, []arg{U("business_id", id), T("email", huge), T("role", "staff")}, bad("invitation_email_invalid")},
		{"invitation_create", olga, []arg{U("business_id", id), T("email", "x@example.com"), T("role", huge)}, bad("member_role_invalid")},
		{"member_set_role", olga, []arg{U("business_id", id), U("user_id", w.Max.ID), T("role", huge)}, bad("member_role_invalid")},
		{"notification_mark", srv, []arg{U("notification_id", u), a("delivered", "boolean", false), T("error", huge)}, bad("notification_error_invalid")},
		{"payment_event_record", srv, []arg{T("provider_event_id", huge), T("provider_session_id", "s"), T("status", "pending"), I("amount_cents", 1)}, bad("provider_event_id_invalid")},
		{"payment_event_record", srv, []arg{T("provider_event_id", "e"), T("provider_session_id", huge), T("status", "pending"), I("amount_cents", 1)}, bad("provider_session_id_invalid")},
		{"payment_event_record", srv, []arg{T("provider_event_id", "e"), T("provider_session_id", "s"), T("status", huge), I("amount_cents", 1)}, bad("payment_status_invalid")},
		{"payment_session_record", srv, []arg{U("hold_id", w.AliceHold.ID), T("provider_session_id", huge)}, bad("provider_session_id_invalid")},
		{"verification_code_issue", srv, []arg{T("email", huge), T("purpose", "sign_in")}, bad("verification_email_invalid")},
		{"verification_code_issue", srv, []arg{T("email", "x@example.com"), T("purpose", huge)}, bad("verification_purpose_invalid")},
		{"verification_code_consume", srv, []arg{T("email", huge), T("purpose", "sign_in"), T("code", "123456")}, bad("verification_email_invalid")},
		{"verification_code_consume", srv, []arg{T("email", "x@example.com"), T("purpose", "sign_in"), T("code", huge)}, bad("verification_code_invalid")},
	}
	for _, c := range cases {
		t.Run(c.fn+"/"+c.want.Rule, func(t *testing.T) {
			err := w.DB.As(w.Ctx, c.actor, func(tx pgx.Tx) error { return rawCall(tx, c.fn, c.args...) })
			expect(t, err, c.want)
			if pe, ok := pgerr.PG(err); ok {
				if n := len(pe.Message) + len(pe.Detail) + len(pe.Hint); n > 600 {
					t.Errorf("the error is %d bytes long: it echoes the argument", n)
				}
			}
		})
	}
}
