package results

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/nomad-tune/tune/pyjson"
)

// Experiments lists the experiments under root: the folders that hold an
// experiment.json, sorted.
func Experiments(root string) ([]string, error) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		if _, err := os.Stat(filepath.Join(root, e.Name(), ExperimentFile)); err == nil {
			names = append(names, e.Name())
		}
	}
	return names, nil
}

// Load reads an experiment's results as they are now, running or
// finished, without taking the folder's lock. The records are in index
// order: a finished trial's trial.json, and trials.csv's row for the
// others, brought up to date from result.json while they run.
func Load(root, name string) (*Summary, []*TrialRecord, error) {
	if err := CheckExperimentName(name); err != nil {
		return nil, nil, err
	}
	dir := filepath.Join(root, name)
	if fi, err := os.Lstat(dir); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		// tune never makes one: it would lead outside the results folder.
		return nil, nil, &LinkError{Path: dir}
	}
	ef, err := readExperimentFile(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, notFound(root, name)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("results folder %s: %v", dir, err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, err
	}
	var trialDirs []string
	for _, e := range entries {
		if e.IsDir() {
			trialDirs = append(trialDirs, e.Name())
		}
	}
	found := make([]*TrialRecord, len(trialDirs))
	parallel(len(trialDirs), func(i int) {
		rec, err := readTrialFile(filepath.Join(dir, trialDirs[i], TrialFile))
		if err != nil || rec.ID != trialDirs[i] {
			return
		}
		found[i] = rec
	})
	// trial.json is written when an attempt ends, so it is the word on
	// finished trials; for the others, trials.csv (rewritten every second
	// while the experiment runs) is fresher.
	finished := map[string]bool{}
	byID := map[string]*TrialRecord{}
	for _, r := range found {
		if r != nil {
			byID[r.ID] = r
			if r.Status.Finished() {
				finished[r.ID] = true
			}
		}
	}
	if f, err := os.Open(filepath.Join(dir, TrialsCSVFile)); err == nil {
		rows, err := readTrialsCSV(f, finished)
		_ = f.Close()
		if err != nil {
			return nil, nil, fmt.Errorf("results folder %s: %s: %v", dir, TrialsCSVFile, err)
		}
		for _, row := range rows {
			if old, ok := byID[row.ID]; ok {
				// trial.json keeps the parameters' types, which CSV text
				// does not, and the attempts' history, which trials.csv
				// leaves out.
				if old.Params != nil {
					row.Params = old.Params
				}
				row.History = old.History
			}
			byID[row.ID] = row
		}
	}
	records := make([]*TrialRecord, 0, len(byID))
	for _, r := range byID {
		if r.Status == Running {
			readProgress(filepath.Join(dir, r.ID, ResultFile), r)
		}
		records = append(records, r)
	}
	sort.SliceStable(records, func(i, j int) bool { return records[i].Index < records[j].Index })
	if ef.Status == "running" {
		if held, _ := Holder(root, name); !held {
			// The tune that ran it was killed: nothing runs, and the
			// trials it ran wait for a resume, as Open will see them.
			ef.Status = Interrupted
			for _, r := range records {
				if r.Status == Running {
					r.Status = Pending
				}
			}
		}
	}
	return &ef.Summary, records, nil
}

// CheckExperimentName checks that a name given on the command line names
// an experiment: one folder of the results folder, never a path that
// reaches outside it.
func CheckExperimentName(name string) error {
	if checkName("experiment name", name) != nil || strings.HasPrefix(name, ".") {
		return fmt.Errorf("%q is not an experiment name: give the name of an experiment (its folder in the results folder), not a path", name)
	}
	return nil
}

func notFound(root, name string) error {
	names, err := Experiments(root)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("results folder %s does not exist", root)
	case err != nil:
		return err
	case len(names) == 0:
		return fmt.Errorf("no experiment %q in results folder %s, which holds no experiments", name, root)
	}
	return fmt.Errorf("no experiment %q in results folder %s; it holds: %s", name, root, strings.Join(names, ", "))
}

// readProgress brings a running trial's record up to date from its
// result.json: trial.json is only written when an attempt ends, and
// trials.csv once a second.
func readProgress(path string, rec *TrialRecord) {
	b, err := os.ReadFile(path)
	if err != nil {
		return
	}
	// Only whole lines count: the last one may be being written.
	if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
		b = b[:i+1]
	} else {
		return
	}
	n := bytes.Count(b, []byte{'\n'})
	last := b[:len(b)-1]
	if i := bytes.LastIndexByte(last, '\n'); i >= 0 {
		last = last[i+1:]
	}
	var row pyjson.Object
	if pyjson.Unmarshal(last, &row) != nil {
		return
	}
	rec.Iterations = n
	rec.LastResult = row
}

// readTrialsCSV reads the rows of trials.csv for trials not in skip. Their
// params come back from text, so a string that looks like a number reads
// as one; they are trials that never started, shown but not resumed from.
func readTrialsCSV(r io.Reader, skip map[string]bool) ([]*TrialRecord, error) {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err == io.EOF {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	header = append([]string(nil), header...)
	col := map[string]int{}
	for i, h := range header {
		col[h] = i
	}
	for _, c := range trialsColumns {
		if _, ok := col[c]; !ok {
			return nil, fmt.Errorf("no %q column", c)
		}
	}
	var out []*TrialRecord
	for {
		row, err := cr.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		id := row[col["trial_id"]]
		if skip[id] {
			continue
		}
		atoi := func(c string) int { n, _ := strconv.Atoi(row[col[c]]); return n }
		rec := &TrialRecord{
			ID:         id,
			Index:      atoi("index"),
			Status:     Status(row[col["status"]]),
			Attempts:   atoi("attempts"),
			Failures:   atoi("failures"),
			Error:      row[col["error"]],
			StopReason: row[col["stop_reason"]],
			Iterations: atoi("iterations"),
			Params:     map[string]any{},
		}
		for i, h := range header {
			if p, ok := strings.CutPrefix(h, configPrefix); ok && row[i] != "" {
				rec.Params[p] = parseCell(row[i])
			}
		}
		out = append(out, rec)
	}
}

// Best is the finished trial whose last result has the best value of
// metric: the lowest for mode "min" (or no mode), the highest for "max".
// Trials without a value of metric (see MetricValue) are skipped; of
// equal values the lower index wins. It returns nil when no trial
// qualifies.
func Best(records []*TrialRecord, metric, mode string) *TrialRecord {
	if metric == "" {
		return nil
	}
	var best *TrialRecord
	var bestV float64
	for _, r := range records {
		if !r.Status.Finished() {
			continue
		}
		v, ok := MetricValue(r.LastResult, metric)
		if !ok {
			continue
		}
		if best == nil || better(v, bestV, mode) || (v == bestV && r.Index < best.Index) {
			best, bestV = r, v
		}
	}
	return best
}

// MetricValue is the value of metric in a result, when it is a number
// other than NaN: a trial that diverged to NaN is never the best, as in
// Ray Tune. Infinities compare as numbers, as in Ray Tune.
func MetricValue(row map[string]any, metric string) (float64, bool) {
	v, ok := Number(row[metric])
	if !ok || math.IsNaN(v) {
		return 0, false
	}
	return v, true
}

func better(a, b float64, mode string) bool {
	if mode == "max" {
		return a > b
	}
	return a < b
}
