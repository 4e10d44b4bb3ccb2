package report

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dbtool-dev/dbtool/internal/matrix"
)

func sample() Data {
	n1, n0 := int64(1), int64(0)
	return Data{
		Database:  "fixture",
		Generated: time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC),
		Matrix: &matrix.Matrix{Roles: []string{"anon", "owner"}, Cells: []matrix.Cell{
			{Schema: "public", Object: "notes", Kind: "table", Role: "anon", Command: "select", Outcome: matrix.Denied, SQLState: "42501"},
			{Schema: "public", Object: "notes", Kind: "table", Role: "owner", Command: "select", Outcome: matrix.Rows, Rows: &n1},
			{Schema: "public", Object: "admins", Kind: "table", Role: "anon", Command: "select", Outcome: matrix.Empty, Rows: &n0},
			{Schema: "public", Object: "admins", Kind: "table", Role: "owner", Command: "select", Outcome: matrix.Error, SQLState: "42P17", Message: "infinite recursion detected in policy"},
			{Schema: "public", Object: "notes", Kind: "table", Role: "anon", Command: "delete", Outcome: matrix.Rows, Rows: &n1},
		}},
		Coverage:    []CoverageRow{{Object: "public.notes", Kind: "table", RLS: true, Verdict: "covered"}, {Object: "public.open_door", Kind: "table", Verdict: "exposed_without_rls", Detail: "anon: SELECT, TRUNCATE"}},
		CoveragePct: 50,
		Expected:    "policies/ACCESS.md",
		Changes:     []matrix.Difference{{Object: "public.notes", Command: "select", Role: "anon", Expected: "empty", Live: "denied"}},
		Findings: []FindingRow{{Rule: "policy_recursion", Level: "error", Category: "security", Object: "public.admins", ObjectType: "table", Detail: "<script>alert(1)</script>"},
			{Rule: "fk_without_index", Level: "info", Category: "performance", Object: "public.tags", ObjectType: "table"}},
	}
}

func TestWriteIsSelfContainedAndEscaped(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, sample()); err != nil {
		t.Fatal(err)
	}
	html := buf.String()
	for _, want := range []string{`id="grid"`, `id="changes"`, `class="l-defect">!`, `class="l-off">·`, "exposed_without_rls", "policy_recursion", "&lt;script&gt;",
		"~ public.notes select anon: expected empty, live denied", `class="c risk-high"`} {
		if !strings.Contains(html, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	for _, bad := range []string{"<script>alert", "http://", "https://", "<link ", "<script src"} {
		if strings.Contains(html, bad) {
			t.Errorf("page contains %q: must be self-contained and escaped", bad)
		}
	}
}

// The page renders in headless Chromium: its DOM has the three sections
// and a screenshot is a real, non-blank image.
func TestRendersInHeadlessChromium(t *testing.T) {
	bin := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			bin = p
			break
		}
	}
	if bin == "" {
		if os.Getenv("DBTOOL_REQUIRE_CHROMIUM") != "" {
			t.Fatal("chromium is required (DBTOOL_REQUIRE_CHROMIUM is set) but not installed")
		}
		t.Skip("chromium not installed (Debian: apt-get install chromium)")
	}
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	var buf bytes.Buffer
	if err := Write(&buf, sample()); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(page, buf.Bytes(), 0o644)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	args := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--user-data-dir=" + filepath.Join(dir, "profile")}
	dom, err := exec.CommandContext(ctx, bin, append(args, "--dump-dom", "file://"+page)...).Output()
	if err != nil {
		t.Fatalf("chromium --dump-dom: %v", err)
	}
	for _, id := range []string{`id="grid"`, `id="changes"`, `id="coverage"`, `id="findings"`, "infinite recursion detected in policy"} {
		if !strings.Contains(string(dom), id) {
			t.Errorf("rendered DOM lacks %s", id)
		}
	}

	// A backbone-sized page (34 tables, 45 functions, 6 roles) at 1400x900:
	// no horizontal scrolling, the changes and the grid both start on the
	// first screen.
	big := filepath.Join(dir, "big.html")
	buf.Reset()
	if err := Write(&buf, backboneSized()); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(big, buf.Bytes(), 0o644)
	dom, err = exec.CommandContext(ctx, bin, append(args, "--window-size=1400,900", "--dump-dom", "file://"+big)...).Output()
	if err != nil {
		t.Fatalf("chromium --dump-dom: %v", err)
	}
	attr := func(name string) int {
		m := regexp.MustCompile(name + `="(-?\d+)"`).FindSubmatch(dom)
		if m == nil {
			t.Fatalf("rendered page lacks %s", name)
		}
		n, _ := strconv.Atoi(string(m[1]))
		return n
	}
	if w := attr("data-scroll-width"); w > 1400 {
		t.Errorf("page is %d px wide at a 1400 px window: it scrolls horizontally", w)
	}
	if r, l := attr("data-grid-right"), attr("data-findings-left"); r > l {
		t.Errorf("the grid (right edge %d px) overlaps the findings (left edge %d px)", r, l)
	}
	if c, g := attr("data-changes-top"), attr("data-grid-top"); c > g || g > 900 {
		t.Errorf("changes at %d px and grid at %d px: both must start on the first 900 px, changes first", c, g)
	}
	shot := filepath.Join(dir, "shot.png")
	cmd := exec.CommandContext(ctx, bin, append(args, "--screenshot="+shot, "--window-size=1400,900", "file://"+big)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("chromium --screenshot: %v\n%s", err, out)
	}
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot is not a PNG: %v", err)
	}
	// Not blank: the colour grid puts several distinct colours on the page.
	colours := map[[3]uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 7 {
		for x := b.Min.X; x < b.Max.X; x += 7 {
			r, g, bl, _ := img.At(x, y).RGBA()
			colours[[3]uint32{r >> 8, g >> 8, bl >> 8}] = true
		}
	}
	if len(colours) < 6 {
		t.Errorf("screenshot has %d colours: the page did not render", len(colours))
	}
}

// backboneSized is a page the size of the reference backbone's: 34 tables
// with 5 commands, 45 functions, 6 roles, a few changes and findings.
func backboneSized() Data {
	d := sample()
	roles := []string{"anon", "stranger", "owner", "service_role", "staff", "platform_admin"}
	m := &matrix.Matrix{Roles: roles}
	one := int64(1)
	for i := 0; i < 34; i++ {
		for _, cmd := range matrix.TableCommands {
			for _, r := range roles {
				c := matrix.Cell{Schema: "public", Object: fmt.Sprintf("appointment_status_history_%02d", i), Kind: "table", Role: r, Command: cmd, Outcome: matrix.Denied}
				if r == "owner" || r == "service_role" {
					c.Outcome, c.Rows = matrix.Rows, &one
				}
				m.Cells = append(m.Cells, c)
			}
		}
	}
	for i := 0; i < 45; i++ {
		for _, r := range roles {
			m.Cells = append(m.Cells, matrix.Cell{Schema: "public", Object: fmt.Sprintf("appointment_reschedule_%02d(uuid, timestamp with time zone)", i), Kind: "function", Role: r, Command: "execute", Outcome: matrix.Denied})
		}
	}
	d.Matrix = m
	for i := 0; i < 12; i++ {
		d.Changes = append(d.Changes, matrix.Difference{Object: fmt.Sprintf("public.appointment_status_history_%02d", i), Command: "select", Role: "stranger", Expected: "empty", Live: "rows 1"})
	}
	return d
}
