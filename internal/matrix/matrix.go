// Package matrix builds the live access matrix: for every table and view of
// the exposed schemas, every role and every command, and for every function
// and role, it tries the operation inside a savepoint that is rolled back
// and records precisely what happened. Nothing is ever committed: seed rows,
// probe users and probes all live in one transaction that is rolled back.
package matrix

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/dbtool-dev/dbtool/internal/catalog"
	"github.com/dbtool-dev/dbtool/internal/pgerr"
	"github.com/dbtool-dev/dbtool/internal/platform"
)

// Outcomes of a cell.
const (
	Rows    = "rows"    // the operation succeeded; Rows says how many rows it saw or changed
	Empty   = "empty"   // succeeded on 0 rows: filtered by RLS (every table is seeded)
	Denied  = "denied"  // 42501: no privilege, or a WITH CHECK failed
	Error   = "error"   // failed with SQLState (42P17 recursion, 23xxx on an allowed write, raised by a function...)
	Unknown = "unknown" // no valid row could be built for an insert probe
)

// Commands probed.
var (
	TableCommands = []string{"select", "insert", "update", "delete", "truncate"}
	ViewCommands  = []string{"select", "insert", "update", "delete"}
)

// Cell is one probe: an object, a role, a command.
type Cell struct {
	Schema   string `json:"schema"`
	Object   string `json:"object"` // relation name, or function signature name(args)
	Kind     string `json:"kind"`   // table, view or function
	Role     string `json:"role"`   // persona name (anon, stranger, owner, service_role, ...)
	Command  string `json:"command"`
	Outcome  string `json:"outcome"`
	Rows     *int64 `json:"rows"`
	SQLState string `json:"sqlstate"`
	Message  string `json:"message,omitempty"`
}

// Label is the cell as the expected file writes it: "rows 3", "empty",
// "denied", "error 42P17", "unknown".
func (c Cell) Label() string {
	switch c.Outcome {
	case Rows:
		return fmt.Sprintf("rows %d", *c.Rows)
	case Error:
		return "error " + c.SQLState
	}
	return c.Outcome
}

// Key identifies the cell's object and command.
func (c Cell) Key() string { return c.Schema + "." + c.Object + " " + c.Command }

// Persona is a role the matrix acts as.
type Persona struct {
	Name   string         `json:"name" yaml:"name"`
	Role   string         `json:"role" yaml:"role"`     // database role; default authenticated
	Claims map[string]any `json:"claims" yaml:"claims"` // extra claims
	// Setup runs as the owner after seeding, with :id replaced by the
	// persona's user id (quoted), e.g. to make the persona staff of the
	// seeded business.
	Setup string `json:"setup" yaml:"setup"`
	// User creates an auth.users row for the persona (default true for
	// role authenticated).
	NoUser bool `json:"no_user" yaml:"no_user"`
	// Metadata is the user's raw_user_meta_data (what a sign-up form
	// sends; a project's handle_new_user trigger may need fields of it).
	// Default: full_name, name, username, avatar_url derived from the name.
	Metadata map[string]any `json:"metadata,omitempty" yaml:"metadata"`
}

// DefaultPersonas: anon, a stranger (signed in, owns nothing), the owner of
// the seeded rows, and service_role.
func DefaultPersonas() []Persona {
	return []Persona{
		{Name: "anon", Role: "anon", NoUser: true},
		{Name: "stranger", Role: "authenticated"},
		{Name: "owner", Role: "authenticated"},
		{Name: "service_role", Role: "service_role", NoUser: true},
	}
}

// Options configure Run.
type Options struct {
	Schemas  []string  // exposed schemas; default public
	Personas []Persona // default DefaultPersonas(); extra ones are appended to them
	// StatementTimeout bounds each probe (default 3s).
	StatementTimeout time.Duration
	// SkipFunctions lists functions (schema.name) not to call.
	SkipFunctions []string
	// CallExternal calls functions with effects outside the database too
	// (HTTP requests, dblink, NOTIFY, COPY ... PROGRAM); by default their
	// cells are unknown and say why.
	CallExternal bool
}

// Matrix is the result of Run.
type Matrix struct {
	Roles    []string `json:"roles"`
	Cells    []Cell   `json:"cells"`
	Seeded   []string `json:"seeded"`   // relations that got a seed row
	Unseeded []string `json:"unseeded"` // relations no valid row could be built for
	// UnseededWhy gives the last error of each unseeded relation.
	UnseededWhy map[string]string `json:"unseeded_why,omitempty"`
	// Judgements are the cells and attack probes that break the built-in
	// expectations (see Judgement); they need no expected file.
	Judgements []Judgement   `json:"judgements"`
	Duration   time.Duration `json:"-"`
}

// Findings are cells that are defects whatever the expected file says:
// infinite recursion in a policy (42P17) anywhere, and integrity errors
// (23xxx) on inserts and updates that privileges and policies allowed: a
// constraint the API lets callers run into. A DELETE refused by a RESTRICT
// foreign key (23503) is the constraint doing its job, not a finding: the
// seeded rows reference each other.
func (m *Matrix) Findings() []Cell {
	var out []Cell
	for _, c := range m.Cells {
		if c.Outcome != Error {
			continue
		}
		if c.SQLState == pgerr.InfiniteRecursion ||
			(strings.HasPrefix(c.SQLState, "23") && (c.Command == "insert" || c.Command == "update")) {
			out = append(out, c)
		}
	}
	return out
}

type prober struct {
	conn     *pgx.Conn
	opts     Options
	personas []persona
	ownerID  string
	values   map[string]string  // "schema.table.column" -> a value (SQL literal) of a seeded row
	counts   map[string]int64   // relation -> rows the owner sees after seeding
	updCol   map[string]string  // relation + "\x00" + role -> column to probe UPDATE with
	choices  map[string]*choice // relation -> the candidate choices that seeded it
	probing  bool               // no queries between probe batches (the transaction may be aborted)
	freshFK  bool               // references go to the newest row (the second owner's seeding)
	// signupRows: tables the personas' sign-up filled through the
	// project's triggers; seeding reuses those rows.
	signupRows map[string]bool
	// own: rows each persona's sign-up made, per table (persona -> table
	// -> rows): a persona seeing those is not seeing someone else's.
	own  map[string]map[string]int64
	rels []catalog.Relation
}

// tableCounts counts the rows of every table of rels.
func (p *prober) tableCounts(ctx context.Context, rels []catalog.Relation) (map[string]int64, error) {
	out := map[string]int64{}
	var parts []string
	var names []string
	for _, r := range rels {
		if (r.Kind == catalog.KindTable || r.Kind == catalog.KindPartitioned) && !r.IsPartition {
			parts = append(parts, "(select count(*) from "+r.QualifiedName()+")")
			names = append(names, r.Display())
		}
	}
	if len(parts) == 0 {
		return out, nil
	}
	counts := make([]int64, len(parts))
	if err := p.conn.QueryRow(ctx, "select array["+strings.Join(parts, ", ")+"]").Scan(&counts); err != nil {
		return nil, err
	}
	for i, n := range names {
		out[n] = counts[i]
	}
	return out, nil
}

// prepare looks up, before probing starts, everything probes need from the
// catalog: foreign key values and the column each role may update.
func (p *prober) prepare(ctx context.Context, rels []catalog.Relation) error {
	p.updCol = map[string]string{}
	for _, r := range rels {
		if r.IsPartition {
			continue
		}
		for _, c := range r.Columns {
			if c.FK != nil {
				if _, err := p.fkValue(ctx, c.FK, ""); err != nil {
					return err
				}
			}
		}
		for _, ps := range p.personas {
			key := r.Display() + "\x00" + ps.Role
			if _, ok := p.updCol[key]; ok {
				continue
			}
			var col string
			err := p.conn.QueryRow(ctx, `select attname from pg_attribute where attrelid = $1 and attnum > 0 and not attisdropped
				and attgenerated = '' and attidentity <> 'a'
				order by has_column_privilege($2, attrelid, attnum, 'UPDATE') desc, attnum limit 1`, r.OID, ps.Role).Scan(&col)
			if err != nil && !errors.Is(err, pgx.ErrNoRows) {
				return err
			}
			p.updCol[key] = col
		}
	}
	p.probing = true
	return nil
}

type persona struct {
	Persona
	id     string // auth.users id, when it has one
	setSQL string // the set_config statement acting as it
	failed string // why the persona's user could not be created (a project trigger refused it): its cells say so
}

// Run builds the matrix on the database at url, connecting as a role that
// owns the objects (the migrating role). Each probe switches to the probed
// role with set_config('role', ..., true) inside a savepoint, as PostgREST
// does, so privileges and RLS are evaluated for that role.
func Run(ctx context.Context, url string, opts Options) (*Matrix, error) {
	start := time.Now()
	if len(opts.Schemas) == 0 {
		opts.Schemas = []string{"public"}
	}
	if opts.StatementTimeout == 0 {
		opts.StatementTimeout = 3 * time.Second
	}
	personas := DefaultPersonas()
	for _, p := range opts.Personas {
		if p.Role == "" {
			p.Role = "authenticated"
		}
		personas = append(personas, p)
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	tx, err := conn.Begin(ctx)
	if err != nil {
		return nil, err
	}
	// Never commit anything.
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, fmt.Sprintf("set local statement_timeout = %d", opts.StatementTimeout.Milliseconds())); err != nil {
		return nil, err
	}
	p := &prober{conn: conn, opts: opts, values: map[string]string{}, counts: map[string]int64{}, choices: map[string]*choice{}}
	rels, err := catalog.Relations(ctx, tx, opts.Schemas)
	if err != nil {
		return nil, err
	}
	before, err := p.tableCounts(ctx, rels)
	if err != nil {
		return nil, err
	}
	p.rels = rels
	if err := p.createPersonas(ctx, personas); err != nil {
		return nil, err
	}
	// Tables the personas' sign-up filled (a handle_new_user trigger
	// making profiles): their rows are the seed, none is added.
	after, err := p.tableCounts(ctx, rels)
	if err != nil {
		return nil, err
	}
	p.signupRows = map[string]bool{}
	for k, n := range after {
		if n > before[k] {
			p.signupRows[k] = true
		}
	}
	routines, err := catalog.Routines(ctx, tx, opts.Schemas)
	if err != nil {
		return nil, err
	}
	m := &Matrix{}
	for _, ps := range p.personas {
		m.Roles = append(m.Roles, ps.Name)
	}
	if err := p.seed(ctx, rels, m); err != nil {
		return nil, err
	}
	for _, ps := range p.personas {
		if ps.Setup == "" {
			continue
		}
		sql := strings.ReplaceAll(ps.Setup, ":id", quote(ps.id))
		if _, err := p.conn.Exec(ctx, sql); err != nil {
			return nil, fmt.Errorf("setup of persona %s: %w", ps.Name, err)
		}
	}
	for _, r := range rels {
		if r.IsPartition {
			continue // probed through its parent
		}
		if err := p.countRows(ctx, r); err != nil {
			return nil, err
		}
	}
	if err := p.prepare(ctx, rels); err != nil {
		return nil, err
	}
	external := map[uint32]string{}
	if !opts.CallExternal {
		if external, err = externalEffects(ctx, p.conn, routines); err != nil {
			return nil, err
		}
	}
	if _, err := p.conn.Exec(ctx, "savepoint dbtool_probe"); err != nil {
		return nil, err
	}
	for _, r := range rels {
		if r.IsPartition {
			continue
		}
		cells, err := p.probeRelation(ctx, r)
		if err != nil {
			return nil, err
		}
		m.Cells = append(m.Cells, cells...)
	}
	skip := map[string]bool{}
	for _, s := range opts.SkipFunctions {
		skip[s] = true
	}
	for _, fn := range routines {
		if fn.IsTrigger() || fn.Kind == "aggregate" || fn.Kind == "window" || skip[fn.Schema+"."+fn.Name] {
			continue
		}
		for _, ps := range p.personas {
			if why, ok := external[fn.OID]; ok {
				m.Cells = append(m.Cells, Cell{Schema: fn.Schema, Object: fn.Signature, Kind: "function", Role: ps.Name, Command: "execute",
					Outcome: Unknown, Message: "not called: " + why + "; set matrix.call_external: true in dbtool.yaml to call it"})
				continue
			}
			m.Cells = append(m.Cells, p.probeRoutine(ctx, fn, ps))
		}
	}
	if err := p.judge(ctx, rels, m); err != nil {
		return nil, fmt.Errorf("judge the matrix: %w", err)
	}
	m.Duration = time.Since(start)
	return m, nil
}

// quote is a SQL string literal (standard_conforming_strings on).
func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func (p *prober) createPersonas(ctx context.Context, ps []Persona) error {
	var hasUsers bool
	if err := p.conn.QueryRow(ctx, "select to_regclass('auth.users') is not null").Scan(&hasUsers); err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, x := range ps {
		if seen[x.Name] {
			return fmt.Errorf("persona %q declared twice", x.Name)
		}
		seen[x.Name] = true
		q := persona{Persona: x}
		claims := map[string]any{"role": x.Role}
		if x.Role == "authenticated" && !x.NoUser {
			email := "dbtool-matrix-" + x.Name + "@example.test"
			if hasUsers {
				before, err := p.tableCounts(ctx, p.rels)
				if err != nil {
					return err
				}
				id, why, err := p.createUser(ctx, x, email)
				if err != nil {
					return err
				}
				q.id, q.failed = id, why
				after, err := p.tableCounts(ctx, p.rels)
				if err != nil {
					return err
				}
				if p.own == nil {
					p.own = map[string]map[string]int64{}
				}
				p.own[x.Name] = map[string]int64{}
				for k, n := range after {
					if n > before[k] {
						p.own[x.Name][k] = n - before[k]
					}
				}
			}
			if q.id == "" {
				if err := p.conn.QueryRow(ctx, "select gen_random_uuid()::text").Scan(&q.id); err != nil {
					return err
				}
			}
			claims["sub"], claims["email"], claims["aud"], claims["aal"] = q.id, email, "authenticated", "aal1"
			claims["user_metadata"] = userMetadata(x)
		}
		for k, v := range x.Claims {
			claims[k] = v
		}
		b, _ := json.Marshal(claims)
		q.setSQL = fmt.Sprintf("select set_config('role', %s, true), set_config('request.jwt.claims', %s, true), "+
			"set_config('request.method', 'POST', true), set_config('request.path', '/', true), set_config('request.headers', '{}', true)",
			quote(x.Role), quote(string(b)))
		if x.Name == "owner" {
			p.ownerID = q.id
		}
		p.personas = append(p.personas, q)
	}
	// Seed rows are written with the owner's claims, so defaults such as
	// auth.uid() make the owner own them.
	for _, q := range p.personas {
		if q.Name == "owner" {
			b, _ := json.Marshal(map[string]any{"sub": q.id, "role": "authenticated"})
			_, err := p.conn.Exec(ctx, "select set_config('request.jwt.claims', $1, true)", string(b))
			return err
		}
	}
	return nil
}

// result runs one probe batch and returns the probe statement's result.
func (p *prober) result(ctx context.Context, ps persona, sql string) (*pgconn.Result, error) {
	batch := "rollback to savepoint dbtool_probe; " + ps.setSQL + "; " + sql
	results, err := p.conn.PgConn().Exec(ctx, batch).ReadAll()
	if err != nil {
		return nil, err
	}
	if len(results) == 0 {
		return nil, errors.New("no result")
	}
	last := results[len(results)-1]
	return last, last.Err
}

func kindOf(r catalog.Relation) string {
	switch r.Kind {
	case catalog.KindView, catalog.KindMatView:
		return "view"
	}
	return "table"
}

func (p *prober) countRows(ctx context.Context, r catalog.Relation) error {
	// In a savepoint: a view that fails even for its owner (e.g. recursion
	// through a view owned by a role under RLS) must not abort the run.
	res, err := p.conn.PgConn().Exec(ctx, "savepoint dbtool_count; select count(*) from "+r.QualifiedName()+"; release savepoint dbtool_count").ReadAll()
	if err != nil {
		if _, err := p.conn.Exec(ctx, "rollback to savepoint dbtool_count; release savepoint dbtool_count"); err != nil {
			return err
		}
		p.counts[r.Display()] = 0
		return nil
	}
	n, _ := strconv.ParseInt(string(res[1].Rows[0][0]), 10, 64)
	p.counts[r.Display()] = n
	return nil
}

func (p *prober) probeRelation(ctx context.Context, r catalog.Relation) ([]Cell, error) {
	cmds := TableCommands
	switch r.Kind {
	case catalog.KindView:
		cmds = ViewCommands
	case catalog.KindMatView:
		cmds = []string{"select"}
	}
	var out []Cell
	for _, cmd := range cmds {
		for _, ps := range p.personas {
			c := Cell{Schema: r.Schema, Object: r.Name, Kind: kindOf(r), Role: ps.Name, Command: cmd}
			if ps.failed != "" {
				c.Outcome, c.Message = Unknown, ps.failed
				out = append(out, c)
				continue
			}
			var err error
			switch cmd {
			case "select":
				err = p.probeSelect(ctx, r, ps, &c)
			case "insert":
				err = p.probeInsert(ctx, r, ps, &c)
			case "update":
				err = p.probeUpdate(ctx, r, ps, &c)
			case "delete":
				err = p.probeWrite(ctx, ps, &c, "delete from "+r.QualifiedName())
			case "truncate":
				err = p.probeTruncate(ctx, r, ps, &c)
			}
			if err != nil {
				return nil, err
			}
			out = append(out, c)
		}
	}
	return out, nil
}

func setRows(c *Cell, n int64) {
	c.Rows = &n
	if n == 0 {
		c.Outcome = Empty
	} else {
		c.Outcome = Rows
	}
}

// classify fills c from a probe error; it returns false when err is not a
// server error (then the matrix cannot be trusted and Run fails).
func classify(c *Cell, err error) bool {
	pe, ok := pgerr.PG(err)
	if !ok {
		return false
	}
	c.SQLState, c.Message = pe.Code, pe.Message
	if pe.Code == pgerr.InsufficientPrivilege {
		c.Outcome = Denied
		if c.Kind == "function" {
			name, _, _ := strings.Cut(c.Object, "(")
			own := pe.Message == "permission denied for function "+name || pe.Message == "permission denied for procedure "+name ||
				pe.Message == "permission denied for schema "+c.Schema
			if !own {
				// The function ran and was refused something else in its
				// body (another function, a table): not EXECUTE denied.
				// The message says what was denied.
				c.Outcome = Error
			}
		}
		return true
	}
	c.Outcome = Error
	return true
}

func (p *prober) probeSelect(ctx context.Context, r catalog.Relation, ps persona, c *Cell) error {
	res, err := p.result(ctx, ps, "select count(*) from "+r.QualifiedName())
	if err != nil {
		if !classify(c, err) {
			return err
		}
		return nil
	}
	n, _ := strconv.ParseInt(string(res.Rows[0][0]), 10, 64)
	setRows(c, n)
	return nil
}

func (p *prober) probeWrite(ctx context.Context, ps persona, c *Cell, sql string) error {
	res, err := p.result(ctx, ps, sql)
	if err != nil {
		if !classify(c, err) {
			return err
		}
		return nil
	}
	setRows(c, res.CommandTag.RowsAffected())
	return nil
}

func (p *prober) probeTruncate(ctx context.Context, r catalog.Relation, ps persona, c *Cell) error {
	_, err := p.result(ctx, ps, "truncate "+r.QualifiedName())
	if err != nil {
		if !classify(c, err) {
			return err
		}
		return nil
	}
	// TRUNCATE ignores RLS: it destroys every row.
	setRows(c, p.counts[r.Display()])
	if c.Outcome == Empty {
		n := int64(0)
		c.Outcome, c.Rows = Rows, &n
	}
	return nil
}

func (p *prober) probeUpdate(ctx context.Context, r catalog.Relation, ps persona, c *Cell) error {
	// Update a column the role may update (column privileges), to itself.
	col := p.updCol[r.Display()+"\x00"+ps.Role]
	if col == "" {
		c.Outcome = Unknown
		return nil
	}
	id := pgx.Identifier{col}.Sanitize()
	return p.probeWrite(ctx, ps, c, fmt.Sprintf("update %s set %s = %s", r.QualifiedName(), id, id))
}

func (p *prober) probeInsert(ctx context.Context, r catalog.Relation, ps persona, c *Cell) error {
	sql, ok := p.insertSQL(r, 2, ps.id)
	if !ok {
		c.Outcome = Unknown
		return nil
	}
	_, err := p.result(ctx, ps, sql)
	if err == nil {
		one := int64(1)
		c.Outcome, c.Rows = Rows, &one
		return nil
	}
	if !classify(c, err) {
		return err
	}
	if strings.HasPrefix(c.SQLState, "23") || c.SQLState == "P0001" || c.SQLState == "22023" {
		// Is it our row, or the role? Try the same row as the owner with
		// the role's claims: if it fails there too, no valid row was built.
		batch := "rollback to savepoint dbtool_probe; " + strings.Replace(ps.setSQL, "set_config('role', "+quote(ps.Role)+", true), ", "", 1) + "; " + sql
		if _, err := p.conn.PgConn().Exec(ctx, batch).ReadAll(); err != nil {
			c.Outcome, c.SQLState, c.Message = Unknown, "", "no valid row could be built: "+err.Error()
		}
	}
	return nil
}

func (p *prober) probeRoutine(ctx context.Context, fn catalog.Routine, ps persona) Cell {
	c := Cell{Schema: fn.Schema, Object: fn.Signature, Kind: "function", Role: ps.Name, Command: "execute"}
	if ps.failed != "" {
		c.Outcome, c.Message = Unknown, ps.failed
		return c
	}
	args := make([]string, len(fn.ArgTypes))
	for i, t := range fn.ArgTypes {
		if strings.HasPrefix(t, "any") || t == "internal" || t == "cstring" {
			c.Outcome, c.Message = Unknown, "polymorphic argument type "+t
			return c
		}
		args[i] = "NULL::" + t
	}
	name := pgx.Identifier{fn.Schema, fn.Name}.Sanitize()
	var sql string
	if fn.Kind == "procedure" {
		sql = fmt.Sprintf("call %s(%s)", name, strings.Join(args, ", "))
	} else {
		sql = fmt.Sprintf("select count(*) from %s(%s)", name, strings.Join(args, ", "))
	}
	res, err := p.result(ctx, ps, sql)
	if err != nil {
		if !classify(&c, err) {
			c.Outcome, c.Message = Unknown, err.Error()
		}
		return c
	}
	n := int64(len(res.Rows))
	if fn.Kind != "procedure" && len(res.Rows) == 1 {
		n, _ = strconv.ParseInt(string(res.Rows[0][0]), 10, 64)
	}
	c.Rows = &n
	c.Outcome = Rows
	return c
}

// SortCells orders cells by object, command order and role order.
func SortCells(cells []Cell, roles []string) {
	roleIdx := map[string]int{}
	for i, r := range roles {
		roleIdx[r] = i
	}
	cmdIdx := map[string]int{"select": 0, "insert": 1, "update": 2, "delete": 3, "truncate": 4, "execute": 5}
	kindIdx := map[string]int{"table": 0, "view": 1, "function": 2}
	sort.SliceStable(cells, func(i, j int) bool {
		a, b := cells[i], cells[j]
		if a.Kind != b.Kind {
			return kindIdx[a.Kind] < kindIdx[b.Kind]
		}
		if a.Schema+"."+a.Object != b.Schema+"."+b.Object {
			return a.Schema+"."+a.Object < b.Schema+"."+b.Object
		}
		if a.Command != b.Command {
			return cmdIdx[a.Command] < cmdIdx[b.Command]
		}
		return roleIdx[a.Role] < roleIdx[b.Role]
	})
}

// userMetadata is what the persona's sign-up form sent.
func userMetadata(x Persona) map[string]any {
	if x.Metadata != nil {
		return x.Metadata
	}
	return map[string]any{"full_name": x.Name + " Example", "name": x.Name + " Example",
		"username": "dbtool_" + x.Name, "user_name": "dbtool_" + x.Name, "avatar_url": "https://example.test/" + x.Name + ".png"}
}

// createUser signs the persona up as Supabase Auth would (project triggers
// on auth.users run). When a trigger refuses it, the refusal is returned as
// why (naming the function and the error) and nothing is left behind.
func (p *prober) createUser(ctx context.Context, x Persona, email string) (id, why string, err error) {
	if _, err := p.conn.Exec(ctx, "savepoint dbtool_user"); err != nil {
		return "", "", err
	}
	id, cerr := platform.CreateUser(ctx, p.conn, platform.User{Email: email, UserMetadata: userMetadata(x)})
	if cerr == nil {
		_, err := p.conn.Exec(ctx, "release savepoint dbtool_user")
		return id, "", err
	}
	if _, err := p.conn.Exec(ctx, "rollback to savepoint dbtool_user; release savepoint dbtool_user"); err != nil {
		return "", "", err
	}
	pe, ok := pgerr.PG(cerr)
	if !ok {
		return "", "", fmt.Errorf("create matrix user %s: %w", x.Name, cerr)
	}
	where := ""
	if pe.Where != "" {
		where, _, _ = strings.Cut(pe.Where, "\n")
		where = " (" + where + ")"
	}
	why = fmt.Sprintf("persona %s could not sign up: a trigger on auth.users refused the user: %s %s%s; "+
		"give the persona the user metadata the trigger expects (matrix.personas[].metadata in dbtool.yaml)", x.Name, pe.Code, pe.Message, where)
	return "", why, nil
}

// externalRE finds effects outside the database in a routine's body
// (textual, on the whole body: PostgreSQL records no dependency on the
// functions a PL/pgSQL body calls).
const externalRE = `\m(net\.http_\w+|extensions\.http\w*|http_(get|post|put|patch|delete|head|request)\s*\(|http\s*\(|dblink\w*\s*\(|pg_notify\s*\(|notify\s+\w|copy\s[^;]*\sprogram\s|lo_export\s*\(|pg_file_write\s*\()`

// externalEffects: routines (by oid) whose bodies reach outside the
// database, with what they call.
func externalEffects(ctx context.Context, conn *pgx.Conn, routines []catalog.Routine) (map[uint32]string, error) {
	out := map[uint32]string{}
	if len(routines) == 0 {
		return out, nil
	}
	oids := make([]uint32, len(routines))
	for i, r := range routines {
		oids[i] = r.OID
	}
	rows, err := conn.Query(ctx, `select p.oid, (regexp_match(lower(p.prosrc), $2))[1]
		from pg_proc p where p.oid = any($1) and lower(p.prosrc) ~ $2`, oids, externalRE)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var oid uint32
		var what string
		if err := rows.Scan(&oid, &what); err != nil {
			return nil, err
		}
		out[oid] = "it has effects outside the database (" + strings.TrimSpace(what) + ")"
	}
	return out, rows.Err()
}
