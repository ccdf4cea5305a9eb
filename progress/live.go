package progress

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/nomad-tune/tune/controller"
)

// live redraws a block in place: the cursor moves up over the block drawn
// last and each line is overwritten, so the terminal never goes blank as a
// full-screen clear would make it. Lines that should stay in the
// scrollback (warnings, failures) are written above the block before it
// is drawn again.
type live struct {
	w    io.Writer
	opts Options
	// lines is the height of the block on screen, what the next redraw
	// moves up over.
	lines int
	// last is the block on screen, so an unchanged one is not written again.
	last    string
	drawn   bool
	drawnAt time.Duration
	// auto are the extra metric columns picked from reports when Options
	// names none; once picked a column stays, so the table does not jump
	// about as trials come and go.
	auto []string
	// doneLine is the experiment's last line, written below the final
	// block.
	doneLine string
	closed   bool
}

func (l *live) Changed(c controller.Change, s *controller.Snapshot) {
	if l.closed {
		return
	}
	switch c.Kind {
	case controller.Warning:
		l.draw(s, changeLine(c, s, l.opts.Metrics))
		return
	case controller.TrialFailed:
		l.draw(s, stamp(s, changeLine(c, s, l.opts.Metrics)))
		return
	case controller.ExperimentDone:
		l.doneLine = stamp(s, changeLine(c, s, l.opts.Metrics))
	}
	if l.due(s) {
		l.draw(s)
	}
}

func (l *live) Tick(s *controller.Snapshot) {
	if !l.closed && l.due(s) {
		l.draw(s)
	}
}

func (l *live) Done(s *controller.Snapshot) {
	if l.closed {
		return
	}
	l.draw(s)
	l.closed = true
	if l.doneLine != "" {
		_, _ = io.WriteString(l.w, Sanitize(l.doneLine)+"\n")
	}
}

// due throttles redraws by the snapshot's clock. A clock that went back
// (a new controller) counts as due.
func (l *live) due(s *controller.Snapshot) bool {
	return !l.drawn || s.Elapsed < l.drawnAt || s.Elapsed-l.drawnAt >= minRedraw
}

// draw writes the lines above, if any, then the block, in one write so
// the terminal never shows half a frame.
func (l *live) draw(s *controller.Snapshot, above ...string) {
	lines := l.render(s)
	block := strings.Join(lines, "\n")
	l.drawn, l.drawnAt = true, s.Elapsed
	if len(above) == 0 && block == l.last {
		return
	}
	var b strings.Builder
	if l.lines > 0 {
		fmt.Fprintf(&b, "\r\x1b[%dA", l.lines)
	}
	if len(above) > 0 {
		b.WriteString("\x1b[J")
		for _, line := range above {
			b.WriteString(Sanitize(line) + "\n")
		}
	}
	for _, line := range lines {
		b.WriteString("\x1b[2K" + line + "\n")
	}
	if len(above) == 0 && len(lines) < l.lines {
		b.WriteString("\x1b[J")
	}
	l.lines, l.last = len(lines), block
	_, _ = io.WriteString(l.w, b.String())
}

// render is the block: a header, the best trial, and the table.
func (l *live) render(s *controller.Snapshot) []string {
	header := "tune: " + s.Experiment + "  elapsed " + formatDuration(s.Elapsed)
	if s.TimeBudget > 0 {
		header += " (budget " + formatDuration(s.TimeBudget) + ")"
	}
	header += "  " + counts(s)
	if r := resources(s); r != "" {
		header += "  " + r
	}
	lines := []string{header}
	if best := bestText(s); best != "" {
		line := "best so far: " + best
		if p := formatParams(s.ParamNames, s.Best.Params); p != "" {
			line += " (" + p + ")"
		}
		lines = append(lines, line)
	}
	limit := l.opts.MaxRows
	if l.opts.Height > 0 {
		// The header lines, the table's title row, the "more" line and the
		// line the cursor rests on must fit beside the rows.
		limit = max(min(limit, l.opts.Height-len(lines)-3), 1)
	}
	rows, more := pickRows(s, limit)
	if len(rows) > 0 {
		lines = append(lines, l.table(s, rows)...)
	}
	if more > 0 {
		lines = append(lines, fmt.Sprintf("... %d more running", more))
	}
	for i, line := range lines {
		lines[i] = truncate(Sanitize(line), l.opts.Width)
	}
	return lines
}

// pickRows is the running trials, then the most recent finished ones, at
// most limit; more counts the running trials left out. A trial that
// failed and is running again shows once, as running.
func pickRows(s *controller.Snapshot, limit int) (rows []controller.TrialView, more int) {
	if len(s.Active) > limit {
		return s.Active[:limit], len(s.Active) - limit
	}
	rows = append(rows, s.Active...)
	seen := make(map[string]bool, len(rows))
	for _, t := range rows {
		seen[t.ID] = true
	}
	for _, t := range s.Recent {
		if len(rows) >= limit {
			break
		}
		if !seen[t.ID] {
			seen[t.ID] = true
			rows = append(rows, t)
		}
	}
	return rows, 0
}

// extraMetrics are the extra metric columns: the ones Options names, or
// else the ones picked so far from reports, topped up from the latest.
func (l *live) extraMetrics(s *controller.Snapshot) []string {
	var out []string
	names := l.opts.Metrics
	if len(names) == 0 {
		l.pickMetrics(s)
		names = l.auto
	}
	for _, name := range names {
		if name != s.Metric {
			out = append(out, name)
		}
	}
	return out
}

func (l *live) pickMetrics(s *controller.Snapshot) {
	if len(l.auto) >= maxExtraMetrics {
		return
	}
	for _, views := range [][]controller.TrialView{s.Active, s.Recent} {
		for _, t := range views {
			var keys []string
			for k, v := range t.Last {
				if _, ok := number(v); ok && !ownFields[k] && k != s.Metric && !contains(l.auto, k) {
					keys = append(keys, k)
				}
			}
			sort.Strings(keys)
			for _, k := range keys {
				if len(l.auto) >= maxExtraMetrics {
					return
				}
				l.auto = append(l.auto, k)
			}
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// maxCell keeps one long value (a string parameter, say) from taking the
// whole width.
const maxCell = 24

type column struct {
	title string
	cells []string
	right bool
	// drop orders what goes first when the table is too wide: parameters,
	// then extra metrics; 0 never goes, since without the trial, its
	// metric and its time a row says nothing.
	drop int
}

const (
	keep = iota
	dropMetric
	dropParam
)

func (l *live) table(s *controller.Snapshot, rows []controller.TrialView) []string {
	cells := func(f func(t controller.TrialView) string) []string {
		out := make([]string, len(rows))
		for i, t := range rows {
			out[i] = truncate(Sanitize(f(t)), maxCell)
		}
		return out
	}
	metric := func(name string) func(controller.TrialView) string {
		return func(t controller.TrialView) string {
			if v, ok := t.Last[name]; ok {
				return formatValue(v)
			}
			return ""
		}
	}
	cols := []column{
		{title: "TRIAL", cells: cells(func(t controller.TrialView) string { return t.ID })},
		{title: "STATUS", cells: cells(func(t controller.TrialView) string { return string(t.Status) })},
	}
	all := map[string]any{}
	for _, t := range rows {
		for k := range t.Params {
			all[k] = nil
		}
	}
	metrics := l.extraMetrics(s)
	shownMetrics := metrics
	if s.Metric != "" {
		shownMetrics = append([]string{s.Metric}, metrics...)
	}
	for _, name := range paramNames(s.ParamNames, all) {
		right := true
		for _, t := range rows {
			if v, ok := t.Params[name]; ok {
				if _, isNum := number(v); !isNum {
					right = false
				}
			}
		}
		title := ParamTitle(name, shownMetrics, "TRIAL", "STATUS", "ITER", "TIME")
		cols = append(cols, column{title: Sanitize(title), right: right, drop: dropParam, cells: cells(func(t controller.TrialView) string {
			if v, ok := t.Params[name]; ok {
				return formatValue(v)
			}
			return ""
		})})
	}
	cols = append(cols, column{title: "ITER", right: true, cells: cells(func(t controller.TrialView) string { return fmt.Sprint(t.Iterations) })})
	if s.Metric != "" {
		cols = append(cols, column{title: Sanitize(s.Metric), right: true, cells: cells(metric(s.Metric))})
	}
	for _, name := range metrics {
		cols = append(cols, column{title: Sanitize(name), right: true, drop: dropMetric, cells: cells(metric(name))})
	}
	cols = append(cols, column{title: "TIME", right: true, cells: cells(func(t controller.TrialView) string { return formatDuration(t.Runtime) })})
	return layout(fit(cols, l.opts.Width))
}

func width(c column) int {
	w := len([]rune(c.title))
	for _, cell := range c.cells {
		w = max(w, len([]rune(cell)))
	}
	return w
}

// fit leaves out parameter columns, then extra metric columns, from the
// right until the table fits in width: a line cut at the edge would lose
// the metric and the time, the columns a user watches.
func fit(cols []column, width int) []column {
	for _, kind := range []int{dropParam, dropMetric} {
		for tableWidth(cols) > width {
			i := lastOf(cols, kind)
			if i < 0 {
				break
			}
			cols = append(cols[:i:i], cols[i+1:]...)
		}
	}
	return cols
}

func tableWidth(cols []column) int {
	w := 2 * (len(cols) - 1)
	for _, c := range cols {
		w += width(c)
	}
	return w
}

func lastOf(cols []column, kind int) int {
	for i := len(cols) - 1; i >= 0; i-- {
		if cols[i].drop == kind {
			return i
		}
	}
	return -1
}

func layout(cols []column) []string {
	widths := make([]int, len(cols))
	for i, c := range cols {
		widths[i] = width(c)
	}
	line := func(cell func(c column) string) string {
		var b strings.Builder
		for i, c := range cols {
			if i > 0 {
				b.WriteString("  ")
			}
			text := cell(c)
			pad := strings.Repeat(" ", widths[i]-len([]rune(text)))
			if c.right {
				b.WriteString(pad + text)
			} else {
				b.WriteString(text + pad)
			}
		}
		return strings.TrimRight(b.String(), " ")
	}
	n := len(cols[0].cells)
	out := make([]string, 0, n+1)
	out = append(out, line(func(c column) string { return c.title }))
	for r := 0; r < n; r++ {
		out = append(out, line(func(c column) string { return c.cells[r] }))
	}
	return out
}
