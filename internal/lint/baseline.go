package lint

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
)

// Baseline is what a legacy database already had when the gate was adopted:
// later runs report only findings that are not in it. A finding is keyed by
// its rule, object and a hash of its detail (a detail that changes, e.g. a
// new role gaining the privilege, is a new finding).
type Baseline struct {
	Version  int            `json:"version"`
	Findings []BaselineItem `json:"findings"`
}

// BaselineItem is one accepted finding.
type BaselineItem struct {
	Rule   string `json:"rule"`
	Object string `json:"object"`
	Detail string `json:"detail_sha256"`
}

func baselineKey(f Finding) BaselineItem {
	sum := sha256.Sum256([]byte(f.Detail))
	return BaselineItem{Rule: f.Rule, Object: f.Key(), Detail: hex.EncodeToString(sum[:8])}
}

// WriteBaseline writes the findings as a baseline.
func WriteBaseline(w io.Writer, fs []Finding) error {
	b := Baseline{Version: 1, Findings: []BaselineItem{}}
	for _, f := range fs {
		b.Findings = append(b.Findings, baselineKey(f))
	}
	sort.Slice(b.Findings, func(i, j int) bool {
		x, y := b.Findings[i], b.Findings[j]
		if x.Rule != y.Rule {
			return x.Rule < y.Rule
		}
		if x.Object != y.Object {
			return x.Object < y.Object
		}
		return x.Detail < y.Detail
	})
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(b)
}

// LoadBaseline reads a baseline file.
func LoadBaseline(path string) (*Baseline, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var b Baseline
	if err := json.Unmarshal(data, &b); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if b.Version != 1 {
		return nil, fmt.Errorf("%s: baseline version %d: want 1 (write it again with --write-baseline)", path, b.Version)
	}
	return &b, nil
}

// New returns the findings that are not in the baseline, and how many were.
func (b *Baseline) New(fs []Finding) ([]Finding, int) {
	known := map[BaselineItem]bool{}
	for _, it := range b.Findings {
		known[it] = true
	}
	out := []Finding{}
	old := 0
	for _, f := range fs {
		if known[baselineKey(f)] {
			old++
			continue
		}
		out = append(out, f)
	}
	return out, old
}
