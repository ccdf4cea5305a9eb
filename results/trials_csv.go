package results

import (
	"sort"
	"unicode"
	"unicode/utf8"
)

// trialsColumns are the first columns of trials.csv, before the config/
// columns of the parameters and the last result's metrics.
var trialsColumns = []string{"trial_id", "index", "status", "attempts", "failures", "error", "stop_reason", "iterations"}

const configPrefix = "config/"

// metricPrefix renames a metric whose name is already a column of
// trials.csv, so that pandas does not see two columns of one name.
const metricPrefix = "metric/"

// buildTrialsCSV appends trials.csv to b. The metric columns are the union
// of every last result's keys, so the table has one shape however trials
// differ.
func buildTrialsCSV(b []byte, records []*TrialRecord, paramNames []string) []byte {
	fixed := make(map[string]bool, len(trialsColumns)+len(paramNames))
	for _, c := range trialsColumns {
		fixed[c] = true
	}
	for _, p := range paramNames {
		fixed[configPrefix+p] = true
	}
	metricSet := map[string]bool{}
	for _, r := range records {
		visitLeaves("", r.LastResult, func(k string, _ any) { metricSet[k] = true })
	}
	// trial_id is a column already, and the same value.
	delete(metricSet, FieldTrialID)
	metrics := make([]string, 0, len(metricSet))
	for k := range metricSet {
		metrics = append(metrics, k)
	}
	sort.Strings(metrics)

	header := make([]string, 0, len(trialsColumns)+len(paramNames)+len(metrics))
	header = append(header, trialsColumns...)
	for _, p := range paramNames {
		header = append(header, configPrefix+p)
	}
	metricCol := make(map[string]int, len(metrics))
	for _, m := range metrics {
		metricCol[m] = len(header)
		if fixed[m] {
			m = metricPrefix + m
		}
		header = append(header, m)
	}

	b = appendCSVRow(b, header)
	row := make([][]byte, len(header))
	var scratch []byte
	for _, r := range records {
		// Cells point into scratch, which only grows within one record.
		scratch = scratch[:0]
		for i := range row {
			row[i] = nil
		}
		set := func(i int, v any) {
			n := len(scratch)
			scratch = appendCell(scratch, v)
			row[i] = scratch[n:len(scratch):len(scratch)]
		}
		set(0, r.ID)
		set(1, r.Index)
		set(2, string(r.Status))
		set(3, r.Attempts)
		set(4, r.Failures)
		set(5, r.Error)
		set(6, r.StopReason)
		set(7, r.Iterations)
		for i, p := range paramNames {
			if v, ok := r.Params[p]; ok {
				set(len(trialsColumns)+i, v)
			}
		}
		visitLeaves("", r.LastResult, func(k string, v any) {
			if i, ok := metricCol[k]; ok {
				set(i, v)
			}
		})
		b = appendCSVRow(b, row)
	}
	return b
}

// appendCSVRow writes one record as encoding/csv does (quoting only where
// needed, "\n" line ends), without its per-cell strings: trials.csv has a
// million cells at 100,000 trials.
func appendCSVRow[T string | []byte](b []byte, cells []T) []byte {
	for i, c := range cells {
		if i > 0 {
			b = append(b, ',')
		}
		if !needsQuotes(c) {
			b = append(b, c...)
			continue
		}
		b = append(b, '"')
		for j := 0; j < len(c); j++ {
			if c[j] == '"' {
				b = append(b, '"')
			}
			b = append(b, c[j])
		}
		b = append(b, '"')
	}
	return append(b, '\n')
}

func needsQuotes[T string | []byte](c T) bool {
	if len(c) == 0 {
		return false
	}
	if string(c) == `\.` {
		return true
	}
	for j := 0; j < len(c); j++ {
		switch c[j] {
		case ',', '"', '\r', '\n':
			return true
		}
	}
	r, _ := utf8.DecodeRune([]byte(c[:min(len(c), utf8.UTFMax)]))
	return unicode.IsSpace(r)
}
