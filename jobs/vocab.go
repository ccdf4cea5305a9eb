package jobs

import (
	"fmt"
	"path"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/nomad/api"

	"github.com/nomad-tune/tune/experiment"
)

// taskBlocks sets what a task's own blocks ask for: lifecycle, timeouts,
// logs, artifacts, templates and volume mounts. Only what the file sets is
// written; Nomad's Canonicalize fills the rest with its defaults.
func taskBlocks(task *api.Task, spec experiment.TaskSpec) {
	if l := spec.Lifecycle; l != nil {
		task.Lifecycle = &api.TaskLifecycle{Hook: l.Hook, Sidecar: l.Sidecar}
	}
	if spec.KillTimeout != nil {
		task.KillTimeout = new(*spec.KillTimeout)
	}
	if spec.ShutdownDelay != nil {
		task.ShutdownDelay = *spec.ShutdownDelay
	}
	if l := spec.Logs; l != nil {
		if l.MaxFiles > 0 {
			task.LogConfig.MaxFiles = new(l.MaxFiles)
		}
		if l.MaxFileSizeMB > 0 {
			task.LogConfig.MaxFileSizeMB = new(l.MaxFileSizeMB)
		}
	}
	for _, a := range spec.Artifacts {
		art := &api.TaskArtifact{
			GetterSource:  new(a.Source),
			GetterOptions: a.Options,
			GetterHeaders: a.Headers,
		}
		if a.Mode != "" {
			art.GetterMode = new(a.Mode)
		}
		if a.Destination != "" {
			art.RelativeDest = new(a.Destination)
		}
		task.Artifacts = append(task.Artifacts, art)
	}
	for _, t := range spec.Templates {
		tmpl := &api.Template{
			DestPath: new(t.Destination),
			Envvars:  new(t.Env),
		}
		if t.Source != "" {
			tmpl.SourcePath = new(t.Source)
		} else {
			tmpl.EmbeddedTmpl = new(t.Data)
		}
		for _, f := range []struct {
			dst **string
			val string
		}{
			{&tmpl.ChangeMode, t.ChangeMode},
			{&tmpl.ChangeSignal, t.ChangeSignal},
			{&tmpl.Perms, t.Perms},
			{&tmpl.LeftDelim, t.LeftDelim},
			{&tmpl.RightDelim, t.RightDelim},
		} {
			if f.val != "" {
				*f.dst = new(f.val)
			}
		}
		task.Templates = append(task.Templates, tmpl)
	}
	for _, m := range spec.VolumeMounts {
		task.VolumeMounts = append(task.VolumeMounts, &api.VolumeMount{
			Volume:      new(m.Volume),
			Destination: new(m.Destination),
			ReadOnly:    new(m.ReadOnly),
		})
	}
}

// checkTemplates refuses a template that would overwrite the one tune
// renders for the task's own environment.
func (c *compiler) checkTemplates(spec experiment.TaskSpec) {
	for _, t := range spec.Templates {
		if path.Clean(t.Destination) != envTemplatePath {
			continue
		}
		key := "template@" + t.Range.String()
		if c.seen[key] {
			continue
		}
		c.seen[key] = true
		c.diags = append(c.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Template destination taken",
			Detail:   fmt.Sprintf("tune renders the task's own environment (TUNE_RANK, CUDA_VISIBLE_DEVICES) to %s; render this template to another file.", envTemplatePath),
			Subject:  t.Range.Ptr(),
		})
	}
}

// volumes is a group's volume map.
func volumes(vs []experiment.Volume) map[string]*api.VolumeRequest {
	if len(vs) == 0 {
		return nil
	}
	out := make(map[string]*api.VolumeRequest, len(vs))
	for _, v := range vs {
		out[v.Name] = &api.VolumeRequest{
			Name:           v.Name,
			Type:           v.Type,
			Source:         v.Source,
			ReadOnly:       v.ReadOnly,
			AccessMode:     v.AccessMode,
			AttachmentMode: v.AttachmentMode,
			PerAlloc:       v.PerAlloc,
		}
	}
	return out
}

// groupNetworks is a group's network list: Nomad gives a group one
// network, so the group that holds rank 0 gets its rendezvous port in the
// user's network, beside the ports the file asks for. Nomad takes a port
// with a static value as reserved and the others as dynamic, as its job
// files do. gi is the group's index, for an error about its network.
func (c *compiler) groupNetworks(n *experiment.Network, rendezvous bool, gi int) []*api.NetworkResource {
	if n == nil && !rendezvous {
		return nil
	}
	out := &api.NetworkResource{}
	if rendezvous {
		out = rendezvousNetwork()[0]
	}
	if n == nil {
		return []*api.NetworkResource{out}
	}
	out.Mode = n.Mode
	for _, p := range n.Ports {
		if p.Label == RendezvousPort {
			c.mergeError(c.e.Groups[gi].Network.DefRange, "Port label taken", fmt.Sprintf("tune gives rank 0 a port labelled %q for the rendezvous; name this port otherwise.", RendezvousPort))
			continue
		}
		port := api.Port{Label: p.Label, Value: p.Static, To: p.To}
		if p.Static > 0 {
			out.ReservedPorts = append(out.ReservedPorts, port)
		} else {
			out.DynamicPorts = append(out.DynamicPorts, port)
		}
	}
	return []*api.NetworkResource{out}
}

// mergeGroupBlocks gives the one task group of a strict_pack trial the
// volumes and network of the groups it merges. A volume name used by two
// groups for different volumes, or networks in more than one group,
// cannot be merged: Nomad gives a group one network, and the tasks of
// every allocation now share it, so their ports would collide.
func (c *compiler) mergeGroupBlocks(tg *api.TaskGroup) {
	var vols []experiment.Volume
	byName := map[string]experiment.Volume{}
	var network *experiment.Network
	var networkOf string
	networkGroup := 0
	for gi, gs := range c.groupSpecs {
		for _, v := range gs.Volumes {
			if first, ok := byName[v.Name]; ok {
				a, b := first, v
				a.Range, b.Range = hcl.Range{}, hcl.Range{}
				if a != b {
					c.mergeError(v.Range, "Volume names collide", fmt.Sprintf("strict_pack runs every group of a trial as one Nomad task group, where volume %q would mean two volumes (the other is at %s). Give them different names.", v.Name, first.Range))
				}
				continue
			}
			byName[v.Name] = v
			vols = append(vols, v)
		}
		if gs.Network == nil {
			continue
		}
		if network != nil || c.shape.Groups[gi].Count > 1 {
			c.mergeError(c.e.Groups[gi].Network.DefRange, "Network in a strict_pack trial", fmt.Sprintf("strict_pack runs every allocation of the trial as one Nomad task group with one network, so the ports of group %q would be shared with %s. Use placement = \"pack\", or one group of count 1 with the network.", c.e.Groups[gi].Name, otherAllocs(networkOf)))
			continue
		}
		network, networkOf, networkGroup = gs.Network, gs.Name, gi
	}
	tg.Volumes = volumes(vols)
	tg.Networks = c.groupNetworks(network, true, networkGroup)
}

func otherAllocs(group string) string {
	if group == "" {
		return "its other allocations"
	}
	return fmt.Sprintf("group %q", group)
}

func (c *compiler) mergeError(rng hcl.Range, summary, detail string) {
	key := summary + "@" + rng.String()
	if c.seen[key] {
		return
	}
	c.seen[key] = true
	c.diags = append(c.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: detail, Subject: rng.Ptr()})
}
