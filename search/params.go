package search

import (
	"encoding/json"
	"fmt"

	"github.com/zclconf/go-cty/cty"

	"github.com/nomad-tune/tune/experiment"
)

// Values turns a trial's params, as its params.json holds them, back into
// values in Space order: a resumed experiment gives a trial that already
// started the values it started with, and tells the searcher what its
// finished trials tried. Options (grid, choice, constant) are matched by
// their JSON; numbers are read as numbers.
func Values(space *experiment.Space, params map[string]any) ([]cty.Value, error) {
	vals := make([]cty.Value, len(space.Params))
	for i, p := range space.Params {
		v, ok := params[p.Name]
		if !ok {
			return nil, fmt.Errorf("it has no value for %s", p.Name)
		}
		switch p.Dist.Kind {
		case experiment.KindConstant, experiment.KindGrid, experiment.KindChoice:
			want, _ := json.Marshal(v)
			for _, o := range p.Dist.Values {
				if got, err := json.Marshal(experiment.GoValue(o)); err == nil && string(got) == string(want) {
					vals[i] = o
					break
				}
			}
			if vals[i] == cty.NilVal {
				return nil, fmt.Errorf("its %s = %s is not one of the options", p.Name, want)
			}
		default:
			f, ok := v.(float64)
			if !ok {
				return nil, fmt.Errorf("its %s is not a number", p.Name)
			}
			vals[i] = cty.NumberFloatVal(f)
		}
	}
	return vals, nil
}
