package jobs

import (
	"fmt"
	"strings"

	"github.com/hashicorp/nomad/api"

	"github.com/nomad-tune/tune/experiment"
)

// ui is the job's UI block: a Markdown description that says which trial
// this is, what it is for and what it asks for, so that someone who finds
// the job in the Nomad UI needs neither tune nor the experiment file to
// read it, and links back to the whole experiment.
//
// The description is short paragraphs, never tables: Nomad's job page
// renders Markdown tables with neither padding nor borders, so their
// cells run together. Bold and inline code render well. Every text that
// comes from a parameter or a name is escaped, so that it reads as itself
// and cannot inject links or formatting.
func (c *compiler) ui() *api.JobUIConfig {
	var paras []string
	head := fmt.Sprintf("Trial **%s** · index %d", markdownText(c.t.ID), c.t.Index)
	if c.opts.Attempt > 0 {
		head += fmt.Sprintf(" · attempt %d (after %s)", c.opts.Attempt+1, experiment.Count(c.opts.Attempt, "failed attempt"))
	}
	paras = append(paras, head)

	purpose := fmt.Sprintf("One point of the search space of the tune experiment **%s**", markdownText(c.e.Name))
	if c.e.Metric != "" {
		purpose += fmt.Sprintf(", ranked by **%s** (%s)", markdownText(c.e.Metric), c.e.Mode)
	}
	paras = append(paras, purpose+".")
	if c.e.Description != "" {
		// The experiment's own description is the author's Markdown.
		paras = append(paras, c.e.Description)
	}

	if len(c.e.Space.Params) > 0 {
		params := make([]string, len(c.e.Space.Params))
		for i, p := range c.e.Space.Params {
			params[i] = fmt.Sprintf("**%s** %s", markdownText(p.Name), markdownText(paramText(experiment.GoValue(c.t.Values[i]))))
		}
		paras = append(paras, strings.Join(params, " · "))
	}

	var shape []string
	for _, g := range c.shape.Groups {
		for _, t := range g.Tasks {
			shape = append(shape, fmt.Sprintf("Group **%s** × %d · task **%s** · %s", markdownText(g.Name), g.Count, markdownText(t.Task), markdownText(t.Summary())))
		}
	}
	if c.e.Placement != "" && c.world > 1 {
		shape = append(shape, fmt.Sprintf("Placement %s · %s", c.e.Placement, experiment.Count(c.world, "allocation")))
	}
	if d := c.e.Stop.TrialTimeout; d > 0 {
		shape = append(shape, fmt.Sprintf("Trial timeout %s (max_run_duration)", d))
	}
	// The UI renders with line breaks on, so one newline is one line.
	paras = append(paras, strings.Join(shape, "\n"))
	paras = append(paras, "Status, latest and best metrics: this job's **Variables** tab. Every trial of the experiment and its best: the links above.")

	ui := &api.JobUIConfig{Description: strings.Join(paras, "\n\n") + "\n"}
	ui.Links = append(ui.Links,
		&api.JobUILink{Label: "All trials of " + c.e.Name, URL: JobsListPath(c.e.Name)},
		&api.JobUILink{Label: "Experiment summary", URL: SummaryVariablePath(c.e.Name, c.e.Nomad.Namespace)},
	)
	for _, l := range c.e.Nomad.UILinks {
		ui.Links = append(ui.Links, &api.JobUILink{Label: l.Label, URL: l.URL})
	}
	return ui
}

// markdownText is text that Markdown shows as it is, on one line: every
// character Markdown could read as syntax is escaped with a backslash, and
// line breaks become spaces.
func markdownText(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '\n', '\r', '\t':
			b.WriteByte(' ')
		case '\\', '`', '*', '_', '{', '}', '[', ']', '(', ')', '<', '>', '#', '!', '|', '~', '&', ':':
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
