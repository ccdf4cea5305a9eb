package local

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/hashicorp/hcl/v2"

	"github.com/nomad-tune/tune/driver"
	"github.com/nomad-tune/tune/experiment"
	"github.com/nomad-tune/tune/planner"
)

var _ driver.Specifier = (*Driver)(nil)

// Spec is the hash of what an attempt of the trial runs here: its tasks
// (driver, command, args, env, config) and the resources it is given, as
// resolved for the trial. Where in the file they are written does not
// count, nor do the experiment's other settings.
func (d *Driver) Spec(e *experiment.Experiment, t *planner.Trial) (string, error) {
	shape := t.Shape
	if shape == nil {
		var diags hcl.Diagnostics
		if shape, diags = e.ResolveShape(t.Vars()); diags.HasErrors() {
			return "", fmt.Errorf("trial %s: %w", t.ID, diags)
		}
	}
	tasks, diags := e.ResolveTasks(t.Vars())
	if diags.HasErrors() {
		return "", fmt.Errorf("trial %s: %w", t.ID, diags)
	}
	raw, err := json.Marshal(struct {
		Tasks [][]experiment.TaskSpec `json:"tasks"`
		Shape *experiment.Shape       `json:"shape"`
	}{tasks, shape})
	if err != nil {
		return "", fmt.Errorf("trial %s: %w", t.ID, err)
	}
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:16]), nil
}
