package matrix

import (
	"context"
	"testing"

	"github.com/dbtool-dev/dbtool/dbtest"
	"github.com/dbtool-dev/dbtool/internal/migrate"
)

func benchMatrix(b *testing.B, p dbtest.Project) {
	ctx := context.Background()
	cells := 0
	for b.Loop() {
		b.StopTimer()
		db := dbtest.NewFor(b, p) // a fresh clone per pass: dead rows halve the rate
		b.StartTimer()
		m, err := Run(ctx, db.URL, Options{})
		if err != nil {
			b.Fatal(err)
		}
		cells += len(m.Cells)
	}
	b.ReportMetric(float64(cells)/b.Elapsed().Seconds(), "cells/s")
	b.ReportMetric(float64(cells)/float64(b.N), "cells/op")
}

// BenchmarkMatrixFixture: the small flawed fixture of the tests.
func BenchmarkMatrixFixture(b *testing.B) { benchMatrix(b, project(b)) }

// BenchmarkMatrixBackbone: the reference backbone (target: under 2 s,
// at least 2,000 cells/s).
func BenchmarkMatrixBackbone(b *testing.B) {
	if files, _ := (migrate.Project{Dir: "../.."}).LoadMigrations(); len(files) == 0 {
		b.Skip("no backbone migrations yet")
	}
	benchMatrix(b, dbtest.Project{Dir: "../.."})
}
