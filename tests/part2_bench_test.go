package tests

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/dbtool-dev/dbtool/gen"
)

// BenchmarkPart2 measures two part II procedures with 8 concurrent
// callers, every call one PostgREST-like request (BEGIN, role and claims
// set transaction-locally, the call, COMMIT) on a pooled tester
// connection:
//
//   - credits_redeem: 8 customers, each with its own balance and two
//     confirmed appointments, redeem 1 credit per request (role
//     authenticated, a new idempotency key each time);
//   - payment_event_record: the payment webhook as service_role, every
//     request a distinct provider event (status pending: stored once,
//     outcome recorded) for one of 8 checkout sessions of business 1.
//     Events of one session queue on its row (FOR UPDATE); events of
//     other sessions of the business run in parallel.
//
// Metrics: ops/s (calls completed per second), tpcb-tps (pgbench's
// TPC-B-like rate with 8 clients on the same server, just before and just
// after the run: yardstick), tpcb-drift and ratio (ops/s / tpcb-tps).
func BenchmarkPart2(b *testing.B) {
	withTPCB(b)
	b.Run("credits_redeem", benchCreditsRedeem)
	b.Run("payment_event_record", benchPaymentEvents)
}

// runClients runs op(client, i) for i in [0, b.N) on benchClients
// goroutines (client = the goroutine's number) and reports ops/s against
// the yardstick.
func runClients(b *testing.B, op func(client int, i int) error) {
	var next atomic.Int64
	var wg sync.WaitGroup
	y := newYardstick(b)
	b.ResetTimer()
	for g := 0; g < benchClients; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= b.N {
					return
				}
				if err := op(g, i); err != nil {
					b.Errorf("call %d: %s", i, describe(err))
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := b.Elapsed()
	b.StopTimer()
	y.report(float64(b.N)/elapsed.Seconds(), "ops/s")
}

func benchCreditsRedeem(b *testing.B) {
	w := newWorld(b)
	ctx := w.Ctx
	request := postgrestRequests(b, w)
	type spender struct {
		c     racer
		appts [2]string
	}
	spenders := make([]spender, benchClients)
	granted := 0
	for i := range spenders {
		s := spender{c: w.newCustomer(b, fmt.Sprintf("Spender %d", i+1), fmt.Sprintf("SP-%d", i+1))}
		for d := range s.appts {
			s.appts[d] = w.Book(b, s.c.p, w.Biz.ID, w.Wash.ID, w.AtDay(1+d, 7+i, 0), s.c.vehicle.ID, s.c.address.ID).ID
		}
		// Enough credits for every call, in case one client makes them all.
		for left, k := b.N, 0; left > 0; left, k = left-10000, k+1 {
			w.grant(b, w.Biz.ID, s.c.p.ID, int32(min(left, 10000)), fmt.Sprintf("bench-%d", k))
			granted += min(left, 10000)
		}
		spenders[i] = s
	}

	runClients(b, func(client, i int) error {
		s := spenders[client]
		return request(ctx, s.c.p.Actor(), func(tx pgx.Tx) error {
			rows, err := gen.New(tx).CreditsRedeem(ctx, gen.CreditsRedeemParams{AppointmentID: s.appts[i%2], Amount: 1, IdempotencyKey: fmt.Sprintf("redeem-%d", i)})
			if err == nil && len(rows) != 1 {
				err = fmt.Errorf("credits_redeem returned %d rows", len(rows))
			}
			return err
		})
	})

	if n := w.Count(b, `public.credit_ledger where kind = 'redeem'`); n != b.N {
		b.Errorf("%d redemptions in the ledger for %d calls", n, b.N)
	}
	var left int
	w.Owner(b, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `select coalesce(sum(balance), 0)::int from public.credit_balances where business_id = $1`, w.Biz.ID).Scan(&left)
	})
	if left != granted-b.N {
		b.Errorf("the balances add up to %d, want %d granted - %d redeemed", left, granted, b.N)
	}
	if n := w.LedgerDrift(b); n != 0 {
		b.Errorf("%d balances or ledger entries disagree", n)
	}
}

func benchPaymentEvents(b *testing.B) {
	w := newWorld(b)
	ctx := w.Ctx
	request := postgrestRequests(b, w)
	sessions := make([]gen.PaymentSession, benchClients)
	for i := range sessions {
		c := w.newCustomer(b, fmt.Sprintf("Payer %d", i+1), fmt.Sprintf("PY-%d", i+1))
		sessions[i] = w.session(b, w.holdFor(b, c, w.AtDay(1, 7+i, 0)), fmt.Sprintf("cs_bench_%d", i))
	}

	runClients(b, func(client, i int) error {
		s := sessions[i%len(sessions)]
		return request(ctx, service(), func(tx pgx.Tx) error {
			rows, err := gen.New(tx).PaymentEventRecord(ctx, gen.PaymentEventRecordParams{ProviderEventID: fmt.Sprintf("evt_bench_%d", i),
				ProviderSessionID: s.ProviderSessionID, Status: "pending", AmountCents: s.AmountCents})
			if err == nil && (len(rows) != 1 || rows[0].Outcome != "recorded") {
				err = fmt.Errorf("payment_event_record returned %+v", rows)
			}
			return err
		})
	})

	if n := w.Count(b, `public.payment_events where outcome = 'recorded'`); n != b.N {
		b.Errorf("%d payment events stored for %d calls", n, b.N)
	}
}
