package tests

import (
	"context"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/dbtool-dev/dbtool/dbtest"
	"github.com/dbtool-dev/dbtool/gen"
	"github.com/dbtool-dev/dbtool/internal/pgbench"
	"github.com/dbtool-dev/dbtool/internal/pgerr"
	"github.com/dbtool-dev/dbtool/internal/pgtest"
)

const (
	benchClients = 8
	// benchPerCustomer bookings per customer stay under the business's
	// max_upcoming_appointments_per_customer (set to its maximum, 50).
	benchPerCustomer = 40
	benchTZ          = "Asia/Tokyo" // no DST: every local day has 96 quarter hours
)

// tpcbURL is the empty database pgbench runs in, made by withTPCB for the
// duration of a top-level benchmark.
var tpcbURL string

// withTPCB makes the database pgbench's tables live in while the top-level
// benchmark b runs (its sub-benchmarks share it).
func withTPCB(b *testing.B) {
	b.Helper()
	if _, err := pgbench.Find(); err != nil {
		b.Fatalf("pgbench TPC-B: %v", err)
	}
	tpcbURL = pgtest.EmptyDatabase(b)
	b.Cleanup(func() { tpcbURL = "" })
}

// tpcbRate is pgbench's TPC-B-like rate on the same server, 8 clients for
// 3 s.
func tpcbRate(b *testing.B) float64 {
	b.Helper()
	if tpcbURL == "" {
		b.Fatal("tpcbRate outside withTPCB")
	}
	tps, err := pgbench.TPCB(context.Background(), tpcbURL, benchClients, 3*time.Second)
	if err != nil {
		b.Fatalf("pgbench TPC-B: %v", err)
	}
	return tps
}

// yardstick is the TPC-B rate a run is divided by, taken just before the
// run and again just after it: on a shared machine whose speed drifts
// (here the same run measured 0.23x and 0.34x with the rate taken once per
// process, seconds before), the mean of both sides is the machine the run
// had, and tpcb-drift (|after - before| / mean) shows how much it moved.
// The framework's first call of a benchmark (b.N == 1, not reported) is
// not measured.
type yardstick struct {
	b      *testing.B
	before float64
}

// newYardstick takes the rate before a run: call it after the run's setup,
// right before its timed part.
func newYardstick(b *testing.B) *yardstick {
	y := &yardstick{b: b}
	if b.N > 1 {
		y.before = tpcbRate(b)
	}
	return y
}

// report takes the rate after the run and reports rate (in unit),
// tpcb-tps, tpcb-drift and ratio (rate / tpcb-tps).
func (y *yardstick) report(rate float64, unit string) {
	b := y.b
	b.ReportMetric(rate, unit)
	if y.before == 0 {
		return
	}
	after := tpcbRate(b)
	tps := (y.before + after) / 2
	b.ReportMetric(tps, "tpcb-tps")
	b.ReportMetric(math.Abs(after-y.before)/tps, "tpcb-drift")
	b.ReportMetric(rate/tps, "ratio")
}

// BenchmarkBooking measures hold_create + hold_confirm (one booking = two
// PostgREST-like requests as the customer, role authenticated) with 8
// concurrent customers:
//
//   - distinct-slots: every booking takes its own 15-minute slot;
//   - last-slots: groups of 8 consecutive bookings aim at the same slot of
//     a one-crew business, so 7 of 8 lose with PT409 slot_unavailable
//     (counted, not failures).
//
// Metrics: holds/s (bookings completed per second), attempts/s,
// conflicts/op, tpcb-tps (pgbench on the same server, just before and just
// after the run: yardstick), tpcb-drift and ratio (holds/s / tpcb-tps).
//
// Each runs twice: "harness" makes every request with db.As (which also
// looks up the tester role on a fresh admin connection per call, under a
// process-wide lock), "postgrest" makes the same request (dbtest.Actor.Begin:
// BEGIN, role and claims set locally, the call, COMMIT) on a pooled tester
// connection, as PostgREST does: the database's own rate.
func BenchmarkBooking(b *testing.B) {
	withTPCB(b)
	for _, via := range []string{"harness", "postgrest"} {
		b.Run(via+"/distinct-slots", func(b *testing.B) { benchBooking(b, via, 1) })
		b.Run(via+"/last-slots", func(b *testing.B) { benchBooking(b, via, benchClients) })
	}
}

// requester makes one request as actor.
type requester func(ctx context.Context, actor dbtest.Actor, fn func(tx pgx.Tx) error) error

// postgrestRequests returns a requester over its own pool of tester
// connections: one transaction per request, like PostgREST's wrapper.
func postgrestRequests(b *testing.B, w *World) requester {
	b.Helper()
	tester, err := dbtest.TesterFor(w.Ctx, w.DB.Template.ServerURL)
	if err != nil {
		b.Fatal(err)
	}
	cfg, err := pgxpool.ParseConfig(tester.URLAs(w.DB.URL))
	if err != nil {
		b.Fatal(err)
	}
	cfg.MaxConns = 2 * benchClients
	pool, err := pgxpool.NewWithConfig(w.Ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(pool.Close)
	return func(ctx context.Context, actor dbtest.Actor, fn func(tx pgx.Tx) error) error {
		conn, err := pool.Acquire(ctx)
		if err != nil {
			return err
		}
		defer conn.Release()
		tx, err := actor.Begin(ctx, conn)
		if err != nil {
			return err
		}
		if err := fn(tx); err != nil {
			tx.Rollback(ctx)
			return err
		}
		return tx.Commit(ctx)
	}
}

// benchBooking runs b.N booking attempts; attempt i takes slot i/share.
func benchBooking(b *testing.B, via string, share int) {
	w := newWorld(b)
	ctx := w.Ctx
	request := requester(w.DB.As)
	if via == "postgrest" {
		request = postgrestRequests(b, w)
	}
	tokyo, err := time.LoadLocation(benchTZ)
	if err != nil {
		b.Fatal(err)
	}
	day := localDay(tokyo, 2)
	biz := w.createBusiness(b, w.Olga, "Bench Wash", "bench-wash", benchTZ)
	var svc gen.Service
	w.As(b, w.Olga.Actor(), func(q *gen.Queries) error {
		if _, err := q.CrewCreate(ctx, gen.CrewCreateParams{BusinessID: biz.ID, Name: "Crew 1"}); err != nil {
			return err
		}
		var err error
		if svc, err = q.ServiceCreate(ctx, gen.ServiceCreateParams{BusinessID: biz.ID, Name: "Rinse", DurationMinutes: 15}); err != nil {
			return err
		}
		for key, v := range map[string]int32{"max_active_holds_per_customer": 20, "max_upcoming_appointments_per_customer": 50} {
			if err := one(q.BusinessSettingSet(ctx, gen.BusinessSettingSetParams{BusinessID: biz.ID, Key: key, Value: &v})); err != nil {
				return err
			}
		}
		return w.setWorkingHours(q, biz.ID, 0, 24)
	})
	w.setPrices(b, w.Olga.Actor(), biz.ID, svc.ID, map[string]int32{"sedan": 1000})

	// Enough customers that none passes its cap: attempt i is made by
	// customer i%8 + 8*(i/(8*40)).
	groups := (b.N + benchClients*benchPerCustomer - 1) / (benchClients * benchPerCustomer)
	customers := make([]racer, groups*benchClients)
	for i := range customers {
		p := w.DB.Persona(b, fmt.Sprintf("Bench Customer %d", i+1))
		v, a := w.customer(b, p, "sedan", fmt.Sprintf("BC-%d", i+1))
		customers[i] = racer{p, v, a}
	}
	slotStart := func(slot int) time.Time {
		return time.Date(day.Year(), day.Month(), day.Day()+slot/96, 0, 15*(slot%96), 0, 0, tokyo)
	}

	// Client g makes attempts g, g+8, g+16, ...: each customer is only ever
	// served by one client, so the 8 clients are 8 customers booking at the
	// same time (a shared attempt counter let two clients book for the same
	// customer at once, queueing on that customer's lock).
	var booked, conflicts atomic.Int64
	var wg sync.WaitGroup
	y := newYardstick(b)
	b.ResetTimer()
	for g := 0; g < benchClients; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := g; i < b.N; i += benchClients {
				c := customers[i%benchClients+benchClients*(i/(benchClients*benchPerCustomer))]
				actor := c.p.Actor()
				var hold gen.Hold
				err := request(ctx, actor, func(tx pgx.Tx) error {
					rows, err := gen.New(tx).HoldCreate(ctx, holdParams(biz.ID, svc.ID, slotStart(i/share), c.vehicle.ID, c.address.ID))
					if err == nil {
						hold = rows[0]
					}
					return err
				})
				if err != nil {
					if pe, isPG := pgerr.PG(err); isPG && pe.Code == "PT409" && pe.ConstraintName == "slot_unavailable" {
						conflicts.Add(1)
						continue
					}
					b.Errorf("hold_create: %s", describe(err))
					return
				}
				err = request(ctx, actor, func(tx pgx.Tx) error {
					_, err := gen.New(tx).HoldConfirm(ctx, hold.ID)
					return err
				})
				if err != nil {
					b.Errorf("hold_confirm: %s", describe(err))
					return
				}
				booked.Add(1)
			}
		}()
	}
	wg.Wait()
	elapsed := b.Elapsed()
	b.StopTimer()

	if n := w.Count(b, `public.appointments where business_id = $1`, biz.ID); n != int(booked.Load()) {
		b.Errorf("%d appointments for %d bookings", n, booked.Load())
	}
	if n := w.Overlaps(b); n != 0 {
		b.Errorf("%d overlapping appointments", n)
	}
	if share > 1 {
		// Every slot aimed at was taken exactly once.
		if want := int64((b.N + share - 1) / share); booked.Load() != want {
			b.Errorf("%d bookings on %d contested slots", booked.Load(), want)
		}
	} else if conflicts.Load() != 0 {
		b.Errorf("%d conflicts on distinct slots", conflicts.Load())
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "attempts/s")
	b.ReportMetric(float64(conflicts.Load())/float64(b.N), "conflicts/op")
	y.report(float64(booked.Load())/elapsed.Seconds(), "holds/s")
}
