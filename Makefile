# dbtool: `make run` runs the main job on a throwaway PostgreSQL, `make test`
# runs the tests. Both install what a fresh machine lacks.
GO      ?= go
BIN     := bin/dbtool
PG_IMAGE ?= dbtool/postgres:15

.PHONY: all deps build run generate check-generated vet test test-docker bench pg-image clean

all: build

deps:
	@bash scripts/install-deps.sh

build:
	$(GO) build -o $(BIN) ./cmd/dbtool

# The main job: the CI gate on the reference backbone, on a throwaway
# PostgreSQL (migrate, verify, coverage, lint, access matrix).
run: deps build
	./$(BIN) check

# sqlc writes gen/ from sql/ and the schema; never edit gen/ by hand.
generate:
	rm -f gen/*.go
	$(GO) tool sqlc generate

# Fails when gen/ is not what sqlc would write now.
check-generated:
	@$(GO) tool sqlc diff || { echo "gen/ is stale: run 'make generate' and commit the result" >&2; exit 1; }
	@for f in gen/*.go; do b=$$(basename $$f .sql.go); case $$f in gen/db.go|gen/models.go) continue;; esac; \
	  test -f sql/$$b.sql || { echo "$$f has no sql/$$b.sql: run 'make generate'" >&2; exit 1; }; done

vet:
	$(GO) vet ./...
	@out="$$(gofmt -l cmd internal tests dbtest)"; test -z "$$out" || { echo "$$out"; echo "gofmt needed on the files above" >&2; exit 1; }

test: deps check-generated vet
	$(GO) test -count=1 -timeout 20m ./...

# The container backend: the migrate, harness and matrix tests once more, on
# a local image built from Debian's packages (no registry needed).
test-docker: pg-image
	DBTOOL_BACKEND=docker DBTOOL_PG_IMAGE=$(PG_IMAGE) $(GO) test -count=1 -timeout 20m \
		./internal/migrate/ ./internal/pgserver/ ./dbtest/ ./internal/matrix/

pg-image:
	IMAGE=$(PG_IMAGE) bash scripts/pg-image/build.sh

bench: deps
	$(GO) test -run '^$$' -bench . -benchtime 10x -timeout 30m ./...

clean:
	rm -rf bin
