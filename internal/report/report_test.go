package report

import (
	"bytes"
	"context"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
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
		}},
		Coverage:    []CoverageRow{{Object: "public.notes", Kind: "table", RLS: true, Verdict: "covered"}, {Object: "public.open_door", Kind: "table", Verdict: "exposed_without_rls", Detail: "anon: SELECT, TRUNCATE"}},
		CoveragePct: 50,
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
	for _, want := range []string{`id="matrix"`, `class="cell defect"`, `class="cell denied"`, "exposed_without_rls", "policy_recursion", "&lt;script&gt;"} {
		if !strings.Contains(html, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	for _, bad := range []string{"<script>alert", "http://", "https://", "<link "} {
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
	for _, id := range []string{`id="matrix"`, `id="coverage"`, `id="findings"`, "infinite recursion detected in policy"} {
		if !strings.Contains(string(dom), id) {
			t.Errorf("rendered DOM lacks %s", id)
		}
	}
	shot := filepath.Join(dir, "shot.png")
	cmd := exec.CommandContext(ctx, bin, append(args, "--screenshot="+shot, "--window-size=1200,900", "file://"+page)...)
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
