package planner

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"

	"github.com/hashicorp/hcl/v2"

	"github.com/nomad-tune/tune/experiment"
)

// Plan is what `tune plan` shows and `tune apply` executes: the trials,
// what each asks for, how many run at once on the target and why, and
// which can never run. Building it has no side effects.
type Plan struct {
	Experiment  string `json:"experiment"`
	Description string `json:"description,omitempty"`
	File        string `json:"file"`
	Target      string `json:"target"`
	Metric      string `json:"metric,omitempty"`
	Mode        string `json:"mode,omitempty"`
	Seed        uint64 `json:"seed"`

	GridPoints int `json:"grid_points"`
	NumSamples int `json:"num_samples"`
	NumTrials  int `json:"num_trials"`
	// Search names the search algorithm; SearchDetail says how it
	// chooses values, for people.
	Search              string `json:"search"`
	SearchDetail        string `json:"search_detail,omitempty"`
	MaxConcurrentTrials int    `json:"max_concurrent_trials"`

	Capacity Totals `json:"capacity"`

	// AtOnce is how many trials run at the same time when the experiment
	// starts on the empty target; Limit and LimitDetail say what bounds it.
	AtOnce      int    `json:"at_once"`
	Limit       Limit  `json:"limit"`
	LimitDetail string `json:"limit_detail"`

	// Admission is the order in which trials that do not all fit start:
	// the experiment's "reserve" or "greedy", or "nomad" where every trial
	// is submitted at once (on_unfit = "queue" on a Nomad cluster) and
	// Nomad orders them.
	Admission string `json:"admission"`

	// Shapes groups the trials by what they ask for, largest group first.
	Shapes []ShapePlan `json:"shapes"`
	// Runnable counts the trials that fit the target when it is empty.
	Runnable int `json:"runnable"`
	// Never lists the trials that can never run here, grouped by reason.
	Never []NeverRuns `json:"never,omitempty"`

	// DryRuns are the Nomad scheduler's own answers for one job of each
	// distinct shape, on the cluster as it is now (Nomad target only).
	DryRuns []DryRun `json:"dry_runs,omitempty"`

	// Jobs compares the trials with the jobs the cluster already holds
	// for them (Nomad target only).
	Jobs *JobChanges `json:"jobs,omitempty"`

	Trials []PlannedTrial `json:"trials,omitempty"`
}

// JobChanges sorts the trials by what the cluster holds for them, as
// Terraform sorts resources: new (no job, or only a stopped one),
// unchanged (a job compiled from the same definition, done or running),
// changed (a job compiled from another definition of the trial).
type JobChanges struct {
	New       int `json:"new"`
	Unchanged int `json:"unchanged"`
	// Done and Running split Unchanged.
	Done    int `json:"done"`
	Running int `json:"running"`
	// Changed are the IDs of the changed trials, in trial order.
	Changed []string `json:"changed"`
}

// DryRun is Nomad's plan of one trial's job: whether the cluster would
// place all of it now, and if not, why, in Nomad's words.
type DryRun struct {
	Shape  string `json:"shape"`
	Trials int    `json:"trials"`
	Job    string `json:"job"`
	// Reason is empty when Nomad would place the whole job now.
	Reason string `json:"reason,omitempty"`
	// Never says no node could ever hold it: every node was filtered
	// out (constraints, missing drivers or devices).
	Never bool `json:"never,omitempty"`
}

// ShapePlan is one distinct resource request and the trials that make it.
type ShapePlan struct {
	Resources *experiment.Shape `json:"resources"`
	Text      string            `json:"text"`
	Trials    int               `json:"trials"`
	// AtOnce is how many trials of this shape alone would run at once.
	AtOnce int `json:"at_once"`
	// Never is why trials of this shape can never run; empty when they can.
	Never string `json:"never,omitempty"`
}

// NeverRuns is a set of trials that no node of the target can hold, even
// when it is empty.
type NeverRuns struct {
	Reason   string   `json:"reason"`
	Shape    string   `json:"shape"`
	TrialIDs []string `json:"trial_ids"`
	// Refused says the target's own scheduler said so (Nomad's dry run),
	// rather than tune's model of the nodes' resources: such trials are
	// errors in on_unfit = "queue" mode too.
	Refused bool `json:"refused,omitempty"`
}

// PlannedTrial is one trial in the plan.
type PlannedTrial struct {
	ID        string            `json:"id"`
	Index     int               `json:"index"`
	Params    map[string]any    `json:"params"`
	Resources *experiment.Shape `json:"resources"`
	Runnable  bool              `json:"runnable"`
	Never     string            `json:"never,omitempty"`
	// Suggested says the searcher chooses the drawn parameters when the
	// trial starts; Params and Resources show random search's values.
	Suggested bool `json:"suggested,omitempty"`
}

// Build plans the experiment's trials on the capacity. Diagnostics are
// what the target cannot accept at all (such as a fractional GPU on Nomad);
// trials that merely do not fit are part of the plan, not errors.
func Build(e *experiment.Experiment, trials []*Trial, c *Capacity) (*Plan, hcl.Diagnostics) {
	p := &Plan{
		Experiment:          e.Name,
		Description:         e.Description,
		File:                e.Filename,
		Target:              c.Target,
		Metric:              e.Metric,
		Mode:                string(e.Mode),
		Seed:                e.Seed,
		GridPoints:          e.Space.GridPoints(),
		NumSamples:          e.NumSamples,
		NumTrials:           len(trials),
		Search:              string(e.Search.Algorithm),
		SearchDetail:        searchDetail(e),
		MaxConcurrentTrials: e.MaxConcurrentTrials,
		Admission:           string(e.Admission),
		Capacity:            c.Totals(),
	}
	diags := targetDiags(trials, c)

	// Shapes are compared by key: trials whose expressions depend on the
	// trial get their own *Shape values even when they ask for the same.
	type shapeInfo struct {
		plan  *ShapePlan
		never *Unfit
	}
	byKey := map[string]*shapeInfo{}
	var order []string
	shapes := make([]*experiment.Shape, len(trials))
	keys := make([]string, len(trials))
	keyOf := map[*experiment.Shape]string{}
	for i, t := range trials {
		key, ok := keyOf[t.Shape]
		if !ok {
			key = t.Shape.Key()
			keyOf[t.Shape] = key
		}
		keys[i] = key
		info, ok := byKey[key]
		if !ok {
			info = &shapeInfo{plan: &ShapePlan{Resources: t.Shape, Text: t.Shape.String()}}
			info.never = c.FitsEmpty(t.Shape, e.Placement)
			if info.never != nil {
				info.plan.Never = info.never.Reason()
			}
			byKey[key] = info
			order = append(order, key)
		}
		info.plan.Trials++
		// Reuse one pointer per shape so AtOnce's cache hits.
		shapes[i] = info.plan.Resources
	}

	never := map[string]*NeverRuns{}
	var neverOrder []string
	var runnable []*experiment.Shape
	p.Trials = make([]PlannedTrial, len(trials))
	for i, t := range trials {
		info := byKey[keys[i]]
		p.Trials[i] = PlannedTrial{ID: t.ID, Index: t.Index, Params: t.Params(&e.Space), Resources: t.Shape, Runnable: info.never == nil, Suggested: t.Suggested}
		if info.never == nil {
			p.Runnable++
			runnable = append(runnable, shapes[i])
			continue
		}
		p.Trials[i].Never = info.plan.Never
		key := info.plan.Never + "\x00" + info.plan.Text
		nr, ok := never[key]
		if !ok {
			nr = &NeverRuns{Reason: info.plan.Never, Shape: info.plan.Text, Refused: info.never.Refused}
			never[key] = nr
			neverOrder = append(neverOrder, key)
		}
		nr.TrialIDs = append(nr.TrialIDs, t.ID)
	}
	for _, key := range neverOrder {
		p.Never = append(p.Never, *never[key])
	}

	// An open-ended experiment's trials are not all known: how many run at
	// once is what the capacity holds of as many as its cap, the shapes
	// in the proportions of those planned.
	if e.OpenEnded() && len(runnable) > 0 {
		for i := 0; len(runnable) < e.TrialCap(); i++ {
			runnable = append(runnable, runnable[i])
		}
	}
	for _, key := range order {
		info := byKey[key]
		if info.never == nil {
			n := info.plan.Trials
			if e.OpenEnded() {
				n = e.TrialCap()
			}
			alone := make([]*experiment.Shape, n)
			for i := range alone {
				alone[i] = info.plan.Resources
			}
			info.plan.AtOnce = AtOnce(c, alone, e.Placement, e.MaxConcurrentTrials).Count
		}
		p.Shapes = append(p.Shapes, *info.plan)
	}
	sort.SliceStable(p.Shapes, func(i, j int) bool { return p.Shapes[i].Trials > p.Shapes[j].Trials })

	res := AtOnce(c, runnable, e.Placement, e.MaxConcurrentTrials)
	p.AtOnce, p.Limit, p.LimitDetail = res.Count, res.Limit, res.Detail
	if p.Runnable == 0 {
		p.AtOnce, p.LimitDetail = 0, "no trial can run on this target"
	}
	return p, diags
}

// targetDiags reports requests the target cannot express at all, once
// per source location.
func targetDiags(trials []*Trial, c *Capacity) hcl.Diagnostics {
	if c.FractionalGPUs {
		return nil
	}
	var diags hcl.Diagnostics
	seen := map[*experiment.Shape]bool{}
	reported := map[string]bool{}
	for _, t := range trials {
		if seen[t.Shape] {
			continue
		}
		seen[t.Shape] = true
		for _, g := range t.Shape.Groups {
			for _, task := range g.Tasks {
				if task.GPU <= 0 || task.GPU == float64(int(task.GPU)) {
					continue
				}
				key := task.GPURange.String()
				if reported[key] {
					continue
				}
				reported[key] = true
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Fractional GPU on a target with whole devices",
					Detail: fmt.Sprintf("Trial %s asks for gpu = %s, but %s hands out whole devices only (Nomad devices cannot be shared). Ask for a whole number of GPUs, or run on the local target, where trials can share a GPU.",
						t.ID, experiment.FormatNumber(task.GPU), c.Target),
					Subject: task.GPURange.Ptr(),
				})
			}
		}
	}
	return diags
}

// WriteJSON writes the plan as one JSON object, the same as
// json.Marshal(p) would give but streamed: the trials, which are most of it,
// are written one a line, and each distinct shape is encoded once.
func (p *Plan) WriteJSON(w io.Writer) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	head := *p
	head.Trials = nil
	b, err := json.MarshalIndent(head, "", "  ")
	if err != nil {
		return err
	}
	// Drop the closing brace to append the trials.
	b = bytes.TrimSuffix(bytes.TrimRight(b, "\n"), []byte("}"))
	b = bytes.TrimRight(b, "\n ")
	bw.Write(b)
	bw.WriteString(",\n  \"trials\": [")
	shapes := map[*experiment.Shape][]byte{}
	for i := range p.Trials {
		t := &p.Trials[i]
		if i > 0 {
			bw.WriteByte(',')
		}
		bw.WriteString("\n    ")
		res, ok := shapes[t.Resources]
		if !ok {
			if res, err = json.Marshal(t.Resources); err != nil {
				return err
			}
			shapes[t.Resources] = res
		}
		params, err := json.Marshal(t.Params)
		if err != nil {
			return err
		}
		id, _ := json.Marshal(t.ID)
		fmt.Fprintf(bw, `{"id":%s,"index":%d,"params":%s,"resources":%s,"runnable":%t`, id, t.Index, params, res, t.Runnable)
		if t.Never != "" {
			never, _ := json.Marshal(t.Never)
			fmt.Fprintf(bw, `,"never":%s`, never)
		}
		bw.WriteByte('}')
	}
	if len(p.Trials) > 0 {
		bw.WriteString("\n  ")
	}
	bw.WriteString("]\n}\n")
	return bw.Flush()
}

// searchDetail says how an adaptive search chooses trials' values.
func searchDetail(e *experiment.Experiment) string {
	if !e.Search.Adaptive() {
		return ""
	}
	s := e.Search
	per := ""
	if e.Space.GridPoints() > 1 {
		per = " of each grid point"
	}
	return fmt.Sprintf("TPE: the first %s%s are random; each later trial's values are suggested from the finished trials when it starts (%d candidates, prior weight %s), and its resources evaluated then",
		experiment.Count(s.StartupTrials, "trial"), per, s.Candidates, experiment.FormatNumber(s.PriorWeight))
}
