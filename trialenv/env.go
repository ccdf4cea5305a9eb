package trialenv

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/nomad-tune/tune/experiment"
)

// Variables every task gets. The TUNE_* names are tune's own; the others
// are those PyTorch's env:// rendezvous and torchrun-style launchers read,
// so that init_process_group(init_method="env://") works unchanged.
const (
	Experiment  = "TUNE_EXPERIMENT"
	TrialID     = "TUNE_TRIAL_ID"
	TrialIndex  = "TUNE_TRIAL_INDEX"
	Config      = "TUNE_CONFIG"
	CPUs        = "TUNE_CPUS"
	TuneRank    = "TUNE_RANK"
	TuneWorld   = "TUNE_WORLD_SIZE"
	Group       = "TUNE_GROUP"
	Attempt     = "TUNE_ATTEMPT"
	CUDADevices = "CUDA_VISIBLE_DEVICES"

	MasterAddr     = "MASTER_ADDR"
	MasterPort     = "MASTER_PORT"
	Rank           = "RANK"
	WorldSize      = "WORLD_SIZE"
	LocalRank      = "LOCAL_RANK"
	LocalWorldSize = "LOCAL_WORLD_SIZE"
	GroupRank      = "GROUP_RANK"
	NodeRank       = "NODE_RANK"
)

// RankNames are the variables that hold a task's rank. Each allocation of
// a trial is one rendezvous member with one process, as a torchrun "node"
// of one process would be: its global rank, group rank and node rank are
// the same number.
var RankNames = []string{TuneRank, Rank, GroupRank, NodeRank}

// Var is one environment variable.
type Var struct {
	Name, Value string
}

// Task is what a task's environment is made of, apart from its rank, the
// rendezvous address and its GPUs, which a driver may only learn when the
// task is placed.
type Task struct {
	Experiment string
	TrialID    string
	TrialIndex int
	// Config is TUNE_CONFIG (see ConfigValue).
	Config string
	Group  string
	// CPUs is TUNE_CPUS (see CPUsValue).
	CPUs    string
	Attempt int
	// World is the trial's allocations: TUNE_WORLD_SIZE and WORLD_SIZE.
	World int
}

// Env is the part of a task's environment that every allocation of its
// group shares. LOCAL_RANK is 0 and LOCAL_WORLD_SIZE 1 because an
// allocation runs one rendezvous member: with CUDA_VISIBLE_DEVICES
// narrowed to the allocation's own GPUs, cuda:LOCAL_RANK is its first GPU.
func (t Task) Env() []Var {
	world := strconv.Itoa(t.World)
	return []Var{
		{Experiment, t.Experiment},
		{TrialID, t.TrialID},
		{TrialIndex, strconv.Itoa(t.TrialIndex)},
		{Config, t.Config},
		{CPUs, t.CPUs},
		{TuneWorld, world},
		{WorldSize, world},
		{Group, t.Group},
		{Attempt, strconv.Itoa(t.Attempt)},
		{LocalRank, "0"},
		{LocalWorldSize, "1"},
	}
}

// RankEnv sets every rank variable to rank.
func RankEnv(rank string) []Var {
	out := make([]Var, len(RankNames))
	for i, name := range RankNames {
		out[i] = Var{name, rank}
	}
	return out
}

// MasterEnv is where rank 0 listens for the rendezvous.
func MasterEnv(addr, port string) []Var {
	return []Var{{MasterAddr, addr}, {MasterPort, port}}
}

// RankOffsets numbers the trial's allocations from 0, group after group:
// the rank of allocation i of group g is offsets[g] + i, and world is the
// number of allocations.
func RankOffsets(shape *experiment.Shape) (offsets []int, world int) {
	offsets = make([]int, len(shape.Groups))
	for i, g := range shape.Groups {
		offsets[i] = world
		world += g.Count
	}
	return offsets, world
}

// CPUsValue is TUNE_CPUS: what the task may use, for sizing thread pools.
func CPUsValue(res experiment.TaskResources) string {
	if res.Cores > 0 {
		return strconv.Itoa(res.Cores)
	}
	return experiment.FormatNumber(res.CPU)
}

// ConfigValue is TUNE_CONFIG, the trial's parameters as compact JSON,
// without HTML escaping so that a parameter such as "a<b" reads the same
// in the environment, in meta and in the UI.
func ConfigValue(v any) (string, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}
