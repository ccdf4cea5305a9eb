package jobs

import (
	"fmt"
	"path"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/nomad-tune/tune/experiment"
)

// Check finds what compiles to a valid job but cannot work on a Nomad
// client, and says how to fix it. specs are one trial's resolved tasks
// (ResolveTasks), in the experiment's group and task order. It returns
// warnings only: the job is what the user wrote.
func Check(e *experiment.Experiment, specs [][]experiment.TaskSpec) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for gi, g := range e.Groups {
		if gi >= len(specs) {
			break
		}
		for ti, t := range g.Tasks {
			if ti >= len(specs[gi]) {
				break
			}
			if d := relativeCommand(t, specs[gi][ti]); d != nil {
				diags = append(diags, d)
			}
		}
	}
	return diags
}

// relativeCommand warns about a command such as ./train.sh: raw_exec and
// exec look a command up in the task's local/ folder, then the task's
// folder, then PATH (Nomad's executor, lookupBin), so a path relative to
// the experiment file finds nothing on a client unless something put it
// in the task's folder.
func relativeCommand(t *experiment.Task, spec experiment.TaskSpec) *hcl.Diagnostic {
	if t.Command == nil || (spec.Driver != "raw_exec" && spec.Driver != "exec") {
		return nil
	}
	cmd := spec.Command
	if cmd == "" || path.IsAbs(cmd) || !strings.Contains(cmd, "/") || strings.HasPrefix(cmd, "$") {
		return nil
	}
	clean := path.Clean(cmd)
	for _, dest := range spec.TaskFolderFiles() {
		if clean == dest || strings.HasPrefix(clean, dest+"/") || dest == "." {
			return nil
		}
	}
	base := path.Base(clean)
	return &hcl.Diagnostic{
		Severity: hcl.DiagWarning,
		Summary:  "Relative command on Nomad",
		Detail: fmt.Sprintf("Task %q runs %q, a path relative to the experiment file, but Nomad's %s driver runs a task in its allocation folder on the client, where it is not. "+
			"Give an absolute path that exists on every client (command = abspath(%q), or \"${path.module}/%s\"), "+
			"fetch it with an artifact block (artifact { source = \"...\"  destination = \"local/\" } and command = \"local/%s\"), "+
			"or mount a volume that holds it (volume_mount { destination = \"/code\" } and command = \"/code/%s\").",
			spec.Name, cmd, spec.Driver, cmd, strings.TrimPrefix(clean, "./"), base, base),
		Subject: t.Command.Range().Ptr(),
	}
}
