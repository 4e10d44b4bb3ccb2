package migrate

import (
	"context"
	"fmt"
	"sort"
	"time"
)

// States of a file in Status.
const (
	StateApplied    = "applied"
	StatePending    = "pending"
	StateEdited     = "edited"       // changed since it was applied
	StateMissing    = "missing"      // applied, but no longer in the folder
	StateOutOfOrder = "out_of_order" // pending, older than the last applied version
	StateDirty      = "dirty"        // golang-migrate marked it dirty (a failed or killed run)
)

// Entry is one file in Status.
type Entry struct {
	Kind      string     `json:"kind"` // migration, procedure, policy
	Version   uint64     `json:"version,omitempty"`
	Path      string     `json:"path"`
	State     string     `json:"state"`
	AppliedAt *time.Time `json:"applied_at,omitempty"`
	Checksum  string     `json:"checksum"`                   // of the file (or of what was applied, when missing)
	Applied   string     `json:"applied_checksum,omitempty"` // of what was applied, when it differs
}

// Status lists every migration and repeatable file with its state.
type Status struct {
	Entries []Entry `json:"entries"`
}

// Counts returns how many entries are in each state.
func (s *Status) Counts() map[string]int {
	c := map[string]int{}
	for _, e := range s.Entries {
		c[e.State]++
	}
	return c
}

// Status reads the files and the ledger; it changes nothing.
func (r *Runner) Status(ctx context.Context) (*Status, error) {
	files, err := r.opts.Project.LoadMigrations()
	if err != nil {
		return nil, err
	}
	reps, err := r.opts.Project.LoadRepeatables()
	if err != nil {
		return nil, err
	}
	conn, err := r.connect(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	st, err := readLedger(ctx, conn)
	if err != nil {
		return nil, err
	}
	return buildStatus(st, files, reps), nil
}

func buildStatus(st ledgerState, files []Migration, reps []Repeatable) *Status {
	s := &Status{}
	maxApplied := st.maxApplied()
	seen := map[uint64]bool{}
	for _, f := range files {
		seen[f.Version] = true
		e := Entry{Kind: KindMigration, Version: f.Version, Path: f.Path, Checksum: f.Checksum}
		a, ok := st.migrations[f.Version]
		switch {
		case st.gmDirty && int64(f.Version) == st.gmVersion && !ok:
			e.State = StateDirty
		case ok:
			t := a.AppliedAt
			e.AppliedAt = &t
			e.State = StateApplied
			if a.Checksum != f.Checksum {
				e.State, e.Applied = StateEdited, a.Checksum
			}
		case f.Version < maxApplied:
			e.State = StateOutOfOrder
		default:
			e.State = StatePending
		}
		s.Entries = append(s.Entries, e)
	}
	var missing []Entry
	for v, a := range st.migrations {
		if !seen[v] {
			t := a.AppliedAt
			missing = append(missing, Entry{Kind: KindMigration, Version: v, Path: fmt.Sprintf("migrations/%d_%s.up.sql", v, a.Name),
				State: StateMissing, AppliedAt: &t, Checksum: a.Checksum})
		}
	}
	sort.Slice(missing, func(i, j int) bool { return missing[i].Version < missing[j].Version })
	s.Entries = append(s.Entries, missing...)
	s.Entries = sortMigrations(s.Entries)

	seenPath := map[string]bool{}
	for _, f := range reps {
		seenPath[f.Path] = true
		e := Entry{Kind: f.Kind, Path: f.Path, Checksum: f.Checksum, State: StatePending}
		if a, ok := st.repeatables[f.Path]; ok {
			t := a.AppliedAt
			e.AppliedAt = &t
			e.State = StateApplied
			if a.Checksum != f.Checksum {
				e.State, e.Applied = StateEdited, a.Checksum
			}
		}
		s.Entries = append(s.Entries, e)
	}
	var gone []Entry
	for p, a := range st.repeatables {
		if !seenPath[p] {
			t := a.AppliedAt
			gone = append(gone, Entry{Kind: a.Kind, Path: p, State: StateMissing, AppliedAt: &t, Checksum: a.Checksum})
		}
	}
	sort.Slice(gone, func(i, j int) bool { return gone[i].Path < gone[j].Path })
	s.Entries = append(s.Entries, gone...)
	return s
}

func sortMigrations(es []Entry) []Entry {
	sort.SliceStable(es, func(i, j int) bool { return es[i].Version < es[j].Version })
	return es
}
