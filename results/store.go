package results

import (
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nomad-tune/tune/driver"
	"github.com/nomad-tune/tune/pyjson"
)

// File names inside an experiment's folder and a trial's folder.
const (
	ExperimentFile = "experiment.json"
	TrialsCSVFile  = "trials.csv"
	ParamsFile     = "params.json"
	TrialFile      = "trial.json"
	ResultFile     = "result.json"
	ProgressFile   = "progress.csv"
	StdoutFile     = "stdout.log"
	StderrFile     = "stderr.log"
	ErrorFile      = "error.txt"
)

// Fields a Store adds to every reported row, with Ray Tune's names where
// Ray has one.
const (
	FieldTrainingIteration = "training_iteration"
	FieldTimeTotal         = "time_total_s"
	FieldTimeThisIter      = "time_this_iter_s"
	FieldTimestamp         = "timestamp"
	FieldTrialID           = "trial_id"
	FieldDate              = "date"
	FieldAttempt           = "attempt"
)

// AddedFields are the fields a Store adds to every row, for displays that
// tell them from the trial's own metrics.
var AddedFields = []string{FieldTrainingIteration, FieldTimeTotal, FieldTimeThisIter, FieldTimestamp, FieldTrialID, FieldDate, FieldAttempt}

// Info describes the experiment a Store records.
type Info struct {
	Name   string
	File   string
	Metric string
	Mode   string
	Target string
	Seed   uint64
	// Adaptive says trials' values are chosen while the experiment runs
	// (search "tpe"): the values a record holds when its attempt begins
	// are written to params.json before the attempt starts, and a resumed
	// trial keeps the values its folder holds instead of the ones given
	// to Open, so a trial started before tune was killed keeps its values.
	Adaptive bool
}

// TrialInfo is one trial of the experiment as the planner generated it.
type TrialInfo struct {
	ID     string
	Index  int
	Params map[string]any
}

// experimentFile is experiment.json: the Summary, plus what a resume
// checks it is continuing the same experiment.
type experimentFile struct {
	Summary
	// TrialsHash is a hash of the ordered trial IDs. The IDs hash the
	// experiment name and every trial's values, so a changed file, seed or
	// space changes it.
	TrialsHash string `json:"trials_hash"`
}

// Store writes the results folder of one experiment. Its methods may be
// called from several goroutines, but the records it hands out belong to
// the caller: Report, BeginAttempt, EndAttempt and WriteSummary read or
// update them, so call those from the goroutine that owns the records.
type Store struct {
	root string
	dir  string
	// exp is dir, opened: everything is written relative to it.
	exp  *folder
	info Info
	hash string
	// hasher has hashed every trial ID so far, so trials added during an
	// open-ended run extend the hash without hashing the others again.
	hasher  hash.Hash
	lock    *folderLock
	resumed bool
	prev    *Summary
	records []*TrialRecord
	// paramNames are the union of the trials' parameter names, sorted: the
	// config/ columns of trials.csv.
	paramNames []string

	mu       sync.Mutex
	closed   bool
	attempts map[string]*attemptFiles
	// added is how many trials a resumed run has that the earlier did not.
	added int

	// summaryMu serialises WriteSummary, whose buffer is reused: at 100,000
	// trials trials.csv is megabytes, built every second.
	summaryMu  sync.Mutex
	summaryBuf []byte
}

// attemptFiles are the open files of one running attempt.
type attemptFiles struct {
	// mu orders a report's writes against Close from another goroutine.
	mu       sync.Mutex
	attempt  int
	start    time.Time
	last     time.Time
	result   appendFile
	progress appendFile
	// columns is progress.csv's header, fixed by the attempt's first row.
	columns []string
	colIdx  map[string]int
	stdout  *logWriter
	stderr  *logWriter
	// prepare makes and opens the trial's folder; ready runs it once.
	prepare func() (*folder, error)
	once    sync.Once
	dir     *folder
	prepErr error
}

// TrialDir is the folder of one trial's files.
func TrialDir(root, experiment, trialID string) string {
	return filepath.Join(root, experiment, trialID)
}

// Open opens, creating it when needed, the results folder of an
// experiment under root and locks it. When the folder already holds this
// experiment (the same trial IDs), Open resumes it: every trial's record is
// read back, and trials that were running when the last process ended are
// pending again.
func Open(root string, info Info, trials []TrialInfo) (*Store, error) {
	if err := checkName("experiment name", info.Name); err != nil {
		return nil, err
	}
	seen := make(map[string]bool, len(trials))
	for _, t := range trials {
		if err := checkName("trial id", t.ID); err != nil {
			return nil, err
		}
		if seen[t.ID] {
			return nil, fmt.Errorf("results: trial id %q appears twice", t.ID)
		}
		seen[t.ID] = true
	}
	dir := filepath.Join(root, info.Name)
	// The root is the user's to choose, a link included; the experiment's
	// folder and what is in it are tune's, and never links.
	if err := os.MkdirAll(root, 0o777); err != nil {
		return nil, fmt.Errorf("creating results folder: %w", err)
	}
	if err := os.Mkdir(dir, 0o777); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("creating results folder: %w", err)
	}
	exp, err := openFolder(dir)
	if err != nil {
		return nil, fmt.Errorf("opening results folder: %w", err)
	}
	lock, err := acquireLock(exp)
	if err != nil {
		_ = exp.close()
		return nil, err
	}
	s := &Store{root: root, dir: dir, exp: exp, info: info, hasher: sha256.New(), lock: lock, attempts: map[string]*attemptFiles{}}
	s.hash = s.hashIDs(trials)
	if err := s.open(trials); err != nil {
		_ = lock.release()
		_ = exp.close()
		return nil, err
	}
	return s, nil
}

func (s *Store) open(trials []TrialInfo) error {
	prev, err := readExperimentFile(s.dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return fmt.Errorf("results folder %s: %v; use another -results folder or remove it", s.dir, err)
	case prev.TrialsHash == s.hash:
		s.resumed = true
		s.prev = &prev.Summary
	case prev.NumTrials > 0 && prev.NumTrials < len(trials) && trialsHash(trials[:prev.NumTrials]) == prev.TrialsHash:
		// The earlier trials come first, unchanged: num_samples grew.
		// Trial i keeps its values whatever num_samples is, so the new
		// trials join the ones already run.
		s.resumed = true
		s.prev = &prev.Summary
		s.added = len(trials) - prev.NumTrials
	default:
		return fmt.Errorf("results folder %s holds experiment %q with different trials (the file, seed or space changed); use another -results folder or remove it", s.dir, prev.Name)
	}
	removeTemps(s.exp)

	s.records = make([]*TrialRecord, len(trials))
	names := map[string]bool{}
	for i, t := range trials {
		s.records[i] = &TrialRecord{ID: t.ID, Index: t.Index, Params: t.Params, Status: Pending}
		for k := range t.Params {
			names[k] = true
		}
	}
	for k := range names {
		s.paramNames = append(s.paramNames, k)
	}
	sort.Strings(s.paramNames)
	if s.resumed {
		errs := make([]error, len(s.records))
		parallel(len(s.records), func(i int) {
			s.records[i], errs[i] = resumeRecord(s.exp, s.records[i], s.info.Adaptive)
		})
		if err := errors.Join(errs...); err != nil {
			return fmt.Errorf("results folder %s: %w", s.dir, err)
		}
	}
	sort.SliceStable(s.records, func(i, j int) bool { return s.records[i].Index < s.records[j].Index })
	if !s.resumed {
		// Written at once so that a crash before the first summary still
		// leaves a folder a later run recognises and resumes.
		return s.WriteSummary(Summary{Status: "running"})
	}
	return nil
}

// resumeRecord is fresh with what the trial's trial.json says of it. The
// planner's ID, index and params stay: they are what the trial is; the
// file only says how far it got. A partial last line that a killed tune
// or a full disk left in result.json or progress.csv goes. A trial folder
// that is a link is an error: nothing in it is tune's.
func resumeRecord(exp *folder, fresh *TrialRecord, adaptive bool) (*TrialRecord, error) {
	d, err := exp.openExisting(fresh.ID)
	if errors.Is(err, fs.ErrNotExist) {
		return fresh, nil
	} else if err != nil {
		return fresh, err
	}
	defer d.close()
	for _, name := range []string{ResultFile, ProgressFile} {
		if err := dropPartialLine(d, name); err != nil {
			return fresh, fmt.Errorf("repairing %s: %w", name, err)
		}
	}
	var kept map[string]any
	if adaptive {
		// The values the trial was started with, whatever the planner
		// would give it now.
		kept = readParams(d)
		if kept != nil {
			fresh.Params = kept
		}
	}
	rec, err := readTrialFileIn(d)
	if err != nil || rec.ID != fresh.ID {
		// Missing, or unreadable after something other than tune wrote it:
		// the trial runs again from the start.
		return fresh, nil
	}
	rec.Index = fresh.Index
	rec.Params = fresh.Params
	switch rec.Status {
	case Terminated, Error, Pending:
	default:
		// It was running when the last tune process ended: that attempt is
		// lost, the trial waits for another.
		rec.Status = Pending
	}
	return rec, nil
}

func readExperimentFile(dir string) (*experimentFile, error) {
	b, err := readNoFollow(filepath.Join(dir, ExperimentFile))
	if err != nil {
		return nil, err
	}
	var ef experimentFile
	if err := pyjson.Unmarshal(b, &ef); err != nil {
		return nil, fmt.Errorf("%s is not readable: %v", ExperimentFile, err)
	}
	return &ef, nil
}

// readTrialFileIn reads trial.json of an open trial folder.
func readTrialFileIn(d *folder) (*TrialRecord, error) {
	f, err := d.open(TrialFile, os.O_RDONLY)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		return nil, err
	}
	return parseTrialFile(d.join(TrialFile), b)
}

func readTrialFile(path string) (*TrialRecord, error) {
	b, err := readNoFollow(path)
	if err != nil {
		return nil, err
	}
	return parseTrialFile(path, b)
}

func parseTrialFile(path string, b []byte) (*TrialRecord, error) {
	var rec TrialRecord
	if err := pyjson.Unmarshal(b, &rec); err != nil {
		return nil, err
	}
	if rec.ID == "" {
		return nil, fmt.Errorf("%s has no trial_id", path)
	}
	return &rec, nil
}

// parallel runs fn(0..n-1) on every CPU: reading 100,000 small files one
// after the other takes seconds.
func parallel(n int, fn func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	var next sync.Mutex
	i := 0
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Go(func() {
			for {
				next.Lock()
				k := i
				i++
				next.Unlock()
				if k >= n {
					return
				}
				fn(k)
			}
		})
	}
	wg.Wait()
}

// checkName keeps names that become folder names to one path element.
func checkName(what, name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, `/\`) || strings.ContainsRune(name, 0) {
		return fmt.Errorf("results: %s %q cannot be a folder name", what, name)
	}
	return nil
}

func trialsHash(trials []TrialInfo) string {
	return hashInto(sha256.New(), trials)
}

// hashInto adds the trials' IDs to h and returns the hash of all it has.
func hashInto(h hash.Hash, trials []TrialInfo) string {
	for _, t := range trials {
		h.Write([]byte(t.ID))
		h.Write([]byte{'\n'})
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

func (s *Store) hashIDs(trials []TrialInfo) string { return hashInto(s.hasher, trials) }

// Add appends trials that an open-ended experiment generated during the
// run, after every trial so far, and returns their records, pending. Their
// folders are made when they start, as every trial's are; the summary's
// trial count and hash include them from the next WriteSummary, so a
// resume generates them again.
func (s *Store) Add(trials []TrialInfo) ([]*TrialRecord, error) {
	s.summaryMu.Lock()
	defer s.summaryMu.Unlock()
	next := len(s.records)
	for i, t := range trials {
		if err := checkName("trial id", t.ID); err != nil {
			return nil, err
		}
		if t.Index != next+i {
			return nil, fmt.Errorf("results: trial %s has index %d; the next is %d", t.ID, t.Index, next+i)
		}
	}
	added := make([]*TrialRecord, len(trials))
	for i, t := range trials {
		added[i] = &TrialRecord{ID: t.ID, Index: t.Index, Params: t.Params, Status: Pending}
		for k := range t.Params {
			if !slices.Contains(s.paramNames, k) {
				s.paramNames = append(s.paramNames, k)
				sort.Strings(s.paramNames)
			}
		}
	}
	s.records = append(s.records, added...)
	s.hash = s.hashIDs(trials)
	return added, nil
}

// KnownTrials is how many trials an open-ended experiment's results
// folder under root says were generated: the count of its last summary,
// or more when trial folders of later trials exist (the summary is
// rewritten at intervals, a trial's folder when it starts). 0 when there
// is no such folder yet.
func KnownTrials(root, name string) (int, error) {
	dir := filepath.Join(root, name)
	n := 0
	prev, err := readExperimentFile(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return 0, fmt.Errorf("results folder %s: %v; use another -results folder or remove it", dir, err)
	default:
		n = prev.NumTrials
	}
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return 0, fmt.Errorf("reading results folder: %w", err)
	}
	for _, e := range entries {
		if m := trialFolder.FindStringSubmatch(e.Name()); m != nil && e.IsDir() {
			if i, err := strconv.Atoi(m[1]); err == nil && i >= n {
				n = i + 1
			}
		}
	}
	return n, nil
}

// trialFolder matches a trial's folder name: its index, then a hash.
var trialFolder = regexp.MustCompile(`^(\d{5,9})-[0-9a-f]{6}$`)

// Dir is the experiment's folder.
func (s *Store) Dir() string { return s.dir }

// Resumed reports whether Open found this experiment's earlier results.
func (s *Store) Resumed() bool { return s.resumed }

// Added is how many trials a resumed experiment has beyond those of the
// earlier run, when num_samples grew.
func (s *Store) Added() int { return s.added }

// Previous is the summary an earlier run left, nil unless Resumed: a
// resumed experiment keeps its StartedAt from it.
func (s *Store) Previous() *Summary { return s.prev }

// Records are every trial's records, in index order. The slice is a copy;
// the records are shared with the Store.
func (s *Store) Records() []*TrialRecord {
	return append([]*TrialRecord(nil), s.records...)
}

// BeginAttempt starts a new attempt of rec: the results of an earlier
// attempt go, because the results of a trial are those of the attempt
// that counts, and result.json and progress.csv are created at the first
// report; the logs keep every attempt, each after a header line written
// with its first line of output. It resets rec's Iterations and
// LastResult for the same reason. It does not persist rec: a crash during
// the attempt leaves trial.json as the previous attempt ended it, which is
// how a resume must see the trial (the interrupted attempt counts for
// nothing). The writers it returns stay usable until EndAttempt; lines
// written after that are dropped.
func (s *Store) BeginAttempt(rec *TrialRecord, attempt int, now time.Time) (stdout, stderr driver.LineWriter, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, nil, errClosed
	}
	if old := s.attempts[rec.ID]; old != nil {
		_ = old.close()
		delete(s.attempts, rec.ID)
	}
	id, exp := rec.ID, s.exp
	params := paramsOrEmpty(rec.Params)
	a := &attemptFiles{attempt: attempt, start: now, last: now}
	// The trial's folder and files are made when the attempt first writes
	// to them, which for output is on the driver's reader goroutines: the
	// controller starts the next trial without waiting on the file system,
	// which on some disks takes milliseconds per new file.
	a.prepare = func() (*folder, error) { return prepareTrialDir(exp, id, params) }
	a.result = appendFile{name: ResultFile, folder: a.ready}
	a.progress = appendFile{name: ProgressFile, folder: a.ready}
	// Results of an earlier attempt (or run) go now, so they cannot be
	// taken for this one's.
	if rec.Attempts > 1 || s.resumed {
		if err := removeResults(exp, id); err != nil {
			return nil, nil, err
		}
	}
	header := fmt.Sprintf("=== attempt %d started %s ===", attempt, now.Format(time.RFC3339))
	a.stdout = newLog(StdoutFile, header, a.ready)
	a.stderr = newLog(StderrFile, header, a.ready)
	a.stderr.tail = &tail{}
	if s.info.Adaptive {
		if _, err := a.ready(); err != nil {
			return nil, nil, err
		}
	}
	rec.Iterations = 0
	rec.LastResult = nil
	s.attempts[rec.ID] = a
	return a.stdout, a.stderr, nil
}

// removeResults removes a trial's result.json and progress.csv, when its
// folder exists.
func removeResults(exp *folder, id string) error {
	d, err := exp.openExisting(id)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer d.close()
	return errors.Join(removeIfThere(d, ResultFile), removeIfThere(d, ProgressFile))
}

// prepareTrialDir makes and opens a trial's folder and writes its
// params.json. Params never change under one trial ID, so an existing
// params.json is already right; an existing folder may hold temporary
// files of a crash.
func prepareTrialDir(exp *folder, id string, params map[string]any) (*folder, error) {
	d, made, err := exp.make(id)
	if err != nil {
		return nil, err
	}
	// A folder made just now holds no leftovers and no params yet.
	if !made {
		removeTemps(d)
		if f, err := d.open(ParamsFile, os.O_RDONLY); err == nil {
			_ = f.Close()
			return d, nil
		}
	}
	b, err := json.MarshalIndent(params, "", "  ")
	if err == nil {
		err = writeFileAtomic(d, ParamsFile, append(b, '\n'), false)
	}
	if err != nil {
		_ = d.close()
		return nil, fmt.Errorf("params of %s: %w", id, err)
	}
	return d, nil
}

// readParams reads a trial folder's params.json; nil when it is missing
// or unreadable.
func readParams(d *folder) map[string]any {
	f, err := d.open(ParamsFile, os.O_RDONLY)
	if err != nil {
		return nil
	}
	defer f.Close()
	var params map[string]any
	if json.NewDecoder(f).Decode(&params) != nil {
		return nil
	}
	return params
}

// ready prepares the attempt's folder once and returns it; every file of
// the attempt calls it before its first write.
func (a *attemptFiles) ready() (*folder, error) {
	a.once.Do(func() { a.dir, a.prepErr = a.prepare() })
	return a.dir, a.prepErr
}

func paramsOrEmpty(p map[string]any) map[string]any {
	if p == nil {
		return map[string]any{}
	}
	return p
}

var errClosed = errors.New("results: the store is closed")

// Report records one report of rec's current attempt: it adds Ray Tune's
// fields to a copy of metrics (a field the trial reported itself is kept
// as reported), appends the row to result.json and progress.csv, and sets
// rec.Iterations and rec.LastResult. Numbers it adds are float64, like
// the numbers of a decoded report, so that rules comparing metrics see
// one type.
func (s *Store) Report(rec *TrialRecord, metrics map[string]any, now time.Time) (map[string]any, error) {
	s.mu.Lock()
	a := s.attempts[rec.ID]
	s.mu.Unlock()
	if a == nil {
		return nil, fmt.Errorf("results: trial %s has no attempt open", rec.ID)
	}
	iteration := rec.Iterations + 1
	row := make(map[string]any, len(metrics)+len(AddedFields))
	for k, v := range metrics {
		row[k] = v
	}
	setDefault(row, FieldTrainingIteration, float64(iteration))
	setDefault(row, FieldTimeTotal, now.Sub(a.start).Seconds())
	setDefault(row, FieldTimeThisIter, now.Sub(a.last).Seconds())
	setDefault(row, FieldTimestamp, float64(now.Unix()))
	setDefault(row, FieldTrialID, rec.ID)
	setDefault(row, FieldDate, now.Format(time.RFC3339))
	setDefault(row, FieldAttempt, float64(a.attempt))

	a.mu.Lock()
	defer a.mu.Unlock()
	// NaN and infinities are written as Python's json module writes
	// them, the tokens it and pandas read back as floats.
	line, err := pyjson.Marshal(row, "")
	if err != nil {
		return nil, fmt.Errorf("trial %s: the report cannot be written as JSON: %w", rec.ID, err)
	}
	if err := a.result.write(append(line, '\n')); err != nil {
		return nil, fmt.Errorf("trial %s: writing %s: %w", rec.ID, ResultFile, err)
	}
	if err := a.progress.write(a.progressRow(row)); err != nil {
		return nil, fmt.Errorf("trial %s: writing %s: %w", rec.ID, ProgressFile, err)
	}
	a.last = now
	rec.Iterations = iteration
	rec.LastResult = row
	return row, nil
}

func setDefault(row map[string]any, k string, v any) {
	if _, ok := row[k]; !ok {
		row[k] = v
	}
}

// progressRow is one CSV line, preceded by the header on the attempt's
// first report. Later rows keep the first row's columns, as Ray Tune's
// CSV logger does: a CSV file cannot grow columns, result.json keeps the
// rest.
func (a *attemptFiles) progressRow(row map[string]any) []byte {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	if a.columns == nil {
		visitLeaves("", row, func(k string, _ any) { a.columns = append(a.columns, k) })
		sort.Strings(a.columns)
		a.colIdx = make(map[string]int, len(a.columns))
		for i, c := range a.columns {
			a.colIdx[c] = i
		}
		_ = w.Write(a.columns)
	}
	cells := make([]string, len(a.columns))
	visitLeaves("", row, func(k string, v any) {
		if i, ok := a.colIdx[k]; ok {
			cells[i] = cellString(v)
		}
	})
	_ = w.Write(cells)
	w.Flush()
	return buf.Bytes()
}

// StderrTail is up to n of the last non-empty lines the current attempt of
// rec wrote to stderr, oldest first, cleaned of escape sequences and
// control characters; nil when it has no attempt open or wrote nothing.
func (s *Store) StderrTail(rec *TrialRecord, n int) []string {
	s.mu.Lock()
	a := s.attempts[rec.ID]
	s.mu.Unlock()
	if a == nil {
		return nil
	}
	return a.stderr.lastLines(n)
}

// EndAttempt closes the files of rec's attempt and persists rec. Called
// for a trial with no attempt open (one that never could start), it only
// persists rec.
func (s *Store) EndAttempt(rec *TrialRecord) error {
	s.mu.Lock()
	a := s.attempts[rec.ID]
	delete(s.attempts, rec.ID)
	closed := s.closed
	s.mu.Unlock()
	var errs []error
	switch {
	case closed:
		errs = append(errs, errClosed)
	case a != nil:
		errs = append(errs, a.closeFiles())
		d, err := a.ready()
		errs = append(errs, err)
		if err == nil {
			if rec.Error != "" {
				errs = append(errs, writeErrorFile(d, rec, a))
			}
			errs = append(errs, writeRecord(d, rec))
		}
		errs = append(errs, a.closeDir())
	default:
		d, err := prepareTrialDir(s.exp, rec.ID, paramsOrEmpty(rec.Params))
		errs = append(errs, err)
		if err == nil {
			errs = append(errs, writeRecord(d, rec), d.close())
		}
	}
	if closed && a != nil {
		errs = append(errs, a.close())
	}
	return errors.Join(errs...)
}

// writeErrorFile writes error.txt, as Ray Tune does for a failed trial:
// which attempt failed, how, and the last lines of its stderr. It
// describes the last failed attempt, so a trial that failed and then
// finished still says what went wrong.
func writeErrorFile(d *folder, rec *TrialRecord, a *attemptFiles) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Trial %s, attempt %d, failed at %s\n", rec.ID, a.attempt, rec.FinishedAt.Format(time.RFC3339))
	fmt.Fprintf(&b, "Error: %s\n", CleanLine(rec.Error))
	if rec.ExitCode != 0 {
		fmt.Fprintf(&b, "Exit status: %d\n", rec.ExitCode)
	}
	if lines := a.stderr.lastLines(TailLines); len(lines) > 0 {
		fmt.Fprintf(&b, "\nLast lines of %s:\n", StderrFile)
		for _, l := range lines {
			b.WriteString("  " + l + "\n")
		}
	}
	return writeFileAtomic(d, ErrorFile, []byte(b.String()), false)
}

func writeRecord(d *folder, rec *TrialRecord) error {
	b, err := pyjson.Marshal(rec, "  ")
	if err != nil {
		return fmt.Errorf("trial %s: record: %w", rec.ID, err)
	}
	return writeFileAtomic(d, TrialFile, append(b, '\n'), false)
}

// close closes the attempt's files and its folder.
func (a *attemptFiles) close() error {
	return errors.Join(a.closeFiles(), a.closeDir())
}

// closeDir closes the attempt's folder, once its files are closed.
func (a *attemptFiles) closeDir() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.dir == nil {
		return nil
	}
	err := a.dir.close()
	a.dir = nil
	return err
}

func (a *attemptFiles) closeFiles() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	var errs []error
	for _, f := range []*appendFile{&a.result, &a.progress} {
		errs = append(errs, f.close())
	}
	for _, l := range []*logWriter{a.stdout, a.stderr} {
		if l != nil {
			errs = append(errs, l.close())
		}
	}
	return errors.Join(errs...)
}

// WriteSummary writes experiment.json and trials.csv from sum and the
// current records. What sum leaves empty that the Store knows (name, file,
// metric, mode, seed, target, counts, number of trials, best trial) is
// filled in. Each file is built in memory and replaced in one rename, so
// it is cheap enough to call every second with 100,000 trials.
func (s *Store) WriteSummary(sum Summary) error {
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return errClosed
	}
	s.summaryMu.Lock()
	defer s.summaryMu.Unlock()
	s.fill(&sum)
	s.summaryBuf = buildTrialsCSV(s.summaryBuf[:0], s.records, s.paramNames)
	if err := writeFileAtomic(s.exp, TrialsCSVFile, s.summaryBuf, true); err != nil {
		return err
	}
	b, err := pyjson.Marshal(experimentFile{Summary: sum, TrialsHash: s.hash}, "  ")
	if err != nil {
		return fmt.Errorf("results: summary: %w", err)
	}
	return writeFileAtomic(s.exp, ExperimentFile, append(b, '\n'), true)
}

func (s *Store) fill(sum *Summary) {
	sum.PID = os.Getpid()
	fillString(&sum.Name, s.info.Name)
	fillString(&sum.File, s.info.File)
	fillString(&sum.Metric, s.info.Metric)
	fillString(&sum.Mode, s.info.Mode)
	fillString(&sum.Target, s.info.Target)
	if sum.Seed == 0 {
		sum.Seed = s.info.Seed
	}
	if sum.NumTrials == 0 {
		sum.NumTrials = len(s.records)
	}
	if sum.Counts == nil {
		sum.Counts = Counts(s.records)
	}
	if sum.BestTrial == "" && sum.Metric != "" {
		if best := Best(s.records, sum.Metric, sum.Mode); best != nil {
			sum.BestTrial = best.ID
			sum.BestResult = best.LastResult
			sum.BestParams = best.Params
		}
	}
}

func fillString(dst *string, v string) {
	if *dst == "" {
		*dst = v
	}
}

// Counts is how many records are in each state; every state is present.
func Counts(records []*TrialRecord) map[Status]int {
	c := map[Status]int{Pending: 0, Running: 0, Terminated: 0, Error: 0}
	for _, r := range records {
		c[r.Status]++
	}
	return c
}

// Close closes the files of attempts still open, without persisting their
// records, and releases the folder's lock.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	attempts := s.attempts
	s.attempts = map[string]*attemptFiles{}
	s.mu.Unlock()
	var errs []error
	for _, a := range attempts {
		errs = append(errs, a.close())
	}
	errs = append(errs, s.lock.release(), s.exp.close())
	return errors.Join(errs...)
}
