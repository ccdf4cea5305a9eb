package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/nomad-tune/tune/experiment"
	"github.com/nomad-tune/tune/jobs"
	"github.com/nomad-tune/tune/planner"
	"github.com/nomad-tune/tune/results"
)

// PlanFile is the file apply writes beside experiment.json with what the
// report needs from the plan.
const PlanFile = "plan.json"

// Plan is what the report takes from the plan: the limits the schedule is
// drawn against and what each trial asked for.
type Plan struct {
	// AtOnce is how many trials fit at once on the empty target, and
	// AtOnceBecause says what bounds it, as tune plan prints it.
	AtOnce        int    `json:"at_once"`
	AtOnceBecause string `json:"at_once_because"`
	// MaxConcurrentTrials is the file's limit; 0 means none.
	MaxConcurrentTrials int `json:"max_concurrent_trials"`
	// Capacity is the target's whole capacity when the experiment began.
	Capacity Resources `json:"capacity"`
	// Nomad is whether the trials are Nomad jobs.
	Nomad bool `json:"nomad"`
	// LogParams names the parameters drawn on a log scale.
	LogParams []string `json:"log_params,omitempty"`
	// Trials holds each trial's resources and, on Nomad, its job ID.
	Trials map[string]TrialPlan `json:"trials"`
}

// Resources is an amount of CPU (cores), memory (MiB) and GPUs.
type Resources struct {
	CPU       float64 `json:"cpu"`
	MemoryMiB float64 `json:"memory_mib"`
	GPU       float64 `json:"gpu"`
}

// TrialPlan is one trial's share of the plan.
type TrialPlan struct {
	Resources Resources `json:"resources"`
	JobID     string    `json:"job_id,omitempty"`
}

// NewPlan takes the report's part of a plan. atOnce is the plan's "at
// once because" line as the command line prints it.
func NewPlan(e *experiment.Experiment, p *planner.Plan, atOnce string, nomad bool) *Plan {
	c := p.Capacity
	out := &Plan{
		AtOnce:              p.AtOnce,
		AtOnceBecause:       atOnce,
		MaxConcurrentTrials: p.MaxConcurrentTrials,
		Capacity:            Resources{CPU: c.CPUCores + float64(c.Cores), MemoryMiB: float64(c.MemoryMiB), GPU: float64(c.GPUs)},
		Nomad:               nomad,
		Trials:              make(map[string]TrialPlan, len(p.Trials)),
	}
	for _, param := range e.Space.Params {
		if param.Dist != nil && strings.Contains(string(param.Dist.Kind), "log") {
			out.LogParams = append(out.LogParams, param.Name)
		}
	}
	for _, t := range p.Trials {
		tp := TrialPlan{Resources: shapeResources(t.Resources)}
		if nomad {
			tp.JobID = jobs.JobID(e.Name, t.ID)
		}
		out.Trials[t.ID] = tp
	}
	return out
}

// shapeResources adds up what every allocation of a trial asks for.
func shapeResources(s *experiment.Shape) Resources {
	var r Resources
	if s == nil {
		return r
	}
	for _, g := range s.Groups {
		for _, t := range g.Tasks {
			n := float64(g.Count)
			r.CPU += n * (t.CPU + float64(t.Cores))
			r.MemoryMiB += n * float64(t.MemoryMiB)
			r.GPU += n * t.GPU
		}
	}
	return r
}

// WritePlan writes plan.json into the experiment's results folder.
func WritePlan(root, name string, p *Plan) error {
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return err
	}
	return results.WriteExperimentFile(root, name, PlanFile, append(b, '\n'))
}

// readPlan reads plan.json; an experiment run before it existed has none,
// and its report leaves out what only the plan knows.
func readPlan(dir string) (*Plan, error) {
	b, err := os.ReadFile(filepath.Join(dir, PlanFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var p Plan
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("%s: %v", filepath.Join(dir, PlanFile), err)
	}
	return &p, nil
}
