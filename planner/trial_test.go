package planner_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zclconf/go-cty/cty"

	"github.com/nomad-tune/tune/experiment"
	tunehcl "github.com/nomad-tune/tune/hcl"
	"github.com/nomad-tune/tune/planner"
)

// loadExperiment decodes src, which must be valid.
func loadExperiment(t testing.TB, src string) *experiment.Experiment {
	t.Helper()
	exp, diags := tunehcl.Load("experiment.hcl", []byte(src), tunehcl.Options{})
	require.False(t, diags.HasErrors(), diags.Error())
	return exp
}

// trials generates the trials of src and requires no diagnostics.
func trials(t testing.TB, src string) []*planner.Trial {
	t.Helper()
	ts, diags := planner.Trials(loadExperiment(t, src))
	require.Empty(t, diags, diags.Error())
	return ts
}

const task = `
  task "train" {
    command = "python3"
  }`

func spaceFile(seed, samples int, space string) string {
	return fmt.Sprintf("experiment \"trials\" {\n  seed = %d\n  num_samples = %d\n  space {\n%s\n  }%s\n}\n", seed, samples, space, task)
}

func plain(t *testing.T, tr *planner.Trial) []any {
	t.Helper()
	out := make([]any, len(tr.Values))
	for i, v := range tr.Values {
		out[i] = experiment.GoValue(v)
	}
	return out
}

func TestTrialsAreGridPointsTimesSamples(t *testing.T) {
	tests := []struct {
		name    string
		space   string
		samples int
		want    int
	}{
		{"no space is one trial per sample", `    c = 1`, 3, 3},
		{"random parameters add no trials", `    x = uniform(0, 1)`, 5, 5},
		{"two grids multiply with num_samples", "    a = grid([1, 2, 3])\n    b = grid([\"a\", \"b\"])", 4, 24},
		{"a grid beside random parameters", "    a = grid([1, 2])\n    x = loguniform(1e-3, 1)\n    o = choice([\"adam\", \"sgd\"])", 3, 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := trials(t, spaceFile(1, tt.samples, tt.space))
			require.Len(t, ts, tt.want)
			for i, tr := range ts {
				assert.Equal(t, i, tr.Index)
				assert.Equal(t, i/(tt.want/tt.samples), tr.Sample)
				assert.Equal(t, i%(tt.want/tt.samples), tr.GridPoint)
				require.NotNil(t, tr.Shape)
			}
		})
	}
}

func TestGridOrderVariesTheLastGridParameterFastest(t *testing.T) {
	ts := trials(t, spaceFile(1, 2, "    a = grid([1, 2, 3])\n    x = uniform(0, 1)\n    b = grid([\"p\", \"q\"])"))
	var got []string
	for _, tr := range ts {
		got = append(got, fmt.Sprintf("%d:%v%v", tr.Sample, experiment.GoValue(tr.Values[0]), experiment.GoValue(tr.Values[2])))
	}
	assert.Equal(t, []string{
		"0:1p", "0:1q", "0:2p", "0:2q", "0:3p", "0:3q",
		"1:1p", "1:1q", "1:2p", "1:2q", "1:3p", "1:3q",
	}, got)
}

const randomSpace = `    x   = uniform(-5, 5)
    lr  = loguniform(1e-4, 1e-1)
    n   = randint(1, 1000)
    opt = choice(["adam", "sgd", "rmsprop"])
    g   = grid([1, 2])`

func TestTrialsAreTheSameForTheSameFileAndSeed(t *testing.T) {
	a := trials(t, spaceFile(7, 20, randomSpace))
	b := trials(t, spaceFile(7, 20, randomSpace))
	require.Len(t, b, len(a))
	for i := range a {
		assert.Equal(t, a[i].ID, b[i].ID)
		assert.Equal(t, plain(t, a[i]), plain(t, b[i]))
	}
}

func TestADifferentSeedGivesDifferentValues(t *testing.T) {
	a := trials(t, spaceFile(7, 20, randomSpace))
	b := trials(t, spaceFile(8, 20, randomSpace))
	require.Len(t, b, len(a))
	differ := 0
	for i := range a {
		if !assert.ObjectsAreEqual(plain(t, a[i]), plain(t, b[i])) {
			differ++
			assert.NotEqual(t, a[i].ID, b[i].ID, "a trial with other values has another ID")
		}
		assert.Equal(t, experiment.GoValue(a[i].Values[4]), experiment.GoValue(b[i].Values[4]), "grid values do not depend on the seed")
	}
	assert.Equal(t, len(a), differ, "every trial draws other values")
}

func TestTrialValuesDoNotChangeWhenNumSamplesGrows(t *testing.T) {
	few := trials(t, spaceFile(3, 5, randomSpace))
	many := trials(t, spaceFile(3, 50, randomSpace))
	require.Len(t, many, 100)
	for i, tr := range few {
		assert.Equal(t, tr.ID, many[i].ID)
		assert.Equal(t, plain(t, tr), plain(t, many[i]))
	}
}

func TestTrialIDsAreUniqueAcrossAHundredThousandTrials(t *testing.T) {
	if testing.Short() {
		t.Skip("generates 100,000 trials")
	}
	ts := trials(t, spaceFile(1, 100_000, "    x = uniform(0, 1)"))
	require.Len(t, ts, 100_000)
	seen := make(map[string]int, len(ts))
	for i, tr := range ts {
		if j, dup := seen[tr.ID]; dup {
			t.Fatalf("trials %d and %d share the ID %s", j, i, tr.ID)
		}
		seen[tr.ID] = i
	}
	assert.Regexp(t, `^00000-[0-9a-f]{6}$`, ts[0].ID)
	assert.Regexp(t, `^99999-[0-9a-f]{6}$`, ts[len(ts)-1].ID)
}

func TestTrialIDsDependOnTheExperimentName(t *testing.T) {
	a := trials(t, spaceFile(1, 3, "    x = uniform(0, 1)"))
	b := trials(t, strings.Replace(spaceFile(1, 3, "    x = uniform(0, 1)"), `"trials"`, `"other"`, 1))
	for i := range a {
		assert.NotEqual(t, a[i].ID, b[i].ID)
	}
}

func TestTrialsResolveEachTrialsShape(t *testing.T) {
	ts := trials(t, `
experiment "shapes" {
  num_samples = 2
  space {
    opt = grid(["adam", "sgd"])
  }
  resources {
    gpu = trial.opt == "adam" ? 1 : 0
  }`+task+`
}`)
	require.Len(t, ts, 4)
	for _, tr := range ts {
		want := 0.0
		if tr.Values[0].AsString() == "adam" {
			want = 1
		}
		assert.InDelta(t, want, tr.Shape.Groups[0].Tasks[0].GPU, 0, "trial %s", tr.ID)
	}
}

func TestAPerTrialResourceErrorIsReportedOnceWithTheFirstTrial(t *testing.T) {
	tests := []struct {
		name      string
		src       string
		want      string
		firstFail func(tr *planner.Trial) bool
	}{
		{
			name: "a cpu that is negative for some trials",
			src: `
experiment "cpu" {
  num_samples = 50
  space {
    x = uniform(-1, 1)
  }
  resources {
    cpu = trial.x
  }` + task + `
}`,
			want:      "Invalid value for cpu",
			firstFail: func(tr *planner.Trial) bool { f, _ := tr.Values[0].AsBigFloat().Float64(); return f <= 0 },
		},
		{
			name: "a group count that is not whole",
			src: `
experiment "count" {
  num_samples = 20
  space {
    x = uniform(1, 3)
  }
  group "worker" {
    count = trial.x
` + task + `
  }
}`,
			want:      "Invalid value for count: The count must be a whole number",
			firstFail: func(*planner.Trial) bool { return true },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			exp := loadExperiment(t, tt.src)
			ts, diags := planner.Trials(exp)
			require.Len(t, diags, 1, "one error per expression, not one per trial: %s", diags.Error())
			d := diags[0]
			assert.Equal(t, hcl.DiagError, d.Severity)
			assert.Contains(t, d.Summary+": "+d.Detail, tt.want)
			require.NotNil(t, d.Subject)
			assert.Equal(t, 8, d.Subject.Start.Line)

			var first *planner.Trial
			for _, tr := range ts {
				if tt.firstFail(tr) {
					first = tr
					break
				}
			}
			require.NotNil(t, first, "some trial fails")
			assert.Contains(t, d.Detail, "(first seen in trial "+first.ID+", x="+planner.FormatValue(first.Values[0])+")")
		})
	}
}

func TestTooManyTrialValuesIsAnError(t *testing.T) {
	params := ""
	for i := range 26 {
		params += fmt.Sprintf("    p%d = uniform(0, 1)\n", i)
	}
	exp := loadExperiment(t, `
experiment "wide" {
  num_samples = 200000
  space {
`+params+`  }`+task+`
}`)
	ts, diags := planner.Trials(exp)
	assert.Nil(t, ts)
	require.Len(t, diags, 1)
	assert.Equal(t, "Too many trial values", diags[0].Summary)
	assert.Equal(t, "200000 trials × 26 parameters is 5200000 values: more than the 5000000 tune holds for one experiment. Use fewer trials or fewer parameters.", diags[0].Detail)
	require.NotNil(t, diags[0].Subject)
	assert.Equal(t, 2, diags[0].Subject.Start.Line)
}

func TestTooManyTrialsIsAnError(t *testing.T) {
	exp := loadExperiment(t, `
experiment "huge" {
  num_samples = 5000
  space {
    a = grid(range(1000))
    b = grid(range(4))
  }`+task+`
}`)
	ts, diags := planner.Trials(exp)
	assert.Nil(t, ts)
	require.Len(t, diags, 1)
	assert.Equal(t, "Too many trials", diags[0].Summary)
	assert.Equal(t, "The grid has 4000 points and num_samples is 5000: more than the 250000 trials tune handles in one experiment.", diags[0].Detail)
	require.NotNil(t, diags[0].Subject)
	assert.Equal(t, 2, diags[0].Subject.Start.Line)
}

func TestTrialParamsAndFormattingShowPlainValues(t *testing.T) {
	exp := loadExperiment(t, `
experiment "params" {
  space {
    lr     = 0.001
    layers = 3
    opt    = "adam"
    dims   = [64, 32]
  }`+task+`
}`)
	ts, diags := planner.Trials(exp)
	require.Empty(t, diags)
	require.Len(t, ts, 1)
	assert.Equal(t, map[string]any{"lr": 0.001, "layers": int64(3), "opt": "adam", "dims": []any{int64(64), int64(32)}}, ts[0].Params(&exp.Space))
	assert.Equal(t, "lr=0.001, layers=3, opt=adam, dims=[64,32]", planner.FormatParams(&exp.Space, ts[0].Values))
	assert.Equal(t, "0.3", planner.FormatValue(cty.NumberFloatVal(0.1*3)))

	vars := ts[0].Vars()
	assert.Equal(t, ts[0].ID, vars.ID)
	assert.Equal(t, 0, vars.Index)
}
