// Package tests holds the Go suites of the reference booking database: they
// run against real PostgreSQL through the dbtest harness (a template clone
// per world) and the sqlc bindings in gen/, acting as PostgREST would.
package tests

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // business time zones do not depend on the host's zoneinfo

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/dbtool-dev/dbtool/dbtest"
	"github.com/dbtool-dev/dbtool/gen"
	"github.com/dbtool-dev/dbtool/internal/pgerr"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// Time zones of the two businesses: one east of UTC with DST, one west.
const (
	tz1 = "Europe/Berlin"
	tz2 = "America/New_York"
	// Working hours of both businesses, every weekday, local time.
	opensAt  = 7
	closesAt = 21
	// bookingDays: the booking day is this many local days ahead, far enough
	// for the 24-hour customer cutoffs and for "now" never to reach it.
	bookingDays = 3
)

// World is the fixture every suite starts from: two businesses with staff,
// catalogue, working hours and crews, customers with vehicles and
// addresses, and a few bookings, all made through the bindings as the
// people who would make them.
type World struct {
	DB  *dbtest.Database
	Ctx context.Context

	// Business 1 ("Shine Mobile", Berlin) and its people.
	Biz                    gen.Business
	Loc                    *time.Location
	Day                    time.Time // local midnight of the booking day
	Olga, Max, Sam, Admin  dbtest.Persona
	Wash, Detail, Retired  gen.Service // Wash 60 min (sedan, suv), Detail 90 min (sedan), Retired inactive
	Wax, OldWax            gen.Addon   // Wax 15 min active, OldWax inactive
	Crews                  []gen.Crew  // Crew A, Crew B, Crew C
	PendingInvitationEmail string
	PendingToken           string // invitation_create's token for PendingInvitationEmail

	// Business 2 ("Sparkle Vans", New York): the other tenant.
	Biz2        gen.Business
	Loc2        *time.Location
	Day2        time.Time
	Nora, Stan  dbtest.Persona
	Rinse2      gen.Service
	Crew2       gen.Crew
	NoraInvitee string

	// Customers. Alice and Bob book at business 1, Dave at business 2,
	// Carol drives a truck (no Wash price for trucks).
	Alice, Bob, Carol, Dave                 dbtest.Persona
	AliceCar, BobCar, CarolTruck, DaveCar   gen.Vehicle
	AliceHome, BobHome, CarolHome, DaveHome gen.Address

	// Bookings present in every world.
	AliceHold, BobHold, DaveHold gen.Hold        // active holds
	AliceAppt, BobAppt, DaveAppt gen.Appointment // confirmed appointments
}

// errRollback makes a request roll back after fn succeeded (Try).
var errRollback = errors.New("rolled back on purpose")

// newWorld clones the template and builds the fixture.
func newWorld(tb testing.TB) *World {
	tb.Helper()
	w := &World{DB: dbtest.New(tb), Ctx: context.Background()}
	var err error
	if w.Loc, err = time.LoadLocation(tz1); err != nil {
		tb.Fatal(err)
	}
	if w.Loc2, err = time.LoadLocation(tz2); err != nil {
		tb.Fatal(err)
	}
	w.Day = localDay(w.Loc, bookingDays)
	w.Day2 = localDay(w.Loc2, bookingDays)

	w.Olga = w.DB.Persona(tb, "Olga Owner")
	w.Max = w.DB.Persona(tb, "Max Manager")
	w.Sam = w.DB.Persona(tb, "Sam Staff")
	w.Admin = w.DB.Persona(tb, "Ada Admin")
	w.Nora = w.DB.Persona(tb, "Nora Owner")
	w.Stan = w.DB.Persona(tb, "Stan Staff")
	w.Alice = w.DB.Persona(tb, "Alice")
	w.Bob = w.DB.Persona(tb, "Bob")
	w.Carol = w.DB.Persona(tb, "Carol")
	w.Dave = w.DB.Persona(tb, "Dave")
	w.Owner(tb, func(tx pgx.Tx) error {
		_, err := tx.Exec(w.Ctx, `insert into public.platform_admins (user_id, note) values ($1, 'support')`, w.Admin.ID)
		return err
	})

	// Business 1: Olga creates it, invites Max (manager) and Sam (staff).
	w.Biz = w.createBusiness(tb, w.Olga, "Shine Mobile", "shine-mobile", tz1)
	w.invite(tb, w.Olga, w.Biz.ID, w.Max, "manager")
	w.invite(tb, w.Max, w.Biz.ID, w.Sam, "staff")
	w.PendingInvitationEmail = "pending.person@example.test"
	w.As(tb, w.Olga.Actor(), func(q *gen.Queries) error {
		var err error
		w.PendingToken, err = q.InvitationCreate(w.Ctx, gen.InvitationCreateParams{BusinessID: w.Biz.ID, Email: w.PendingInvitationEmail, Role: "staff"})
		return err
	})
	// Max (catalog.manage, schedule.manage) builds the catalogue and schedule.
	w.As(tb, w.Max.Actor(), func(q *gen.Queries) error {
		var err error
		if w.Wash, err = q.ServiceCreate(w.Ctx, gen.ServiceCreateParams{BusinessID: w.Biz.ID, Name: "Exterior Wash", DurationMinutes: 60}); err != nil {
			return err
		}
		if w.Detail, err = q.ServiceCreate(w.Ctx, gen.ServiceCreateParams{BusinessID: w.Biz.ID, Name: "Interior Detail", DurationMinutes: 90}); err != nil {
			return err
		}
		if w.Retired, err = q.ServiceCreate(w.Ctx, gen.ServiceCreateParams{BusinessID: w.Biz.ID, Name: "Retired Polish", DurationMinutes: 30}); err != nil {
			return err
		}
		if w.Wax, err = q.AddonCreate(w.Ctx, gen.AddonCreateParams{BusinessID: w.Biz.ID, Name: "Wax", PriceCents: 1500, DurationMinutes: 15}); err != nil {
			return err
		}
		if w.OldWax, err = q.AddonCreate(w.Ctx, gen.AddonCreateParams{BusinessID: w.Biz.ID, Name: "Old Wax", PriceCents: 900, DurationMinutes: 15}); err != nil {
			return err
		}
		for _, name := range []string{"Crew A", "Crew B", "Crew C"} {
			c, err := q.CrewCreate(w.Ctx, gen.CrewCreateParams{BusinessID: w.Biz.ID, Name: name})
			if err != nil {
				return err
			}
			w.Crews = append(w.Crews, c)
		}
		return w.setWorkingHours(q, w.Biz.ID, opensAt, closesAt)
	})
	w.setPrices(tb, w.Max.Actor(), w.Biz.ID, w.Wash.ID, map[string]int32{"sedan": 4000, "suv": 5000})
	w.setPrices(tb, w.Max.Actor(), w.Biz.ID, w.Detail.ID, map[string]int32{"sedan": 9000})
	w.setPrices(tb, w.Max.Actor(), w.Biz.ID, w.Retired.ID, map[string]int32{"sedan": 2000})
	w.AsTx(tb, w.Max.Actor(), func(tx pgx.Tx) error {
		q := gen.New(tx)
		if _, err := tx.Exec(w.Ctx, `update public.services set active = false where id = $1`, w.Retired.ID); err != nil {
			return err
		}
		if _, err := tx.Exec(w.Ctx, `update public.addons set active = false where id = $1`, w.OldWax.ID); err != nil {
			return err
		}
		// A crew blackout far from the booking day: a row to see, nothing blocked.
		crew := w.Crews[2].ID
		reason := "van service"
		_, err := q.BlackoutCreate(w.Ctx, gen.BlackoutCreateParams{BusinessID: w.Biz.ID, CrewID: &crew,
			During: tsRange(w.Day.AddDate(0, 0, 10), w.Day.AddDate(0, 0, 11)), Reason: &reason})
		return err
	})
	w.Retired.Active, w.OldWax.Active = false, false

	// Business 2: Nora creates it and invites Stan; Nora runs the catalogue.
	w.Biz2 = w.createBusiness(tb, w.Nora, "Sparkle Vans", "sparkle-vans", tz2)
	w.invite(tb, w.Nora, w.Biz2.ID, w.Stan, "staff")
	w.NoraInvitee = "someone.else@example.test"
	w.As(tb, w.Nora.Actor(), func(q *gen.Queries) error {
		var err error
		if _, err = q.InvitationCreate(w.Ctx, gen.InvitationCreateParams{BusinessID: w.Biz2.ID, Email: w.NoraInvitee, Role: "manager"}); err != nil {
			return err
		}
		if w.Rinse2, err = q.ServiceCreate(w.Ctx, gen.ServiceCreateParams{BusinessID: w.Biz2.ID, Name: "Quick Rinse", DurationMinutes: 30}); err != nil {
			return err
		}
		if w.Crew2, err = q.CrewCreate(w.Ctx, gen.CrewCreateParams{BusinessID: w.Biz2.ID, Name: "Crew N"}); err != nil {
			return err
		}
		if _, err = q.AddonCreate(w.Ctx, gen.AddonCreateParams{BusinessID: w.Biz2.ID, Name: "Tyre Shine", PriceCents: 500, DurationMinutes: 0}); err != nil {
			return err
		}
		_, err = q.BlackoutCreate(w.Ctx, gen.BlackoutCreateParams{BusinessID: w.Biz2.ID,
			During: tsRange(w.Day2.AddDate(0, 0, 20), w.Day2.AddDate(0, 0, 21))})
		if err != nil {
			return err
		}
		return w.setWorkingHours(q, w.Biz2.ID, opensAt, closesAt)
	})
	w.setPrices(tb, w.Nora.Actor(), w.Biz2.ID, w.Rinse2.ID, map[string]int32{"sedan": 2500, "suv": 3000, "truck": 3500, "van": 3500})

	// Customers: a profile, a vehicle and a home address each.
	w.AliceCar, w.AliceHome = w.customer(tb, w.Alice, "sedan", "A-AL-1")
	w.BobCar, w.BobHome = w.customer(tb, w.Bob, "suv", "B-BO-2")
	w.CarolTruck, w.CarolHome = w.customer(tb, w.Carol, "truck", "C-CA-3")
	w.DaveCar, w.DaveHome = w.customer(tb, w.Dave, "sedan", "D-DA-4")
	for _, p := range []dbtest.Persona{w.Olga, w.Sam, w.Nora, w.Stan} {
		w.profile(tb, p)
	}

	// Bookings: an appointment (with an add-on and messages) and a hold per customer.
	w.AliceAppt = w.Book(tb, w.Alice, w.Biz.ID, w.Wash.ID, w.At(9, 0), w.AliceCar.ID, w.AliceHome.ID, w.Wax.ID)
	w.BobAppt = w.Book(tb, w.Bob, w.Biz.ID, w.Wash.ID, w.At(13, 0), w.BobCar.ID, w.BobHome.ID)
	w.DaveAppt = w.Book(tb, w.Dave, w.Biz2.ID, w.Rinse2.ID, w.At2(10, 0), w.DaveCar.ID, w.DaveHome.ID)
	w.AliceHold = w.Hold(tb, w.Alice, w.Biz.ID, w.Wash.ID, w.At(15, 0), w.AliceCar.ID, w.AliceHome.ID, w.Wax.ID)
	w.BobHold = w.Hold(tb, w.Bob, w.Biz.ID, w.Wash.ID, w.At(17, 0), w.BobCar.ID, w.BobHome.ID)
	w.DaveHold = w.Hold(tb, w.Dave, w.Biz2.ID, w.Rinse2.ID, w.At2(12, 0), w.DaveCar.ID, w.DaveHome.ID)
	w.post(tb, w.Alice, w.AliceAppt.ID, "Please ring the bell.")
	w.post(tb, w.Sam, w.AliceAppt.ID, "We will be there at nine.")
	w.post(tb, w.Dave, w.DaveAppt.ID, "Gate code 1234.")
	return w
}

// localDay is local midnight days ahead of today in loc.
func localDay(loc *time.Location, days int) time.Time {
	now := time.Now().In(loc)
	return time.Date(now.Year(), now.Month(), now.Day()+days, 0, 0, 0, 0, loc)
}

// At is hh:mm local time of business 1 on the booking day.
func (w *World) At(hh, mm int) time.Time {
	return time.Date(w.Day.Year(), w.Day.Month(), w.Day.Day(), hh, mm, 0, 0, w.Loc)
}

// At2 is hh:mm local time of business 2 on its booking day.
func (w *World) At2(hh, mm int) time.Time {
	return time.Date(w.Day2.Year(), w.Day2.Month(), w.Day2.Day(), hh, mm, 0, 0, w.Loc2)
}

// AtDay is hh:mm local time of business 1, days after the booking day.
func (w *World) AtDay(days, hh, mm int) time.Time {
	return time.Date(w.Day.Year(), w.Day.Month(), w.Day.Day()+days, hh, mm, 0, 0, w.Loc)
}

// Owner runs fn as the database owner (setup and checks only).
func (w *World) Owner(tb testing.TB, fn func(tx pgx.Tx) error) {
	tb.Helper()
	if err := w.DB.AsOwner(w.Ctx, fn); err != nil {
		tb.Fatalf("as owner: %v", err)
	}
}

// As runs fn in one committed request as actor, failing tb on an error.
func (w *World) As(tb testing.TB, actor dbtest.Actor, fn func(q *gen.Queries) error) {
	tb.Helper()
	if err := w.DB.As(w.Ctx, actor, func(tx pgx.Tx) error { return fn(gen.New(tx)) }); err != nil {
		tb.Fatalf("as %s %v: %v", actor.Role, actor.Claims["sub"], describe(err))
	}
}

// AsTx is As for steps that need plain statements next to the bindings.
func (w *World) AsTx(tb testing.TB, actor dbtest.Actor, fn func(tx pgx.Tx) error) {
	tb.Helper()
	if err := w.DB.As(w.Ctx, actor, fn); err != nil {
		tb.Fatalf("as %s %v: %v", actor.Role, actor.Claims["sub"], describe(err))
	}
}

// Call runs fn in one request as actor and returns its error (committed
// on success, like PostgREST).
func (w *World) Call(actor dbtest.Actor, fn func(q *gen.Queries) error) error {
	return w.DB.As(w.Ctx, actor, func(tx pgx.Tx) error { return fn(gen.New(tx)) })
}

// Try runs fn in one request as actor and always rolls the request back:
// a success leaves the world as it was, so cases can share one world.
func (w *World) Try(actor dbtest.Actor, fn func(q *gen.Queries) error) error {
	err := w.DB.As(w.Ctx, actor, func(tx pgx.Tx) error {
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

func (w *World) createBusiness(tb testing.TB, owner dbtest.Persona, name, slug, tz string) gen.Business {
	tb.Helper()
	var b gen.Business
	w.As(tb, owner.Actor(), func(q *gen.Queries) error {
		rows, err := q.BusinessCreate(w.Ctx, gen.BusinessCreateParams{Name: name, Slug: slug, Timezone: tz})
		if err != nil {
			return err
		}
		if len(rows) != 1 {
			return fmt.Errorf("business_create returned %d rows", len(rows))
		}
		b = rows[0]
		return nil
	})
	return b
}

// invite makes p a member of business with role through invitation_create
// (by inviter) and invitation_accept (by p).
func (w *World) invite(tb testing.TB, inviter dbtest.Persona, business string, p dbtest.Persona, role string) {
	tb.Helper()
	var token string
	w.As(tb, inviter.Actor(), func(q *gen.Queries) error {
		var err error
		token, err = q.InvitationCreate(w.Ctx, gen.InvitationCreateParams{BusinessID: business, Email: p.Email, Role: role})
		return err
	})
	w.As(tb, p.Actor(), func(q *gen.Queries) error {
		rows, err := q.InvitationAccept(w.Ctx, token)
		if err == nil && (len(rows) != 1 || rows[0].Role != role) {
			err = fmt.Errorf("invitation_accept returned %+v", rows)
		}
		return err
	})
}

func (w *World) setWorkingHours(q *gen.Queries, business string, opens, closes int) error {
	for wd := int16(0); wd < 7; wd++ {
		if _, err := q.WorkingHoursSet(w.Ctx, gen.WorkingHoursSetParams{BusinessID: business, Weekday: wd,
			Opens: clock(opens, 0), Closes: clock(closes, 0)}); err != nil {
			return err
		}
	}
	return nil
}

// setPrices writes service prices as actor. The ServicePriceSet binding
// leaves business_id out (see TestKnownBugServicePriceSetOmitsBusinessID), so this uses
// the same statement with the column the table requires.
func (w *World) setPrices(tb testing.TB, actor dbtest.Actor, business, service string, prices map[string]int32) {
	tb.Helper()
	types := make([]string, 0, len(prices))
	for vt := range prices {
		types = append(types, vt)
	}
	sort.Strings(types)
	err := w.DB.As(w.Ctx, actor, func(tx pgx.Tx) error {
		for _, vt := range types {
			if _, err := tx.Exec(w.Ctx, `insert into public.service_prices (service_id, business_id, vehicle_type, price_cents)
				values ($1, $2, $3, $4)
				on conflict (service_id, vehicle_type) do update set price_cents = excluded.price_cents`,
				service, business, vt, prices[vt]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatalf("set prices: %v", describe(err))
	}
}

// customer gives p a profile, a vehicle of vehicleType and a default address.
func (w *World) customer(tb testing.TB, p dbtest.Persona, vehicleType, plate string) (gen.Vehicle, gen.Address) {
	tb.Helper()
	var v gen.Vehicle
	var a gen.Address
	w.As(tb, p.Actor(), func(q *gen.Queries) error {
		name := p.Name
		if _, err := q.ProfileCreate(w.Ctx, gen.ProfileCreateParams{DisplayName: &name}); err != nil {
			return err
		}
		var err error
		if v, err = q.VehicleCreate(w.Ctx, gen.VehicleCreateParams{VehicleType: vehicleType, Make: "Volkswagen", Model: "Golf", Plate: plate}); err != nil {
			return err
		}
		a, err = q.AddressCreate(w.Ctx, gen.AddressCreateParams{Line1: "Hauptstrasse 1", City: "Berlin", PostalCode: "10115", IsDefault: true})
		return err
	})
	return v, a
}

func (w *World) profile(tb testing.TB, p dbtest.Persona) {
	tb.Helper()
	w.As(tb, p.Actor(), func(q *gen.Queries) error {
		name := p.Name
		_, err := q.ProfileCreate(w.Ctx, gen.ProfileCreateParams{DisplayName: &name})
		return err
	})
}

// Hold makes an active hold as customer (hold_create).
func (w *World) Hold(tb testing.TB, customer dbtest.Persona, business, service string, start time.Time, vehicle, address string, addons ...string) gen.Hold {
	tb.Helper()
	var h gen.Hold
	w.As(tb, customer.Actor(), func(q *gen.Queries) error {
		rows, err := q.HoldCreate(w.Ctx, holdParams(business, service, start, vehicle, address, addons...))
		if err != nil {
			return err
		}
		if len(rows) != 1 {
			return fmt.Errorf("hold_create returned %d rows", len(rows))
		}
		h = rows[0]
		return nil
	})
	return h
}

// Book makes a confirmed appointment as customer: hold_create, then
// hold_confirm, each its own request.
func (w *World) Book(tb testing.TB, customer dbtest.Persona, business, service string, start time.Time, vehicle, address string, addons ...string) gen.Appointment {
	tb.Helper()
	h := w.Hold(tb, customer, business, service, start, vehicle, address, addons...)
	var a gen.Appointment
	w.As(tb, customer.Actor(), func(q *gen.Queries) error {
		rows, err := q.HoldConfirm(w.Ctx, h.ID)
		if err != nil {
			return err
		}
		if len(rows) != 1 {
			return fmt.Errorf("hold_confirm returned %d rows", len(rows))
		}
		a = rows[0]
		return nil
	})
	return a
}

func (w *World) post(tb testing.TB, author dbtest.Persona, appointment, body string) {
	tb.Helper()
	w.As(tb, author.Actor(), func(q *gen.Queries) error {
		_, err := q.AppointmentMessagePost(w.Ctx, gen.AppointmentMessagePostParams{AppointmentID: appointment, Body: body})
		return err
	})
}

func holdParams(business, service string, start time.Time, vehicle, address string, addons ...string) gen.HoldCreateParams {
	return gen.HoldCreateParams{BusinessID: business, ServiceID: service, SlotStart: start,
		VehicleID: vehicle, AddressID: address, AddonIds: uuidArray(addons...)}
}

// uuidArray is the uuid[] literal the bindings take for add-on ids (sqlc
// maps the array to *string); nil for no add-ons.
func uuidArray(ids ...string) *string {
	if len(ids) == 0 {
		return nil
	}
	s := "{" + strings.Join(ids, ",") + "}"
	return &s
}

func clock(h, m int) pgtype.Time {
	return pgtype.Time{Microseconds: int64(h*3600+m*60) * 1e6, Valid: true}
}

func pgDate(t time.Time) pgtype.Date {
	return pgtype.Date{Time: time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC), Valid: true}
}

// tsRange is [from, to).
func tsRange(from, to time.Time) pgtype.Range[pgtype.Timestamptz] {
	return pgtype.Range[pgtype.Timestamptz]{
		Lower: pgtype.Timestamptz{Time: from, Valid: true}, Upper: pgtype.Timestamptz{Time: to, Valid: true},
		LowerType: pgtype.Inclusive, UpperType: pgtype.Exclusive, Valid: true,
	}
}

// describe renders a server error with its SQLSTATE and rule name.
func describe(err error) string {
	if err == nil {
		return "success"
	}
	if pe, ok := pgerr.PG(err); ok {
		return fmt.Sprintf("%s [%s] %s", pe.Code, pe.ConstraintName, pe.Message)
	}
	return err.Error()
}

// Want is the expected outcome of a call: success, or an SQLSTATE with the
// rule name in the error's CONSTRAINT field ("" for PostgreSQL's own
// privilege errors, which name no constraint).
type Want struct {
	State string
	Rule  string
}

var (
	ok = Want{}
	// denied is PostgreSQL refusing the call or statement itself (no
	// EXECUTE or table privilege, or a failed WITH CHECK): 42501, no rule.
	denied = Want{State: "42501"}
)

func fails(state, rule string) Want { return Want{State: state, Rule: rule} }

func (w Want) String() string {
	if w.State == "" {
		return "success"
	}
	if w.Rule == "" {
		return w.State + " (no rule)"
	}
	return w.State + " " + w.Rule
}

// expect fails t unless err matches want.
func expect(t testing.TB, err error, want Want) {
	t.Helper()
	if want.State == "" {
		if err != nil {
			t.Errorf("got %s, want success", describe(err))
		}
		return
	}
	pe, isPG := pgerr.PG(err)
	if !isPG {
		t.Errorf("got %v, want %s", err, want)
		return
	}
	if pe.Code != want.State || pe.ConstraintName != want.Rule {
		t.Errorf("got %s, want %s", describe(err), want)
		return
	}
	// A rule raised by a routine reaches PostgREST clients in details (they
	// never see the constraint field); constraints PostgreSQL raises itself
	// name themselves in the message.
	if want.Rule != "" && raisedByRoutine(pe) && pe.Detail != want.Rule {
		t.Errorf("rule %s is not in the error's detail (%q): PostgREST clients would not see it", want.Rule, pe.Detail)
	}
}

// raisedByRoutine tells an error a routine raised (RAISE in PL/pgSQL) from
// a constraint violation PostgreSQL raised itself.
func raisedByRoutine(pe *pgconn.PgError) bool {
	first, _, _ := strings.Cut(pe.Where, "\n")
	return strings.HasPrefix(first, "PL/pgSQL function") && strings.HasSuffix(first, "at RAISE")
}

// Snapshot is a fingerprint of every table of the public schema (plus
// auth.users), taken as the owner: equal snapshots mean nothing was written.
type Snapshot map[string]string

func (w *World) Snapshot(tb testing.TB) Snapshot {
	tb.Helper()
	s := Snapshot{}
	w.Owner(tb, func(tx pgx.Tx) error {
		rows, err := tx.Query(w.Ctx, `select format('%I.%I', schemaname, tablename) from pg_tables
			where schemaname = 'public' or (schemaname = 'auth' and tablename = 'users') order by 1`)
		if err != nil {
			return err
		}
		tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		parts := make([]string, len(tables))
		for i, t := range tables {
			parts[i] = fmt.Sprintf(`select %s, count(*)::text || ':' || md5(coalesce(string_agg(x::text, '|' order by x::text), '')) from %s x`,
				quoteLiteral(t), t)
		}
		rows, err = tx.Query(w.Ctx, strings.Join(parts, " union all "))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var name, fp string
			if err := rows.Scan(&name, &fp); err != nil {
				return err
			}
			s[name] = fp
		}
		return rows.Err()
	})
	return s
}

// Diff lists the tables whose content differs.
func (s Snapshot) Diff(o Snapshot) []string {
	var d []string
	for k, v := range s {
		if o[k] != v {
			d = append(d, k)
		}
	}
	sort.Strings(d)
	return d
}

func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// Count counts rows as the owner: select count(*) from <from> (with args).
func (w *World) Count(tb testing.TB, from string, args ...any) int {
	tb.Helper()
	var n int
	w.Owner(tb, func(tx pgx.Tx) error {
		return tx.QueryRow(w.Ctx, "select count(*) from "+from, args...).Scan(&n)
	})
	return n
}

// Overlaps counts pairs of active appointments of one crew that overlap
// (the invariant appointments_crew_id_slot_excl guards), as the owner.
func (w *World) Overlaps(tb testing.TB) int {
	return w.Count(tb, `public.appointments a join public.appointments b
		on a.crew_id = b.crew_id and a.id < b.id and a.slot && b.slot
		where a.status in ('confirmed', 'in_progress') and b.status in ('confirmed', 'in_progress')`)
}
