package report

import (
	"bytes"
	"context"
	"flag"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var screenshotTo = flag.String("screenshot", "", "also save the browser test's screenshot of the page here (the README's is docs/report.png)")

// browserTimeout bounds one run of the browser; it only matters when the
// browser hangs.
const browserTimeout = 3 * time.Minute

// chromium finds Debian's chromium, or skips the test saying how to get it.
func chromium(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	t.Skip("chromium is not installed (apt-get install chromium): the report page was not opened in a browser")
	return ""
}

// runChromium runs headless chromium on a page with the given arguments
// and returns what it printed on standard output.
func runChromium(t testing.TB, bin, page string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), browserTimeout)
	defer cancel()
	// A helper chromium leaves behind may still write to its profile as
	// the test ends: the folder is removed on a best-effort basis rather
	// than by t.TempDir, whose cleanup fails the test on any error.
	profile, err := os.MkdirTemp("", "tune-report-chromium-")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(profile) })
	all := append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
		"--disable-breakpad", "--disable-crash-reporter",
		"--user-data-dir=" + profile, "--virtual-time-budget=5000"}, args...)
	cmd := exec.CommandContext(ctx, bin, append(all, "file://"+page)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Run(), "chromium: %s", stderr.String())
	return stdout.String()
}

var (
	consolePattern = regexp.MustCompile(`(?s)<pre id="console-errors"([^>]*)>(.*?)</pre>`)
	svgPattern     = regexp.MustCompile(`(?s)<svg [^>]*viewBox="0 0 ([0-9.]+) ([0-9.]+)"[^>]*>(.*?)</svg>`)
)

// consoleErrors is what the page's own script recorded of script errors
// and console.error calls, read from the DOM the browser dumped.
func consoleErrors(t *testing.T, dom string) string {
	t.Helper()
	m := consolePattern.FindStringSubmatch(dom)
	require.NotNil(t, m, "the page has its console-errors element")
	return strings.TrimSpace(m[2])
}

func TestTheBrowserRendersEveryPlotWithoutErrors(t *testing.T) {
	bin := chromium(t)
	root := t.TempDir()
	fixtures[0].f.write(t, root)
	page, err := Write(root, fixtures[0].f.name, fixtureStart.Add(time.Hour), false)
	require.NoError(t, err)

	dom := runChromium(t, bin, page, "--dump-dom")
	assert.Empty(t, consoleErrors(t, dom), "no script error and no console.error")
	assert.Contains(t, dom, `data-ready="1"`, "the table's script ran to its end")
	figs := figuresOf(dom)
	require.Len(t, figs, 10, "every figure reached the DOM")
	for id, body := range figs {
		m := svgPattern.FindStringSubmatch(body)
		if assert.NotNil(t, m, "figure %s has an SVG", id) {
			assert.NotEqual(t, "0", m[1], id)
			assert.NotEqual(t, "0", m[2], id)
			assert.Greater(t, strings.Count(m[3], "<path"), 5, "figure %s draws something", id)
		}
	}

	shot := filepath.Join(t.TempDir(), "report.png")
	runChromium(t, bin, page, "--hide-scrollbars", "--window-size=1280,4800", "--screenshot="+shot)
	f, err := os.Open(shot)
	require.NoError(t, err)
	defer f.Close()
	img, err := png.Decode(f)
	require.NoError(t, err)
	assert.Equal(t, 1280, img.Bounds().Dx())
	colours := map[uint32]bool{}
	for y := img.Bounds().Min.Y; y < img.Bounds().Max.Y; y += 7 {
		for x := img.Bounds().Min.X; x < img.Bounds().Max.X; x += 7 {
			r, g, b, _ := img.At(x, y).RGBA()
			colours[r>>8<<16|g>>8<<8|b>>8] = true
		}
	}
	assert.Greater(t, len(colours), 50, "the screenshot shows plots, not a blank page")
	if *screenshotTo != "" {
		b, err := os.ReadFile(shot)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(*screenshotTo, b, 0o666))
	}
}

func TestTheBrowserTestSeesAScriptError(t *testing.T) {
	bin := chromium(t)
	_, m := buildFixture(t, fixtures[1].f)
	page, err := Render(m, false)
	require.NoError(t, err)
	broken := bytes.Replace(page, []byte("</body>"), []byte(`<script>console.error("lost"); notAFunction();</script></body>`), 1)
	path := filepath.Join(t.TempDir(), File)
	require.NoError(t, os.WriteFile(path, broken, 0o666))
	got := consoleErrors(t, runChromium(t, bin, path, "--dump-dom"))
	assert.Contains(t, got, "console.error: lost")
	assert.Contains(t, got, "notAFunction is not defined")
}

func TestTheBrowserSortsTheTableByAClickedHeading(t *testing.T) {
	bin := chromium(t)
	_, m := buildFixture(t, fixtures[0].f)
	page, err := Render(m, false)
	require.NoError(t, err)
	// Clicks as a user would, then leaves the first row of each order
	// where --dump-dom shows it.
	clicks := `<script>
var heads = document.querySelectorAll("#results th");
function first() { return document.querySelector("#results tbody tr td").textContent; }
function click(name) { Array.prototype.filter.call(heads, function(h) { return h.textContent === name; })[0].click(); }
click("trial"); document.body.setAttribute("data-by-trial", first());
click("trial"); document.body.setAttribute("data-by-trial-desc", first());
click("lr"); document.body.setAttribute("data-by-lr", first());
click("opt"); click("opt"); document.body.setAttribute("data-by-opt-desc", document.querySelector("#results tbody tr td:nth-child(5)").textContent);
</script></body>`
	path := filepath.Join(t.TempDir(), File)
	require.NoError(t, os.WriteFile(path, bytes.Replace(page, []byte("</body>"), []byte(clicks), 1), 0o666))
	dom := runChromium(t, bin, path, "--dump-dom")
	require.Empty(t, consoleErrors(t, dom))

	byLR := m.Trials[0]
	for _, tr := range m.Trials {
		if tr.Params["lr"].(float64) < byLR.Params["lr"].(float64) {
			byLR = tr
		}
	}
	body := regexp.MustCompile(`<body[^>]*>`).FindString(dom)
	attr := func(name string) string {
		m := regexp.MustCompile(name + `="([^"]*)"`).FindStringSubmatch(body)
		if m == nil {
			return ""
		}
		return m[1]
	}
	assert.Equal(t, m.Trials[0].ID, attr("data-by-trial"), "ascending by trial index")
	assert.Equal(t, m.Trials[len(m.Trials)-1].ID, attr("data-by-trial-desc"), "a second click reverses")
	assert.Equal(t, byLR.ID, attr("data-by-lr"), "a column of numbers sorts by value")
	assert.Equal(t, "sgd", attr("data-by-opt-desc"), "a column of text sorts by text, reversed on a second click")
}
