package trialenv_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nomad-tune/tune/experiment"
	"github.com/nomad-tune/tune/trialenv"
)

func TestRankOffsets(t *testing.T) {
	tests := []struct {
		name    string
		counts  []int
		offsets []int
		world   int
	}{
		{"a single allocation is rank 0 of a world of 1", []int{1}, []int{0}, 1},
		{"one group's allocations are ranks 0 to count-1", []int{3}, []int{0}, 3},
		{"a group's ranks start after the groups before it", []int{1, 4, 2}, []int{0, 1, 5}, 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			shape := &experiment.Shape{}
			for _, c := range tt.counts {
				shape.Groups = append(shape.Groups, experiment.GroupShape{Count: c})
			}
			offsets, world := trialenv.RankOffsets(shape)
			assert.Equal(t, tt.offsets, offsets)
			assert.Equal(t, tt.world, world)
		})
	}
}

func envMap(vars []trialenv.Var) map[string]string {
	out := map[string]string{}
	for _, v := range vars {
		out[v.Name] = v.Value
	}
	return out
}

func TestTaskEnvHoldsWhatTorchrunLaunchersRead(t *testing.T) {
	env := envMap(trialenv.Task{
		Experiment: "sweep", TrialID: "00003-abc", TrialIndex: 3, Config: `{"x":1}`,
		Group: "worker", CPUs: "0.5", Attempt: 2, World: 4,
	}.Env())
	assert.Equal(t, map[string]string{
		"TUNE_EXPERIMENT":  "sweep",
		"TUNE_TRIAL_ID":    "00003-abc",
		"TUNE_TRIAL_INDEX": "3",
		"TUNE_CONFIG":      `{"x":1}`,
		"TUNE_CPUS":        "0.5",
		"TUNE_WORLD_SIZE":  "4",
		"WORLD_SIZE":       "4",
		"TUNE_GROUP":       "worker",
		"TUNE_ATTEMPT":     "2",
		"LOCAL_RANK":       "0",
		"LOCAL_WORLD_SIZE": "1",
	}, env)
	assert.Equal(t, map[string]string{"TUNE_RANK": "5", "RANK": "5", "GROUP_RANK": "5", "NODE_RANK": "5"}, envMap(trialenv.RankEnv("5")))
	assert.Equal(t, map[string]string{"MASTER_ADDR": "10.0.0.1", "MASTER_PORT": "29500"}, envMap(trialenv.MasterEnv("10.0.0.1", "29500")))
}

func TestConfigValueKeepsTextAsWritten(t *testing.T) {
	got, err := trialenv.ConfigValue(map[string]any{"opt": "a<b&c", "s": "${node.unique.name}"})
	require.NoError(t, err)
	assert.Equal(t, `{"opt":"a<b&c","s":"${node.unique.name}"}`, got)
}

func TestFilterNamesTheExperimentQuoted(t *testing.T) {
	assert.Equal(t, `Meta["tune_managed_by"] == "tune" and Meta["tune_experiment"] == "a \"b\""`, trialenv.Filter(`a "b"`))
}
