package plan

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/dbtool-dev/dbtool/internal/migrate"
	"github.com/dbtool-dev/dbtool/internal/sqlscan"
)

// lockRank orders PostgreSQL's table lock modes by strength.
var lockRank = map[string]int{
	"AccessShareLock": 1, "RowShareLock": 2, "RowExclusiveLock": 3, "ShareUpdateExclusiveLock": 4,
	"ShareLock": 5, "ShareRowExclusiveLock": 6, "ExclusiveLock": 7, "AccessExclusiveLock": 8,
}

// lockBlocks says what a lock mode blocks, for people.
func lockBlocks(mode string) string {
	switch {
	case lockRank[mode] >= 8:
		return "blocks every read and write"
	case lockRank[mode] >= 5:
		return "blocks writes (reads go on)"
	case lockRank[mode] == 4:
		return "blocks other schema changes and VACUUM (reads and writes go on)"
	}
	return "blocks only schema changes"
}

type relInfo struct {
	name     string
	node     uint32
	kind     string
	existing bool
}

type applier struct {
	conn   *pgx.Conn
	opts   Options
	res    *Result
	before *surface
	failed bool

	rels   map[uint32]relInfo // relations at the start of the migration
	held   map[uint32]string  // strongest mode held per relation in the open transaction
	inTx   bool
	lockTO bool // the current file set lock_timeout
}

// run applies the pending versioned files, then the changed repeatable
// files, statement by statement in one transaction, and commits.
func (a *applier) run(ctx context.Context, mig []migrate.Migration, reps []migrate.Repeatable) error {
	rels, err := a.relations(ctx)
	if err != nil {
		return err
	}
	for oid, r := range rels {
		r.existing = true
		rels[oid] = r
	}
	a.rels = rels
	if err := a.begin(ctx); err != nil {
		return err
	}
	for _, m := range mig {
		if !a.file(ctx, m.Path, "versioned", m.SQL) {
			return a.rollback(ctx)
		}
	}
	for _, r := range reps {
		if !a.file(ctx, r.Path, r.Kind, r.SQL) {
			return a.rollback(ctx)
		}
	}
	if a.inTx {
		if _, err := a.conn.Exec(ctx, "commit"); err != nil {
			return fmt.Errorf("commit the planned files: %w", err)
		}
	}
	return nil
}

func (a *applier) rollback(ctx context.Context) error {
	a.failed = true
	if a.inTx {
		_, _ = a.conn.Exec(ctx, "rollback")
		a.inTx = false
	}
	return nil
}

func (a *applier) begin(ctx context.Context) error {
	if _, err := a.conn.Exec(ctx, "begin"); err != nil {
		return err
	}
	a.inTx = true
	a.held = map[uint32]string{}
	return nil
}

// file applies one file; false when a statement failed.
func (a *applier) file(ctx context.Context, path, kind, src string) bool {
	f := File{Path: path, Kind: kind}
	a.lockTO = false
	defer func() { a.res.Files = append(a.res.Files, f) }()
	var stmts []*Statement
	var trees []*pg_query.Node
	for _, s := range sqlscan.Split(src) {
		tree := parseOne(s.SQL)
		if tree != nil {
			if _, ok := tree.Node.(*pg_query.Node_TransactionStmt); ok {
				continue // BEGIN/COMMIT of the file: the plan runs everything in its own transaction
			}
		}
		st := Statement{Line: s.Line, SQL: firstLine(s.SQL)}
		if ok := a.statement(ctx, path, s.SQL, tree, &st); !ok {
			f.Statements = append(f.Statements, st)
			trees = append(trees, tree)
			for i := range f.Statements {
				stmts = append(stmts, &f.Statements[i])
			}
			a.res.Findings = append(a.res.Findings, statementFindings(a, path, stmts, trees)...)
			f.Error = fmt.Sprintf("line %d: %s (SQLSTATE %s)", st.Line, st.Error, st.SQLState)
			a.res.Findings = append(a.res.Findings, Finding{
				Rule: "statement_fails", ID: "P000", Level: LevelError, File: path, Line: st.Line,
				Detail: fmt.Sprintf("fails on a database with rows: %s (SQLSTATE %s)", st.Error, st.SQLState),
				Hint:   "the migration would fail (and roll back) on the target; make it work on non-empty tables (e.g. add a default, backfill first)",
			})
			return false
		}
		f.Statements = append(f.Statements, st)
		trees = append(trees, tree)
	}
	for i := range f.Statements {
		stmts = append(stmts, &f.Statements[i])
	}
	a.estimate(stmts, trees)
	a.res.Findings = append(a.res.Findings, statementFindings(a, path, stmts, trees)...)
	return true
}

// statement runs one statement and records its locks, rewrites, duration
// and rows; false when it failed.
func (a *applier) statement(ctx context.Context, path, sql string, tree *pg_query.Node, st *Statement) bool {
	if tree != nil {
		if v, ok := tree.Node.(*pg_query.Node_VariableSetStmt); ok && strings.EqualFold(v.VariableSetStmt.Name, "lock_timeout") {
			a.lockTO = true
		}
	}
	concurrent := tree != nil && needsNoTransaction(tree)
	if concurrent && a.inTx {
		if _, err := a.conn.Exec(ctx, "commit"); err != nil {
			st.Error = err.Error()
			return false
		}
		a.inTx = false
	}
	st.pre = a.preChecks(ctx, tree)
	nodes, err := a.relations(ctx)
	if err != nil {
		st.Error = err.Error()
		return false
	}
	t0 := time.Now()
	tag, err := a.conn.Exec(ctx, sql, pgx.QueryExecModeSimpleProtocol)
	st.Duration = time.Since(t0)
	if err != nil {
		var pe *pgconn.PgError
		if errors.As(err, &pe) {
			st.Error, st.SQLState = pe.Message, pe.Code
		} else {
			st.Error = err.Error()
		}
		return false
	}
	st.RowsTouched = tag.RowsAffected()
	if concurrent {
		// Outside a transaction the locks are gone once it returns; CREATE
		// INDEX CONCURRENTLY takes SHARE UPDATE EXCLUSIVE on its table.
		if rel := indexRelation(tree); rel != "" {
			st.Locks = append(st.Locks, Lock{Relation: rel, Mode: "ShareUpdateExclusiveLock", Existing: a.existingByName(rel)})
		}
		if err := a.begin(ctx); err != nil {
			st.Error = err.Error()
			return false
		}
	} else {
		if err := a.readLocks(ctx, st); err != nil {
			st.Error = err.Error()
			return false
		}
	}
	after, err := a.relations(ctx)
	if err != nil {
		st.Error = err.Error()
		return false
	}
	for oid, r := range nodes {
		if n, ok := after[oid]; ok && a.rels[oid].existing && n.node != r.node && n.node != 0 && (r.kind == "r" || r.kind == "m") {
			st.Rewrites = append(st.Rewrites, r.name)
		}
	}
	for oid, r := range after {
		if _, ok := a.rels[oid]; !ok {
			a.rels[oid] = r
		}
	}
	return true
}

func (a *applier) existingByName(name string) bool {
	for _, r := range a.rels {
		if r.name == name && r.existing {
			return true
		}
	}
	return false
}

// relations maps the user relations (tables, matviews, indexes) to their
// storage file numbers.
func (a *applier) relations(ctx context.Context) (map[uint32]relInfo, error) {
	rows, err := a.conn.Query(ctx, `
		select c.oid, n.nspname || '.' || c.relname, c.relfilenode, c.relkind::text
		from pg_class c join pg_namespace n on n.oid = c.relnamespace
		where c.relkind in ('r', 'p', 'm', 'i') and n.nspname not in ('pg_catalog', 'information_schema', 'pg_toast')
		  and n.nspname !~ '^pg_temp'`)
	if err != nil {
		return nil, err
	}
	out := map[uint32]relInfo{}
	for rows.Next() {
		var oid uint32
		var r relInfo
		if err := rows.Scan(&oid, &r.name, &r.node, &r.kind); err != nil {
			rows.Close()
			return nil, err
		}
		out[oid] = r
	}
	return out, rows.Err()
}

// readLocks records the table locks the transaction gained or strengthened
// with the last statement.
func (a *applier) readLocks(ctx context.Context, st *Statement) error {
	rows, err := a.conn.Query(ctx, `
		select l.relation, n.nspname || '.' || c.relname, l.mode
		from pg_locks l join pg_class c on c.oid = l.relation join pg_namespace n on n.oid = c.relnamespace
		where l.pid = pg_backend_pid() and l.locktype = 'relation' and l.granted
		  and c.relkind in ('r', 'p', 'm') and n.nspname not in ('pg_catalog', 'information_schema', 'pg_toast')`)
	if err != nil {
		return err
	}
	type lk struct {
		oid  uint32
		name string
		mode string
	}
	strongest := map[uint32]lk{}
	for rows.Next() {
		var x lk
		if err := rows.Scan(&x.oid, &x.name, &x.mode); err != nil {
			rows.Close()
			return err
		}
		if cur, ok := strongest[x.oid]; !ok || lockRank[x.mode] > lockRank[cur.mode] {
			strongest[x.oid] = x
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for oid, x := range strongest {
		if lockRank[x.mode] <= lockRank[a.held[oid]] {
			continue
		}
		a.held[oid] = x.mode
		r := a.rels[oid]
		st.Locks = append(st.Locks, Lock{Relation: x.name, Mode: x.mode, Existing: r.existing, Rows: a.res.Rows[x.name]})
	}
	sortLocks(st.Locks)
	return nil
}

func sortLocks(ls []Lock) {
	for i := 1; i < len(ls); i++ {
		for j := i; j > 0 && (lockRank[ls[j].Mode] > lockRank[ls[j-1].Mode] ||
			(ls[j].Mode == ls[j-1].Mode && ls[j].Relation < ls[j-1].Relation)); j-- {
			ls[j], ls[j-1] = ls[j-1], ls[j]
		}
	}
}

// estimate fills each lock's likely hold time: a lock is held from the
// statement that takes it until the file's transaction commits, and the
// statements whose work grows with a table (rewrites, index builds,
// validation scans, writes of every row) are scaled to the target's size.
func (a *applier) estimate(stmts []*Statement, trees []*pg_query.Node) {
	scaled := make([]float64, len(stmts)) // seconds on the target
	scale := make([]string, len(stmts))
	for i, st := range stmts {
		scaled[i] = st.Duration.Seconds()
		rel, n := a.scalingTable(st, trees[i])
		if rel == "" || n <= 0 {
			continue
		}
		target, label := a.targetRows(rel)
		scaled[i] = st.Duration.Seconds() * target / float64(n)
		scale[i] = label
	}
	for i, st := range stmts {
		for j := range st.Locks {
			l := &st.Locks[j]
			if !l.Existing {
				continue
			}
			var sum float64
			label := ""
			for k := i; k < len(stmts); k++ {
				sum += scaled[k]
				if scale[k] != "" {
					label = scale[k]
				}
			}
			if label == "" {
				l.Estimate = "catalog only: brief once granted (but queued behind running transactions)"
				continue
			}
			l.Estimate = fmt.Sprintf("≈ %s %s", humanDuration(sum), label)
		}
	}
}

// scalingTable returns the existing table whose size the statement's work
// grows with, and its rows in the plan database.
func (a *applier) scalingTable(st *Statement, tree *pg_query.Node) (string, int64) {
	if len(st.Rewrites) > 0 {
		return st.Rewrites[0], a.res.Rows[st.Rewrites[0]]
	}
	if tree == nil {
		return "", 0
	}
	rel := ""
	switch n := tree.Node.(type) {
	case *pg_query.Node_IndexStmt:
		rel = rangeVarName(n.IndexStmt.Relation)
	case *pg_query.Node_AlterTableStmt:
		for _, c := range n.AlterTableStmt.Cmds {
			cmd := c.GetAlterTableCmd()
			if cmd == nil {
				continue
			}
			switch cmd.Subtype {
			case pg_query.AlterTableType_AT_SetNotNull, pg_query.AlterTableType_AT_ValidateConstraint:
				rel = rangeVarName(n.AlterTableStmt.Relation)
			case pg_query.AlterTableType_AT_AddConstraint:
				if k := cmd.Def.GetConstraint(); k != nil && !k.SkipValidation {
					rel = rangeVarName(n.AlterTableStmt.Relation)
				}
			}
		}
	case *pg_query.Node_UpdateStmt, *pg_query.Node_DeleteStmt:
		if st.RowsTouched > 0 {
			var rv *pg_query.RangeVar
			if u := tree.GetUpdateStmt(); u != nil {
				rv = u.Relation
			} else {
				rv = tree.GetDeleteStmt().Relation
			}
			rel = rangeVarName(rv)
		}
	}
	if rel == "" {
		return "", 0
	}
	rel = a.resolve(rel)
	return rel, a.res.Rows[rel]
}

// resolve qualifies an unqualified table name with the first exposed schema
// holding it.
func (a *applier) resolve(rel string) string {
	if strings.Contains(rel, ".") {
		return rel
	}
	for _, s := range append(append([]string{}, a.opts.Schemas...), "public") {
		if _, ok := a.res.Rows[s+"."+rel]; ok {
			return s + "." + rel
		}
	}
	return "public." + rel
}

func (a *applier) targetRows(rel string) (float64, string) {
	if n, ok := a.opts.TargetRows[rel]; ok && n > 0 {
		return n, fmt.Sprintf("at the target's %s rows", thousands(int64(n)))
	}
	return 1e6, "per 1,000,000 rows"
}

func humanDuration(sec float64) string {
	d := time.Duration(sec * float64(time.Second))
	switch {
	case d < time.Millisecond:
		return "<1ms"
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Minute:
		return d.Round(100 * time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}

func thousands(n int64) string {
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func firstLine(sql string) string {
	s := strings.TrimSpace(sql)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = strings.TrimSpace(s[:i]) + " ..."
	}
	if len(s) > 100 {
		s = s[:97] + "..."
	}
	return s
}
