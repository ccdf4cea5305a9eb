package progress

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/nomad-tune/tune/controller"
	"github.com/nomad-tune/tune/results"
)

// ownFields are the fields tune adds to every report: they are in every
// row, so picking them as metric columns would crowd out what the trial
// itself reports.
var ownFields = func() map[string]bool {
	m := map[string]bool{}
	for _, f := range results.AddedFields {
		m[f] = true
	}
	return m
}()

// formatDuration is h:mm:ss, truncated to the second like a clock.
func formatDuration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	s := int64(d / time.Second)
	return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
}

// formatFloat keeps a number short enough for a table cell: 4 significant
// digits, whole numbers as they are, and no exponent for values a person
// reads better as an integer.
func formatFloat(f float64) string {
	if text, ok := results.NonFinite(f); ok {
		return text
	}
	if f == 0 {
		return "0"
	}
	if math.Abs(f) < 1e15 && (f == math.Trunc(f) || math.Abs(f) >= 1e4) {
		return strconv.FormatFloat(math.Round(f), 'f', 0, 64)
	}
	s := strconv.FormatFloat(f, 'g', 4, 64)
	mant, exp, ok := strings.Cut(s, "e")
	if !ok {
		return s
	}
	sign := ""
	if exp[0] == '-' {
		sign = "-"
	}
	return mant + "e" + sign + strings.TrimLeft(exp[1:], "0")
}

// number reads a metric or parameter as a float, whichever way it was
// decoded.
func number(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case float32:
		return float64(x), true
	case int:
		return float64(x), true
	case int8:
		return float64(x), true
	case int16:
		return float64(x), true
	case int32:
		return float64(x), true
	case int64:
		return float64(x), true
	case uint:
		return float64(x), true
	case uint8:
		return float64(x), true
	case uint16:
		return float64(x), true
	case uint32:
		return float64(x), true
	case uint64:
		return float64(x), true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	}
	return 0, false
}

// formatValue is one parameter or metric value, on one line.
func formatValue(v any) string {
	if f, ok := number(v); ok {
		return formatFloat(f)
	}
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return Sanitize(x)
	case bool:
		return strconv.FormatBool(x)
	}
	if b, err := json.Marshal(v); err == nil {
		return Sanitize(string(b))
	}
	return Sanitize(fmt.Sprint(v))
}

// truncate cuts s to width runes, marking the cut.
func truncate(s string, width int) string {
	if width <= 0 {
		return ""
	}
	if len(s) <= width {
		return s
	}
	runes := []rune(s)
	if len(runes) <= width {
		return s
	}
	return string(runes[:width-1]) + "…"
}

// paramNames are the parameters in file order, then any others a trial
// has, sorted, so nothing a trial was given goes unshown.
func paramNames(order []string, params map[string]any) []string {
	names := make([]string, 0, len(params))
	seen := make(map[string]bool, len(order))
	for _, name := range order {
		seen[name] = true
		if _, ok := params[name]; ok {
			names = append(names, name)
		}
	}
	var rest []string
	for name := range params {
		if !seen[name] {
			rest = append(rest, name)
		}
	}
	sort.Strings(rest)
	return append(names, rest...)
}

// ParamTitle is the column title of a parameter in a table that also
// shows the given metric columns: the parameter's name, or Ray Tune's
// "config/<name>" when a metric (or one of the table's own columns) has
// the same name, so that no two columns read alike.
func ParamTitle(name string, metrics []string, own ...string) string {
	if contains(metrics, name) || contains(own, name) {
		return "config/" + name
	}
	return name
}

// formatParams is "x=1.2, lr=0.001".
func formatParams(order []string, params map[string]any) string {
	names := paramNames(order, params)
	parts := make([]string, len(names))
	for i, name := range names {
		parts[i] = name + "=" + formatValue(params[name])
	}
	return strings.Join(parts, ", ")
}

// formatMetrics is "loss=0.0123, acc=0.91" for the named metrics the
// trial has reported.
func formatMetrics(last map[string]any, names ...string) string {
	var parts []string
	seen := map[string]bool{}
	for _, name := range names {
		if name == "" || seen[name] {
			continue
		}
		seen[name] = true
		if v, ok := last[name]; ok {
			parts = append(parts, Sanitize(name)+"="+formatValue(v))
		}
	}
	return strings.Join(parts, ", ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// counts is "running 4 · pending 12 · done 8 (1 error)".
func counts(s *controller.Snapshot) string {
	done := fmt.Sprintf("done %d", s.Terminated+s.Errored)
	if s.Errored > 0 {
		done += fmt.Sprintf(" (%d %s)", s.Errored, plural(s.Errored, "error", "errors"))
	}
	return fmt.Sprintf("running %d · pending %d · %s", s.Running, s.Pending, done)
}

// resources is "CPU 2/2 · memory 0.5/23.4 GiB · GPU 0/0", or "" when the
// target's size is not known.
func resources(s *controller.Snapshot) string {
	c, u := s.Capacity, s.InUse
	if c.Nodes == 0 && c.CPUCores == 0 && c.MemoryMiB == 0 && c.GPUs == 0 {
		return ""
	}
	// InUse is a difference of float totals; rounding hides 1.9999999.
	cores := func(f float64) string { return formatFloat(math.Round(f*100) / 100) }
	gib := func(mib int64) string { return strconv.FormatFloat(float64(mib)/1024, 'f', 1, 64) }
	return fmt.Sprintf("CPU %s/%s · memory %s/%s GiB · GPU %d/%d",
		cores(u.CPUCores), cores(c.CPUCores), gib(u.MemoryMiB), gib(c.MemoryMiB), u.GPUs, c.GPUs)
}

// bestText is "00003-ab12cd loss=0.0123", or "" when there is no best.
func bestText(s *controller.Snapshot) string {
	if s.Best == nil {
		return ""
	}
	text := s.Best.ID
	if m := formatMetrics(s.Best.Last, s.Metric); m != "" {
		text += " " + m
	}
	return text
}

// changeLine is how a change reads as a line of its own, without the
// time; "" for changes that are not worth a line (reports).
func changeLine(c controller.Change, s *controller.Snapshot, metrics []string) string {
	t := c.Trial
	trial := "trial " + t.ID
	switch c.Kind {
	case controller.TrialStarted:
		line := trial + " started"
		if t.Attempt > 0 {
			line += fmt.Sprintf(", attempt %d", t.Attempt+1)
		}
		if p := formatParams(s.ParamNames, t.Params); p != "" {
			line += " (" + p + ")"
		}
		// The controller says why a start is out of the ordinary, such as
		// a trial adopted from a run of tune that died.
		if c.Message != "" {
			line += ": " + c.Message
		}
		return line
	case controller.TrialFinished:
		line := trial + " finished with no reports"
		if t.Iterations > 0 {
			line = fmt.Sprintf("%s finished after %d %s", trial, t.Iterations, plural(t.Iterations, "iteration", "iterations"))
		}
		if m := formatMetrics(t.Last, append([]string{s.Metric}, metrics...)...); m != "" {
			line += ": " + m
		}
		if t.StopReason != "" {
			line += " (" + Sanitize(t.StopReason) + ")"
		}
		return line
	case controller.TrialFailed:
		return trial + " " + failure(t.Error, c.Message)
	case controller.TrialStopped:
		reason := Sanitize(c.Message)
		if reason == "" {
			reason = Sanitize(t.StopReason)
		}
		if reason == "" {
			return trial + " stopped"
		}
		return trial + " stopped: " + reason
	case controller.Warning:
		msg := Sanitize(c.Message)
		if t.ID != "" && !strings.Contains(msg, t.ID) {
			msg = trial + ": " + msg
		}
		return "warning: " + msg
	case controller.ExperimentDone:
		msg := Sanitize(c.Message)
		if msg == "" {
			msg = "ended"
		}
		return "experiment " + s.Experiment + " " + msg
	}
	return ""
}

// failure is "failed (exit status 3), retrying (1 of 2)". The controller's
// message repeats the error before saying what happens next; the error
// goes in parentheses so the outcome stands out.
func failure(errText, message string) string {
	errText, message = Sanitize(errText), Sanitize(message)
	switch {
	case errText != "" && strings.HasPrefix(message, errText):
		line := "failed (" + errText + ")"
		if next := strings.TrimLeft(message[len(errText):], ";, "); next != "" {
			line += ", " + next
		}
		return line
	case message != "":
		return "failed: " + message
	case errText != "":
		return "failed (" + errText + ")"
	}
	return "failed"
}

// stamp prefixes a line with the experiment's elapsed time.
func stamp(s *controller.Snapshot, line string) string {
	return "[" + formatDuration(s.Elapsed) + "] " + line
}
