package progress

import (
	"io"
	"os"
	"strconv"
	"time"

	"github.com/nomad-tune/tune/controller"
)

// Options says how a reporter shows progress.
type Options struct {
	// Live redraws a block in place with ANSI cursor movement; the CLI sets
	// it when stdout is a terminal (see IsTerminal).
	Live bool
	// Width is the number of columns lines are cut to; 0 means 100.
	Width int
	// Height is the terminal's rows, 0 when unknown. When it is known the
	// live table is cut so that the whole block fits: a block taller than
	// the screen cannot be redrawn in place, since the cursor cannot move
	// above the top of the screen.
	Height int
	// MaxRows is the most trials the live table shows; 0 means 20.
	MaxRows int
	// Metrics are extra metric columns besides the experiment's metric (at
	// most 3; more are ignored). When empty, the live table picks the first
	// numeric keys of the latest reports, leaving out the fields tune adds.
	// Plain lines show only the metrics named here, since columns picked
	// from whatever was reported first would make log lines of one run
	// differ in shape.
	Metrics []string
	// StatusEvery is how often plain mode prints a status line, by the
	// snapshot's Elapsed; 0 means 30s.
	StatusEvery time.Duration
}

const (
	defaultWidth       = 100
	defaultMaxRows     = 20
	defaultStatusEvery = 30 * time.Second
	maxExtraMetrics    = 3
	// minRedraw keeps the live block to about four redraws a second: often
	// enough to look alive, rarely enough that thousands of reports a
	// second cost nothing. It is a little under the controller's 250 ms
	// tick so that jitter in the ticks never makes every other one skip.
	minRedraw = 200 * time.Millisecond
)

// New returns a reporter writing to w.
func New(w io.Writer, opts Options) controller.Reporter {
	if opts.Width <= 0 {
		opts.Width = defaultWidth
	}
	if opts.MaxRows <= 0 {
		opts.MaxRows = defaultMaxRows
	}
	if opts.StatusEvery <= 0 {
		opts.StatusEvery = defaultStatusEvery
	}
	if len(opts.Metrics) > maxExtraMetrics {
		opts.Metrics = opts.Metrics[:maxExtraMetrics]
	}
	opts.Metrics = append([]string(nil), opts.Metrics...)
	if opts.Live {
		return &live{w: w, opts: opts}
	}
	return &plain{w: w, opts: opts, nextStatus: opts.StatusEvery}
}

var (
	_ controller.Reporter = (*live)(nil)
	_ controller.Reporter = (*plain)(nil)
)

// IsTerminal reports whether f is a terminal that can take cursor
// movement. TERM=dumb marks terminals (editor shells, some CI consoles)
// that print escape sequences literally.
func IsTerminal(f *os.File) bool {
	if f == nil || os.Getenv("TERM") == "dumb" {
		return false
	}
	info, err := f.Stat()
	if err != nil {
		return false
	}
	return info.Mode()&os.ModeCharDevice != 0
}

// TerminalSize is the terminal's columns and rows as the COLUMNS and
// LINES environment variables give them: width defaults to 100, height to
// 0 (unknown). Shells seldom export these, hence the defaults.
func TerminalSize() (width, height int) {
	width = envInt("COLUMNS")
	if width <= 0 {
		width = defaultWidth
	}
	return width, max(envInt("LINES"), 0)
}

func envInt(name string) int {
	n, err := strconv.Atoi(os.Getenv(name))
	if err != nil {
		return 0
	}
	return n
}
