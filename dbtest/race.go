package dbtest

import (
	"context"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5"

	"github.com/dbtool-dev/dbtool/internal/pgerr"
)

// Outcome is what one caller got in one round of a race.
type Outcome[T any] struct {
	Round    int
	Caller   int
	Value    T
	Err      error
	SQLState string // of Err, when it came from the server
}

// OK reports whether the call succeeded (and committed).
func (o Outcome[T]) OK() bool { return o.Err == nil }

// RaceOptions configure Race.
type RaceOptions struct {
	Rounds int // default 1
	// Setup runs before each round (e.g. as the owner, to reset state).
	Setup func(ctx context.Context, round int) error
}

// Race runs fn for every actor at once, R rounds: each caller has its own
// connection and its own request (transaction with its role and claims set)
// opened before a barrier; when all are ready the barrier opens and every fn
// runs truly concurrently, then commits (or rolls back on error). It returns
// every outcome of every round, so a test can state its invariants ("exactly
// one succeeds", "balance never negative").
func Race[T any](ctx context.Context, db *Database, actors []Actor, opts RaceOptions, fn func(ctx context.Context, tx pgx.Tx, caller int) (T, error)) ([][]Outcome[T], error) {
	if opts.Rounds <= 0 {
		opts.Rounds = 1
	}
	var extra []string
	for _, a := range actors {
		if a.Role != "anon" && a.Role != "authenticated" && a.Role != "service_role" {
			extra = append(extra, a.Role)
		}
	}
	pool, err := db.apiPool(ctx, extra...)
	if err != nil {
		return nil, err
	}
	// One dedicated connection per caller, for all rounds.
	conns := make([]*pgx.Conn, len(actors))
	for i := range actors {
		c, err := pool.Acquire(ctx)
		if err != nil {
			return nil, err
		}
		defer c.Release()
		conns[i] = c.Conn()
	}
	rounds := make([][]Outcome[T], opts.Rounds)
	for r := 0; r < opts.Rounds; r++ {
		if opts.Setup != nil {
			if err := opts.Setup(ctx, r); err != nil {
				return rounds, fmt.Errorf("setup of round %d: %w", r, err)
			}
		}
		out := make([]Outcome[T], len(actors))
		var ready, done sync.WaitGroup
		start := make(chan struct{})
		for i, a := range actors {
			ready.Add(1)
			done.Add(1)
			go func() {
				defer done.Done()
				o := Outcome[T]{Round: r, Caller: i}
				tx, err := a.Begin(ctx, conns[i])
				ready.Done()
				if err != nil {
					o.Err = err
					out[i] = o
					return
				}
				<-start
				o.Value, o.Err = fn(ctx, tx, i)
				if o.Err == nil {
					o.Err = tx.Commit(ctx)
				} else {
					tx.Rollback(ctx)
				}
				o.SQLState = pgerr.SQLState(o.Err)
				out[i] = o
			}()
		}
		ready.Wait()
		close(start)
		done.Wait()
		rounds[r] = out
	}
	return rounds, nil
}

// Successes counts the successful outcomes of a round.
func Successes[T any](round []Outcome[T]) int {
	n := 0
	for _, o := range round {
		if o.OK() {
			n++
		}
	}
	return n
}
