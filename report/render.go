package report

import (
	"bytes"
	"fmt"
	"html/template"
	"image/color"
	"math"
	"sort"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/nomad-tune/tune/results"
)

// Figure is one plot of the page: an SVG, or why there is none yet.
type Figure struct {
	ID    string
	Title string
	SVG   template.HTML
	Empty string
	Note  string
}

var (
	colorBest    = color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}
	colorOther   = color.NRGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0x50}
	colorGrid    = color.Gray{Y: 0xe4}
	colorStopped = color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff}
	colorLimit   = color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff}
	colorGPU     = color.RGBA{R: 0x94, G: 0x67, B: 0xbd, A: 0xff}
	colorMemory  = color.RGBA{R: 0x8c, G: 0x56, B: 0x4b, A: 0xff}
	colorCPU     = color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}
)

const (
	figureWidth  = 26 * vg.Centimeter
	figureHeight = 12 * vg.Centimeter
	smallWidth   = 13 * vg.Centimeter
	smallHeight  = 9 * vg.Centimeter
)

// metricLabel names the metric axis with the direction that is better;
// the unit is whatever the trials reported.
func metricLabel(s *results.Summary) string {
	better := "lower is better"
	if s.Mode == "max" {
		better = "higher is better"
	}
	return fmt.Sprintf("%s (as reported; %s)", s.Metric, better)
}

// figures draws every plot of the model, in page order.
func figures(m *Model) ([]Figure, error) {
	var out []Figure
	for _, draw := range []func(*Model) (Figure, error){curvesByIterationFigure, curvesByTimeFigure, bestByTimeFigure, bestByCountFigure, parallelFigure, scheduleFigure, utilisationFigure} {
		f, err := draw(m)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	scatters, err := paramFigures(m)
	if err != nil {
		return nil, err
	}
	// The scatters come after the parallel coordinates, before the schedule.
	return append(out[:5], append(scatters, out[5:]...)...), nil
}

func newPlot(title, x, y string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = x
	p.Y.Label.Text = y
	p.Legend.Top = true
	sans := func(size vg.Length) font.Font {
		return font.From(font.Font{Typeface: "Liberation", Variant: "Sans"}, size)
	}
	p.Title.TextStyle.Font = sans(11)
	p.Legend.TextStyle.Font = sans(9)
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font = sans(10)
		a.Tick.Label.Font = sans(9)
	}
	g := plotter.NewGrid()
	g.Vertical.Color, g.Horizontal.Color = colorGrid, colorGrid
	p.Add(g)
	return p
}

// svg renders a plot as an SVG element to put inline in the page.
func svg(p *plot.Plot, w, h vg.Length) (template.HTML, error) {
	wt, err := p.WriterTo(w, h, "svg")
	if err != nil {
		return "", err
	}
	var b bytes.Buffer
	if _, err := wt.WriteTo(&b); err != nil {
		return "", err
	}
	out := b.Bytes()
	// The XML prolog and comment belong to a file, not to HTML.
	if i := bytes.Index(out, []byte("<svg")); i > 0 {
		out = out[i:]
	}
	// The page sizes the plot; the view box keeps its proportions.
	out = bytes.Replace(out, []byte("<svg "), []byte(`<svg preserveAspectRatio="xMidYMid meet" role="img" `), 1)
	return template.HTML(out), nil //nolint:gosec // drawn here from numbers and escaped labels
}

func curvesByIterationFigure(m *Model) (Figure, error) {
	return curvesFigure(m, "curves", "Metric of every trial over its reports", "training_iteration (reports)", func(pt Point) float64 { return pt.Iteration })
}

func curvesByTimeFigure(m *Model) (Figure, error) {
	return curvesFigure(m, "curves-time", "Metric of every trial over its running time", "time_total_s (s since the attempt started)", func(pt Point) float64 { return pt.Seconds })
}

func curvesFigure(m *Model, id, title, xLabel string, x func(Point) float64) (Figure, error) {
	f := Figure{ID: id, Title: title}
	if m.Summary.Metric == "" {
		f.Empty = "The experiment has no metric."
		return f, nil
	}
	p := newPlot("", xLabel, metricLabel(m.Summary))
	var best *Trial
	var cuts plotter.XYs
	drawn := 0
	var withCurve []*Trial
	for _, t := range m.Trials {
		if len(t.Curve) > 0 {
			withCurve = append(withCurve, t)
		}
	}
	shown, left := bestLines(m, withCurve, func(t *Trial) float64 { return t.Curve[len(t.Curve)-1].Value })
	for _, t := range shown {
		if t.ID == m.Best {
			best = t
			continue
		}
		l, err := plotter.NewLine(curveXYs(t.Curve, x))
		if err != nil {
			return f, err
		}
		l.Color = colorOther
		l.Width = vg.Points(0.6)
		if t.Status == results.Error {
			l.Dashes = []vg.Length{vg.Points(2), vg.Points(2)}
		}
		p.Add(l)
		drawn++
		if t.Stopped {
			last := t.Curve[len(t.Curve)-1]
			cuts = append(cuts, plotter.XY{X: x(last), Y: last.Value})
		}
	}
	if drawn == 0 && best == nil {
		f.Empty = fmt.Sprintf("No trial has reported %s yet.", m.Summary.Metric)
		return f, nil
	}
	if drawn > 0 {
		p.Legend.Add(fmt.Sprintf("other trials (%d)", drawn), &plotter.Line{LineStyle: draw.LineStyle{Color: colorOther, Width: vg.Points(2)}})
	}
	if len(cuts) > 0 {
		s, err := plotter.NewScatter(cuts)
		if err != nil {
			return f, err
		}
		s.GlyphStyle = draw.GlyphStyle{Color: colorStopped, Radius: vg.Points(3), Shape: draw.CrossGlyph{}}
		p.Add(s)
		p.Legend.Add(fmt.Sprintf("stopped early (%d)", len(cuts)), s)
	}
	if best != nil {
		l, err := plotter.NewLine(curveXYs(best.Curve, x))
		if err != nil {
			return f, err
		}
		l.Color = colorBest
		l.Width = vg.Points(2.5)
		p.Add(l)
		p.Legend.Add("best trial "+best.ID, l)
	}
	f.Note = "Each line is a trial's last attempt; a cross marks where a stop rule or scheduler cut a trial; dashed lines are trials that ended in error."
	if left > 0 {
		f.Note += fmt.Sprintf(" The %d trials with the best last value are drawn; %d others are left out (the table lists every trial).", len(shown), left)
	}
	var err error
	f.SVG, err = svg(p, figureWidth, figureHeight)
	return f, err
}

// maxLines is how many trials a plot of lines draws: past it, a browser
// takes seconds to draw the page and the lines merge into one band anyway.
// The best trials are kept, as they are the ones the plot is read for.
const maxLines = 1000

// bestLines orders trials best first by value and keeps maxLines of them;
// it returns how many it left out.
func bestLines(m *Model, trials []*Trial, value func(*Trial) float64) ([]*Trial, int) {
	if len(trials) <= maxLines {
		return trials, 0
	}
	sorted := append([]*Trial(nil), trials...)
	sort.SliceStable(sorted, func(i, j int) bool {
		a, b := value(sorted[i]), value(sorted[j])
		if m.Summary.Mode == "max" {
			return a > b
		}
		return a < b
	})
	return sorted[:maxLines], len(sorted) - maxLines
}

func curveXYs(c []Point, x func(Point) float64) plotter.XYs {
	xys := make(plotter.XYs, len(c))
	for i, pt := range c {
		xys[i] = plotter.XY{X: x(pt), Y: pt.Value}
	}
	return xys
}

func bestByTimeFigure(m *Model) (Figure, error) {
	return bestFigure(m, "best-time", "Best so far against wall time", "wall time since the experiment started (s)", func(b BestPoint) float64 { return b.Seconds })
}

func bestByCountFigure(m *Model) (Figure, error) {
	return bestFigure(m, "best-count", "Best so far against trials finished", "trials finished (count)", func(b BestPoint) float64 { return float64(b.Finished) })
}

func bestFigure(m *Model, id, title, xLabel string, x func(BestPoint) float64) (Figure, error) {
	f := Figure{ID: id, Title: title}
	if len(m.BestSoFar) == 0 {
		f.Empty = "No finished trial has reported the metric yet."
		return f, nil
	}
	p := newPlot("", xLabel, "best "+metricLabel(m.Summary))
	if id == "best-count" {
		p.X.Tick.Marker = countTicks{}
	}
	var steps, finished plotter.XYs
	for i, b := range m.BestSoFar {
		if i > 0 {
			// A step: the best holds until the next trial improves it.
			steps = append(steps, plotter.XY{X: x(b), Y: m.BestSoFar[i-1].Value})
		}
		steps = append(steps, plotter.XY{X: x(b), Y: b.Value})
		finished = append(finished, plotter.XY{X: x(b), Y: b.Value})
	}
	l, err := plotter.NewLine(steps)
	if err != nil {
		return f, err
	}
	pts, err := plotter.NewScatter(finished)
	if err != nil {
		return f, err
	}
	l.Color, l.Width = colorBest, vg.Points(1.5)
	pts.GlyphStyle = draw.GlyphStyle{Color: colorBest, Radius: vg.Points(1.5), Shape: draw.CircleGlyph{}}
	p.Add(l, pts)
	f.SVG, err = svg(p, smallWidth, smallHeight)
	return f, err
}

// scored are the finished trials with the metric, for the parameter plots.
func scored(m *Model) []*Trial {
	var out []*Trial
	for _, t := range m.Trials {
		if !t.Status.Finished() {
			continue
		}
		if _, ok := results.MetricValue(t.LastResult, m.Summary.Metric); ok {
			out = append(out, t)
		}
	}
	return out
}

func metricOf(m *Model, t *Trial) float64 {
	v, _ := results.MetricValue(t.LastResult, m.Summary.Metric)
	return v
}

// categories lists a parameter's values as text, sorted, for the
// parameters that are not all numbers.
func categories(trials []*Trial, name string) []string {
	set := map[string]bool{}
	for _, t := range trials {
		set[fmt.Sprint(t.Params[name])] = true
	}
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// position places a trial's value of a parameter on its axis: the number,
// or the index of its category.
func position(t *Trial, prm Param, cats map[string]float64) (float64, bool) {
	if prm.Numeric {
		v, ok := results.Number(t.Params[prm.Name])
		if !ok || math.IsNaN(v) || math.IsInf(v, 0) || (prm.Log && v <= 0) {
			return 0, false
		}
		return v, true
	}
	v, ok := cats[fmt.Sprint(t.Params[prm.Name])]
	return v, ok
}

func catIndex(cats []string) map[string]float64 {
	idx := make(map[string]float64, len(cats))
	for i, c := range cats {
		idx[c] = float64(i)
	}
	return idx
}

func paramFigures(m *Model) ([]Figure, error) {
	var out []Figure
	trials := scored(m)
	for _, prm := range m.Params {
		f := Figure{ID: "param-" + prm.Name, Title: prm.Name + " against the metric"}
		if m.Summary.Metric == "" || len(trials) == 0 {
			f.Empty = "No finished trial has reported the metric yet."
			out = append(out, f)
			continue
		}
		xLabel := prm.Name + " (trial parameter)"
		if prm.Log {
			xLabel = prm.Name + " (trial parameter, log scale)"
		}
		p := newPlot("", xLabel, metricLabel(m.Summary))
		var cats []string
		var idx map[string]float64
		if !prm.Numeric {
			cats = categories(trials, prm.Name)
			idx = catIndex(cats)
			ticks := make([]plot.Tick, len(cats))
			for i, c := range cats {
				ticks[i] = plot.Tick{Value: float64(i), Label: c}
			}
			p.X.Tick.Marker = plot.ConstantTicks(ticks)
			p.X.Min, p.X.Max = -0.5, float64(len(cats))-0.5
		}
		if prm.Log {
			p.X.Scale = plot.LogScale{}
			p.X.Tick.Marker = logTicks{}
		}
		var xys, bestXY plotter.XYs
		for _, t := range trials {
			x, ok := position(t, prm, idx)
			if !ok {
				continue
			}
			pt := plotter.XY{X: x, Y: metricOf(m, t)}
			if math.IsInf(pt.Y, 0) {
				continue
			}
			if t.ID == m.Best {
				bestXY = append(bestXY, pt)
			} else {
				xys = append(xys, pt)
			}
		}
		if len(xys)+len(bestXY) == 0 {
			f.Empty = "No finished trial has a value of " + prm.Name + " to plot."
			out = append(out, f)
			continue
		}
		for _, set := range []struct {
			xys   plotter.XYs
			c     color.Color
			r     vg.Length
			label string
		}{{xys, colorCPU, vg.Points(1.6), "trial"}, {bestXY, colorBest, vg.Points(4), "best trial"}} {
			if len(set.xys) == 0 {
				continue
			}
			s, err := plotter.NewScatter(set.xys)
			if err != nil {
				return nil, err
			}
			s.GlyphStyle = draw.GlyphStyle{Color: set.c, Radius: set.r, Shape: draw.CircleGlyph{}}
			p.Add(s)
			p.Legend.Add(set.label, s)
		}
		var err error
		f.SVG, err = svg(p, smallWidth, smallHeight)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

// parallelFigure draws every finished trial as a line across one axis per
// parameter and one for the metric, each scaled to its own range.
func parallelFigure(m *Model) (Figure, error) {
	f := Figure{ID: "parallel", Title: "Parallel coordinates: every parameter and the metric"}
	trials := scored(m)
	if m.Summary.Metric == "" || len(trials) == 0 || len(m.Params) == 0 {
		f.Empty = "No finished trial with parameters has reported the metric yet."
		return f, nil
	}
	type axis struct {
		name   string
		log    bool
		lo, hi float64
		value  func(*Trial) (float64, bool)
	}
	var axes []*axis
	for _, prm := range m.Params {
		var idx map[string]float64
		if !prm.Numeric {
			idx = catIndex(categories(trials, prm.Name))
		}
		axes = append(axes, &axis{name: prm.Name, log: prm.Log, value: func(t *Trial) (float64, bool) { return position(t, prm, idx) }})
	}
	axes = append(axes, &axis{name: m.Summary.Metric, value: func(t *Trial) (float64, bool) {
		v := metricOf(m, t)
		return v, !math.IsInf(v, 0)
	}})
	for _, a := range axes {
		a.lo, a.hi = math.Inf(1), math.Inf(-1)
		for _, t := range trials {
			if v, ok := a.value(t); ok {
				if a.log {
					v = math.Log10(v)
				}
				a.lo, a.hi = math.Min(a.lo, v), math.Max(a.hi, v)
			}
		}
	}
	p := newPlot("", "parameter (axis)", "scaled value (0 = least, 1 = greatest on each axis)")
	ticks := make([]plot.Tick, len(axes))
	for i, a := range axes {
		ticks[i] = plot.Tick{Value: float64(i), Label: a.name}
	}
	p.X.Tick.Marker = plot.ConstantTicks(ticks)
	p.Y.Min, p.Y.Max = 0, 1
	line := func(t *Trial) plotter.XYs {
		xys := make(plotter.XYs, 0, len(axes))
		for i, a := range axes {
			v, ok := a.value(t)
			if !ok {
				continue
			}
			if a.log {
				v = math.Log10(v)
			}
			y := 0.5
			if a.hi > a.lo {
				y = (v - a.lo) / (a.hi - a.lo)
			}
			xys = append(xys, plotter.XY{X: float64(i), Y: y})
		}
		return xys
	}
	var best *Trial
	shown, left := bestLines(m, trials, func(t *Trial) float64 { return metricOf(m, t) })
	for _, t := range shown {
		if t.ID == m.Best {
			best = t
			continue
		}
		l, err := plotter.NewLine(line(t))
		if err != nil {
			return f, err
		}
		l.Color, l.Width = colorOther, vg.Points(0.6)
		p.Add(l)
	}
	if best != nil {
		l, err := plotter.NewLine(line(best))
		if err != nil {
			return f, err
		}
		l.Color, l.Width = colorBest, vg.Points(2.5)
		p.Add(l)
		p.Legend.Add("best trial "+best.ID, l)
	}
	var ranges []string
	for _, a := range axes {
		if math.IsInf(a.lo, 0) {
			continue
		}
		lo, hi := a.lo, a.hi
		scale := ""
		if a.log {
			lo, hi, scale = math.Pow(10, lo), math.Pow(10, hi), ", log scale"
		}
		if idxNumeric(m, a.name) {
			ranges = append(ranges, fmt.Sprintf("%s %s to %s%s", a.name, fmtNum(lo), fmtNum(hi), scale))
		}
	}
	f.Note = "Axis ranges: " + joinList(ranges) + ". Text parameters are spread evenly in sorted order."
	if left > 0 {
		f.Note += fmt.Sprintf(" The %d best trials are drawn; %d others are left out.", len(shown), left)
	}
	var err error
	f.SVG, err = svg(p, figureWidth, figureHeight)
	return f, err
}

func idxNumeric(m *Model, name string) bool {
	for _, p := range m.Params {
		if p.Name == name {
			return p.Numeric
		}
	}
	return true
}

func joinList(items []string) string {
	if len(items) == 0 {
		return "none"
	}
	out := items[0]
	for _, s := range items[1:] {
		out += "; " + s
	}
	return out
}

func fmtNum(f float64) string { return fmt.Sprintf("%.4g", f) }

func scheduleFigure(m *Model) (Figure, error) {
	f := Figure{ID: "schedule", Title: "Trials running against the limits"}
	if len(m.Schedule) == 0 {
		f.Empty = "No trial has started yet."
		return f, nil
	}
	p := newPlot("", "wall time since the experiment started (s)", "trials running (count)")
	running := stepXYs(m.Schedule, func(s Step) float64 { return float64(s.Running) })
	l, err := plotter.NewLine(running)
	if err != nil {
		return f, err
	}
	l.Color, l.Width = colorCPU, vg.Points(1.5)
	p.Add(l)
	p.Legend.Add("running", l)
	end := m.Schedule[len(m.Schedule)-1].Seconds
	if pl := m.Plan; pl != nil {
		if pl.AtOnce > 0 {
			addLevel(p, float64(pl.AtOnce), end, colorLimit, "fit on the empty target (capacity)")
		}
		if pl.MaxConcurrentTrials > 0 && pl.MaxConcurrentTrials != pl.AtOnce {
			addLevel(p, float64(pl.MaxConcurrentTrials), end, colorStopped, "max_concurrent_trials")
		}
	}
	// Room above the highest line for the legend.
	p.Y.Min = 0
	p.Y.Max = math.Max(p.Y.Max, 1) * 1.3
	p.Y.Tick.Marker = countTicks{}
	f.SVG, err = svg(p, figureWidth, smallHeight)
	return f, err
}

func addLevel(p *plot.Plot, y, end float64, c color.Color, label string) {
	l, err := plotter.NewLine(plotter.XYs{{X: 0, Y: y}, {X: end, Y: y}})
	if err != nil {
		return
	}
	l.Color, l.Width = c, vg.Points(1.2)
	l.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
	p.Add(l)
	p.Legend.Add(fmt.Sprintf("%s = %s", label, fmtNum(y)), l)
}

// stepXYs draws a value that holds from one step to the next.
func stepXYs(steps []Step, y func(Step) float64) plotter.XYs {
	xys := make(plotter.XYs, 0, 2*len(steps)+1)
	xys = append(xys, plotter.XY{X: math.Min(0, steps[0].Seconds), Y: 0})
	prev := 0.0
	for _, s := range steps {
		xys = append(xys, plotter.XY{X: s.Seconds, Y: prev}, plotter.XY{X: s.Seconds, Y: y(s)})
		prev = y(s)
	}
	return xys
}

func utilisationFigure(m *Model) (Figure, error) {
	f := Figure{ID: "utilisation", Title: "Share of the target's capacity the trials held"}
	if len(m.Schedule) == 0 {
		f.Empty = "No trial has started yet."
		return f, nil
	}
	if m.Plan == nil {
		f.Empty = "The results folder has no " + PlanFile + " (written by tune apply): the trials' resources are unknown."
		return f, nil
	}
	p := newPlot("", "wall time since the experiment started (s)", "capacity in use (%)")
	c := m.Plan.Capacity
	for _, r := range []struct {
		name  string
		total float64
		used  func(Resources) float64
		color color.Color
	}{
		{"CPU", c.CPU, func(r Resources) float64 { return r.CPU }, colorCPU},
		{"memory", c.MemoryMiB, func(r Resources) float64 { return r.MemoryMiB }, colorMemory},
		{"GPU", c.GPU, func(r Resources) float64 { return r.GPU }, colorGPU},
	} {
		if r.total <= 0 {
			continue
		}
		l, err := plotter.NewLine(stepXYs(m.Schedule, func(s Step) float64 { return 100 * r.used(s.Used) / r.total }))
		if err != nil {
			return f, err
		}
		l.Color, l.Width = r.color, vg.Points(1.5)
		p.Add(l)
		p.Legend.Add(fmt.Sprintf("%s (of %s)", r.name, capacityText(r.name, r.total)), l)
	}
	// Room above 100 % for the legend.
	p.Y.Min, p.Y.Max = 0, 130
	p.Y.Tick.Marker = plot.ConstantTicks{{Value: 0, Label: "0"}, {Value: 25, Label: "25"}, {Value: 50, Label: "50"}, {Value: 75, Label: "75"}, {Value: 100, Label: "100"}}
	var err error
	f.SVG, err = svg(p, figureWidth, smallHeight)
	return f, err
}

func capacityText(name string, total float64) string {
	switch name {
	case "CPU":
		return fmtNum(total) + " cores"
	case "memory":
		if total >= 1024 {
			return fmt.Sprintf("%.1f GiB", total/1024)
		}
		return fmtNum(total) + " MiB"
	}
	return fmtNum(total) + " GPUs"
}

// logTicks labels a log axis by its powers of ten, or, on a range
// narrower than two of them, as a linear axis would.
type logTicks struct{}

func (logTicks) Ticks(lo, hi float64) []plot.Tick {
	ticks := plot.LogTicks{Prec: -1}.Ticks(lo, hi)
	labelled := 0
	for _, t := range ticks {
		if t.Label != "" {
			labelled++
		}
	}
	if labelled >= 2 {
		return ticks
	}
	return plot.DefaultTicks{}.Ticks(lo, hi)
}

// countTicks labels an axis of counts with whole numbers only.
type countTicks struct{}

func (countTicks) Ticks(lo, hi float64) []plot.Tick {
	step := 1.0
	for i := 0; (hi-lo)/step > 8; i++ {
		// 1, 2, 5, 10, 20, 50, ...
		step *= []float64{2, 2.5, 2}[i%3]
	}
	var ticks []plot.Tick
	for v := math.Ceil(lo/step) * step; v <= hi; v += step {
		ticks = append(ticks, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', 0, 64)})
	}
	return ticks
}
