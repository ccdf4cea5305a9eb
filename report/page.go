package report

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"path/filepath"
	"sort"
	"strconv"
	"time"

	"github.com/nomad-tune/tune/results"
)

// File is the report's name in the experiment's results folder.
const File = "report.html"

//go:embed page.html.tmpl
var pageText string

var pageTemplate = template.Must(template.New("page").Parse(pageText))

// Row is one line of the results table: the text shown, and the value it
// sorts by.
type Row struct {
	Best  bool
	Cells []Cell
}

// Cell is one table cell; Sort is a number for numeric columns.
type Cell struct {
	Text string
	Sort string
}

type pageData struct {
	M        *Model
	Figures  []Figure
	Header   []string
	Rows     []Row
	Errored  []*Trial
	Status   string
	Counts   string
	BestText string
	Refresh  bool
}

// Render writes the page for a model. refresh makes the page reload
// itself while the experiment runs.
func Render(m *Model, refresh bool) ([]byte, error) {
	figs, err := figures(m)
	if err != nil {
		return nil, err
	}
	d := pageData{M: m, Figures: figs, Status: m.Summary.Status, Refresh: refresh}
	d.Header, d.Rows = table(m)
	for _, t := range m.Trials {
		if t.Status == results.Error {
			d.Errored = append(d.Errored, t)
		}
	}
	d.Counts = countsText(m)
	if m.Best != "" {
		for _, t := range m.Trials {
			if t.ID == m.Best {
				d.BestText = fmt.Sprintf("%s with %s = %s", t.ID, m.Summary.Metric, cellText(t.LastResult[m.Summary.Metric]))
			}
		}
	}
	var b bytes.Buffer
	if err := pageTemplate.Execute(&b, d); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Write builds and writes report.html for an experiment and returns its
// path.
func Write(root, name string, now time.Time, refresh bool) (string, error) {
	m, err := Build(root, name, now)
	if err != nil {
		return "", err
	}
	page, err := Render(m, refresh)
	if err != nil {
		return "", err
	}
	if err := results.WriteExperimentFile(root, name, File, page); err != nil {
		return "", err
	}
	return filepath.Join(root, name, File), nil
}

func countsText(m *Model) string {
	counts := results.Counts(recordsOf(m))
	text := strconv.Itoa(max(m.Summary.NumTrials, len(m.Trials))) + " trials"
	for _, s := range []results.Status{results.Running, results.Pending, results.Terminated, results.Error} {
		if counts[s] > 0 {
			text += fmt.Sprintf(", %d %s", counts[s], s)
		}
	}
	return text
}

func recordsOf(m *Model) []*results.TrialRecord {
	out := make([]*results.TrialRecord, len(m.Trials))
	for i, t := range m.Trials {
		out[i] = t.TrialRecord
	}
	return out
}

// table lays out the results table: trial, status, parameters, reports,
// time, the metric, why it ended, and the Nomad job.
func table(m *Model) ([]string, []Row) {
	header := []string{"trial", "status"}
	for _, p := range m.Params {
		header = append(header, p.Name)
	}
	header = append(header, "training_iteration", "time_total_s (s)")
	if m.Summary.Metric != "" {
		header = append(header, m.Summary.Metric)
	}
	header = append(header, "ended because")
	nomad := m.Plan != nil && m.Plan.Nomad
	if nomad {
		header = append(header, "Nomad job")
	}
	trials := append([]*Trial(nil), m.Trials...)
	if m.Summary.Metric != "" {
		sort.SliceStable(trials, func(i, j int) bool {
			a, aok := results.MetricValue(trials[i].LastResult, m.Summary.Metric)
			b, bok := results.MetricValue(trials[j].LastResult, m.Summary.Metric)
			if aok != bok {
				return aok
			}
			if !aok || a == b {
				return trials[i].Index < trials[j].Index
			}
			if m.Summary.Mode == "max" {
				return a > b
			}
			return a < b
		})
	}
	rows := make([]Row, len(trials))
	for i, t := range trials {
		cells := []Cell{{Text: t.ID, Sort: strconv.Itoa(t.Index)}, {Text: string(t.Status)}}
		for _, p := range m.Params {
			cells = append(cells, valueCell(t.Params[p.Name]))
		}
		cells = append(cells, Cell{Text: strconv.Itoa(t.Iterations), Sort: strconv.Itoa(t.Iterations)}, valueCell(t.LastResult[results.FieldTimeTotal]))
		if m.Summary.Metric != "" {
			cells = append(cells, valueCell(t.LastResult[m.Summary.Metric]))
		}
		why := t.StopReason
		if t.Status == results.Error && len(t.ErrorTail) > 0 {
			why = t.ErrorTail[len(t.ErrorTail)-1]
		}
		cells = append(cells, Cell{Text: why})
		if nomad {
			cells = append(cells, Cell{Text: t.JobID})
		}
		rows[i] = Row{Best: t.ID == m.Best, Cells: cells}
	}
	return header, rows
}

func valueCell(v any) Cell {
	c := Cell{Text: cellText(v)}
	if f, ok := results.Number(v); ok {
		c.Sort = strconv.FormatFloat(f, 'g', -1, 64)
	}
	return c
}

func cellText(v any) string {
	if v == nil {
		return ""
	}
	if f, ok := results.Number(v); ok {
		if text, ok := results.NonFinite(f); ok {
			return text
		}
		return strconv.FormatFloat(f, 'g', 6, 64)
	}
	return fmt.Sprint(v)
}
