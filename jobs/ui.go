package jobs

import (
	"fmt"
	"strings"

	"github.com/hashicorp/nomad/api"

	"github.com/nomad-tune/tune/experiment"
)

// ui is the job's UI block: a Markdown description that says which trial
// this is and what it asks for, so that someone who finds the job in the
// Nomad UI needs neither tune nor the experiment file to read it.
func (c *compiler) ui() *api.JobUIConfig {
	var b strings.Builder
	fmt.Fprintf(&b, "Trial **%s** (index %d) of the tune experiment **%s**", c.t.ID, c.t.Index, c.e.Name)
	if c.opts.Attempt > 0 {
		fmt.Fprintf(&b, ", attempt %d (after %d failed %s)", c.opts.Attempt+1, c.opts.Attempt, plural(c.opts.Attempt, "attempt", "attempts"))
	}
	b.WriteString(".\n")
	if c.e.Description != "" {
		b.WriteString("\n" + c.e.Description + "\n")
	}

	if len(c.e.Space.Params) > 0 {
		b.WriteString("\n| Parameter | Value |\n|---|---|\n")
		for i, p := range c.e.Space.Params {
			fmt.Fprintf(&b, "| `%s` | %s |\n", p.Name, cell(paramText(experiment.GoValue(c.t.Values[i]))))
		}
	}

	b.WriteString("\n| Group | Count | Task | Resources |\n|---|---|---|---|\n")
	for _, g := range c.shape.Groups {
		for _, t := range g.Tasks {
			fmt.Fprintf(&b, "| `%s` | %d | `%s` | %s |\n", g.Name, g.Count, t.Task, cell(t.Summary()))
		}
	}
	if c.e.Placement != "" && c.world > 1 {
		fmt.Fprintf(&b, "\nPlacement: %s, %s.\n", c.e.Placement, experiment.Count(c.world, "allocation"))
	}

	if d := c.e.Stop.TrialTimeout; d > 0 {
		fmt.Fprintf(&b, "\nTrial timeout: %s (max_run_duration).\n", d)
	}

	if c.e.Metric != "" {
		fmt.Fprintf(&b, "\nMetric: `%s` (%s).\n", c.e.Metric, c.e.Mode)
	}

	ui := &api.JobUIConfig{Description: b.String()}
	for _, l := range c.e.Nomad.UILinks {
		ui.Links = append(ui.Links, &api.JobUILink{Label: l.Label, URL: l.URL})
	}
	return ui
}

// cell keeps a value inside its Markdown table cell.
func cell(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	return strings.ReplaceAll(s, "\n", " ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
