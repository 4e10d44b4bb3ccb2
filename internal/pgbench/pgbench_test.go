package pgbench

import (
	"context"
	"testing"
	"time"

	"github.com/dbtool-dev/dbtool/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func TestTPCB(t *testing.T) {
	if _, err := Find(); err != nil {
		t.Skip(err)
	}
	tps, err := TPCB(context.Background(), pgtest.EmptyDatabase(t), 2, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if tps <= 0 {
		t.Errorf("tps = %v", tps)
	}
}
