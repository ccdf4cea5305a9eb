package main

import (
	"cmp"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/nomad-tune/tune/progress"
	"github.com/nomad-tune/tune/results"
)

const resultsUsage = `
Usage: tune results [options] NAME

  Shows the results of an experiment, running or finished, from its
  results folder: a table of the trials with their parameters and last
  reported metrics, and the best trial.

  The table is sorted by the experiment's metric (best first) when it has
  one, else by trial index; -sort picks another metric ("index" for the
  trial order; a leading "-" reverses).

  Below it, what the scheduler did: how long attempts took from
  submission (and from tune's decision to start them) to running, p50 and
  p99; how many ran at once; and the share of the target's CPU, memory
  and devices they held, over the time any attempt was in flight.
`

// defaultResultsDir is where apply writes and results reads unless
// -results says otherwise.
const defaultResultsDir = "tune-results"

// otherMetrics is how many last-result metrics the table shows beside the
// experiment's own: more makes the table wider than a terminal.
const otherMetrics = 3

func runResults(env *cliEnv, args []string) int {
	fs := newFlagSet("results", resultsUsage, env.stderr)
	root := fs.String("results", defaultResultsDir, "The folder that holds experiments' results.")
	asJSON := fs.Bool("json", false, "Print the summary and every trial's record as JSON.")
	asCSV := fs.Bool("csv", false, "Print trials.csv: one row per trial with its parameters and last metrics.")
	sortBy := fs.String("sort", "", `Sort the table by this metric ("index" for trial order; a leading "-" reverses). Default: the experiment's metric in its mode, else index.`)
	limit := fs.Int("limit", shownTrials, "Rows of the table to show; 0 shows every trial.")
	names, err := parseArgs(fs, args)
	if err != nil {
		return flagStatus(err)
	}
	name, ok := experimentArg(env, fs, "results", *root, names)
	if !ok {
		return exitError
	}
	if *asCSV {
		return printTrialsCSV(env, *root, name)
	}
	sum, records, err := results.Load(*root, name)
	if err != nil {
		fmt.Fprintf(env.stderr, "tune results: %v\n", err)
		return exitError
	}
	if *asJSON {
		if records == nil {
			records = []*results.TrialRecord{}
		}
		writeJSON(env.stdout, struct {
			Summary *results.Summary       `json:"summary"`
			Trials  []*results.TrialRecord `json:"trials"`
		}{sum, records})
		return exitOK
	}
	w := env.stdout
	fmt.Fprintf(w, "Experiment %q (%s): %s\n", sum.Name, progress.Sanitize(sum.File), summaryStatus(sum))
	if sum.Metric != "" {
		fmt.Fprintf(w, "  Metric:  %s (%s)\n", progress.Sanitize(sum.Metric), progress.Sanitize(modeOrMin(sum.Mode)))
	}
	if sum.Target != "" {
		fmt.Fprintf(w, "  Target:  %s\n", progress.Sanitize(sum.Target))
	}
	fmt.Fprintln(w)
	printTable(w, sum, records, nil, *limit, *sortBy)
	if printScheduling(w, sum.Scheduling) {
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "Results folder: %s\n", filepath.Join(*root, name))
	return exitOK
}

// experimentArg takes the one experiment name of a verb that reads the
// results folder: a plain name, never a path. Without one it prints the
// usage and the experiments there are.
func experimentArg(env *cliEnv, fs *flag.FlagSet, verb, root string, names []string) (string, bool) {
	if len(names) != 1 {
		fs.Usage()
		if list, err := results.Experiments(root); err == nil && len(list) > 0 {
			fmt.Fprintf(env.stderr, "\nExperiments in %s: %s\n", root, strings.Join(list, ", "))
		}
		return "", false
	}
	if err := results.CheckExperimentName(names[0]); err != nil {
		fmt.Fprintf(env.stderr, "tune %s: %v\n", verb, err)
		return "", false
	}
	return names[0], true
}

func printTrialsCSV(env *cliEnv, root, name string) int {
	f, err := os.Open(filepath.Join(root, name, results.TrialsCSVFile))
	if errors.Is(err, os.ErrNotExist) {
		// Load's error says which experiments do exist.
		if _, _, lerr := results.Load(root, name); lerr != nil {
			err = lerr
		}
	}
	if err != nil {
		fmt.Fprintf(env.stderr, "tune results: %v\n", err)
		return exitError
	}
	defer f.Close()
	if _, err := io.Copy(env.stdout, f); err != nil {
		fmt.Fprintf(env.stderr, "tune results: %v\n", err)
		return exitError
	}
	return exitOK
}

// printResultsTable prints the trials as Ray Tune's final table does, best
// first by the experiment's metric, then the best trial. paramNames gives
// the parameter columns in order; nil takes every parameter, sorted.
// limit caps the rows, 0 shows every trial.
func printResultsTable(w io.Writer, sum *results.Summary, records []*results.TrialRecord, paramNames []string, limit int) {
	printTable(w, sum, records, paramNames, limit, "")
}

func printTable(w io.Writer, sum *results.Summary, records []*results.TrialRecord, paramNames []string, limit int, sortBy string) {
	if paramNames == nil {
		paramNames = allParamNames(records)
	}
	fmt.Fprintf(w, "Number of trials: %s\n", countsText(sum, records))
	if len(records) == 0 {
		return
	}
	rows := sortedRecords(records, sum, sortBy)
	shown := rows
	if limit > 0 && len(shown) > limit {
		shown = shown[:limit]
	}
	metrics := tableMetrics(records, sum.Metric)

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	header := []string{"TRIAL", "STATUS"}
	for _, p := range paramNames {
		header = append(header, progress.ParamTitle(p, metrics, "TRIAL", "STATUS", "ITER", "TIME (S)"))
	}
	header = append(header, "ITER", "TIME (S)")
	header = append(header, metrics...)
	for i, h := range header {
		// Metric names come from the trials; a tab would add a column.
		header[i] = progress.Sanitize(h)
	}
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range shown {
		cells := []string{progress.Sanitize(r.ID), progress.Sanitize(string(r.Status))}
		for _, p := range paramNames {
			cells = append(cells, formatValue(r.Params[p]))
		}
		cells = append(cells, strconv.Itoa(r.Iterations), formatValue(r.LastResult[results.FieldTimeTotal]))
		for _, m := range metrics {
			cells = append(cells, formatValue(r.LastResult[m]))
		}
		// tabwriter pads empty cells too; a trial with no results would
		// end its line in blanks.
		for len(cells) > 0 && cells[len(cells)-1] == "" {
			cells = cells[:len(cells)-1]
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	_ = tw.Flush()
	if more := len(rows) - len(shown); more > 0 {
		fmt.Fprintf(w, "... and %d more %s\n", more, pluralWord(more, "trial", "trials"))
	}
	printErrors(w, records)
	printStopped(w, records)
	printMissingMetric(w, records, sum.Metric)

	fmt.Fprintln(w)
	if sum.Metric == "" {
		return
	}
	best := results.Best(records, sum.Metric, sum.Mode)
	if best == nil {
		fmt.Fprintf(w, "No finished trial has reported %s yet.\n", progress.Sanitize(sum.Metric))
		return
	}
	params := paramsText(best.Params, paramNames)
	if params != "" {
		// An experiment without a search space has no parameters to show.
		params = " (" + params + ")"
	}
	fmt.Fprintf(w, "Best trial: %s with %s=%s%s\n", progress.Sanitize(best.ID), progress.Sanitize(sum.Metric), formatValue(best.LastResult[sum.Metric]), params)
}

// printErrors names a few failed trials and their last error, so the table
// does not hide why they failed.
func printErrors(w io.Writer, records []*results.TrialRecord) {
	printSome(w, "Errored trials (%d):", 3, records, func(r *results.TrialRecord) string {
		if r.Status != results.Error {
			return ""
		}
		msg := r.Error
		if msg == "" {
			msg = "failed"
		}
		first, _, _ := strings.Cut(msg, "\n")
		return fmt.Sprintf("%s (%d %s): %s", progress.Sanitize(r.ID), r.Attempts, pluralWord(r.Attempts, "attempt", "attempts"), progress.Sanitize(first))
	})
}

// printStopped names a few trials that a scheduler or a stop rule ended
// early and why, so that a short run is not taken for a short trial. The
// shortest come first: a trial stopped at its last step (asha's max_t)
// says the least.
func printStopped(w io.Writer, records []*results.TrialRecord) {
	records = slices.Clone(records)
	slices.SortStableFunc(records, func(a, b *results.TrialRecord) int { return cmp.Compare(a.Iterations, b.Iterations) })
	printSome(w, "Stopped trials (%d, reasons in trials.csv):", 5, records, func(r *results.TrialRecord) string {
		if r.Status != results.Terminated || r.StopReason == "" {
			return ""
		}
		return fmt.Sprintf("%s after %d %s: %s", progress.Sanitize(r.ID), r.Iterations, pluralWord(r.Iterations, "iteration", "iterations"), progress.Sanitize(r.StopReason))
	})
}

// printSome prints a titled list of the records line gives a line for
// (the title's %d is how many), the first shown of them and then how many
// more.
func printSome(w io.Writer, title string, shown int, records []*results.TrialRecord, line func(*results.TrialRecord) string) {
	var lines []string
	for _, r := range records {
		if l := line(r); l != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) == 0 {
		return
	}
	fmt.Fprintf(w, "\n"+title+"\n", len(lines))
	for i, l := range lines {
		if i == shown {
			fmt.Fprintf(w, "  ... and %d more\n", len(lines)-shown)
			break
		}
		fmt.Fprintln(w, "  "+l)
	}
}

func modeOrMin(mode string) string {
	if mode == "" {
		return "min"
	}
	return mode
}

func countsText(sum *results.Summary, records []*results.TrialRecord) string {
	counts := results.Counts(records)
	var parts []string
	for _, s := range []results.Status{results.Running, results.Pending, results.Terminated, results.Error} {
		if counts[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[s], s))
		}
	}
	total := max(sum.NumTrials, len(records))
	if len(parts) == 0 {
		return strconv.Itoa(total)
	}
	return fmt.Sprintf("%d (%s)", total, strings.Join(parts, ", "))
}

func allParamNames(records []*results.TrialRecord) []string {
	set := map[string]bool{}
	for _, r := range records {
		for k := range r.Params {
			set[k] = true
		}
	}
	names := make([]string, 0, len(set))
	for k := range set {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// tableMetrics are the metric columns: the experiment's metric, then the
// numeric metrics most trials report (by name among equals), leaving out
// the fields tune adds to every row.
func tableMetrics(records []*results.TrialRecord, metric string) []string {
	skip := map[string]bool{metric: true}
	for _, f := range results.AddedFields {
		skip[f] = true
	}
	seen := map[string]int{}
	for _, r := range records {
		for k, v := range r.LastResult {
			if _, ok := results.Number(v); ok && !skip[k] {
				seen[k]++
			}
		}
	}
	others := make([]string, 0, len(seen))
	for k := range seen {
		others = append(others, k)
	}
	sort.Slice(others, func(i, j int) bool {
		if seen[others[i]] != seen[others[j]] {
			return seen[others[i]] > seen[others[j]]
		}
		return others[i] < others[j]
	})
	if len(others) > otherMetrics {
		others = others[:otherMetrics]
	}
	if metric == "" {
		return others
	}
	return append([]string{metric}, others...)
}

// sortedRecords orders a copy of records for the table. Sorting by a
// metric puts the trials without a value of it last, in index order.
func sortedRecords(records []*results.TrialRecord, sum *results.Summary, sortBy string) []*results.TrialRecord {
	out := append([]*results.TrialRecord(nil), records...)
	reverse := false
	if rest, ok := strings.CutPrefix(sortBy, "-"); ok {
		sortBy, reverse = rest, true
	}
	if sortBy == "" {
		sortBy = sum.Metric
	}
	if sortBy == "" || sortBy == "index" {
		sort.SliceStable(out, func(i, j int) bool {
			if reverse {
				return out[i].Index > out[j].Index
			}
			return out[i].Index < out[j].Index
		})
		return out
	}
	desc := sortBy == sum.Metric && sum.Mode == "max"
	if reverse {
		desc = !desc
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, aok := metricValue(out[i], sortBy)
		b, bok := metricValue(out[j], sortBy)
		switch {
		case aok != bok:
			return aok
		case !aok || a == b:
			return out[i].Index < out[j].Index
		case desc:
			return a > b
		}
		return a < b
	})
	return out
}

func metricValue(r *results.TrialRecord, metric string) (float64, bool) {
	return results.MetricValue(r.LastResult, metric)
}

func paramsText(params map[string]any, names []string) string {
	parts := make([]string, 0, len(names))
	for _, n := range names {
		if v, ok := params[n]; ok {
			parts = append(parts, progress.Sanitize(n)+"="+formatValue(v))
		}
	}
	return strings.Join(parts, ", ")
}

// formatValue prints a parameter or metric compactly: whole numbers in
// full, others to 6 significant digits, as Ray Tune's tables do; text is
// sanitized for the terminal.
func formatValue(v any) string {
	if v == nil {
		return ""
	}
	if f, ok := results.Number(v); ok {
		if text, ok := results.NonFinite(f); ok {
			return text
		}
		if f == math.Trunc(f) && math.Abs(f) < 1e15 {
			return strconv.FormatInt(int64(f), 10)
		}
		return strconv.FormatFloat(f, 'g', 6, 64)
	}
	if s, ok := v.(string); ok {
		return progress.Sanitize(s)
	}
	return progress.Sanitize(fmt.Sprint(v))
}

// printScheduling prints what the scheduler did, from the summary's
// figures; false when there are none yet.
func printScheduling(w io.Writer, s *results.Scheduling) bool {
	if s == nil {
		return false
	}
	fmt.Fprintln(w, "Scheduling:")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, f := range s.Facts() {
		// Device names come from the cluster.
		fmt.Fprintf(tw, "  %s\t%s\n", progress.Sanitize(f.Name), progress.Sanitize(f.Text))
	}
	_ = tw.Flush()
	return true
}
