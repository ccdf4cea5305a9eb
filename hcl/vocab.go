package hcl

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/nomad-tune/tune/experiment"
)

// Required attributes that may depend on the trial (an artifact's source,
// a template's destination) are checked when the block is evaluated, so
// that an empty value and a missing one read alike.

// content decodes a block against its schema and returns its attributes'
// expressions, each registered as a per-trial expression.
func (d *decoder) content(b *hcl.Block, schema *hcl.BodySchema) (map[string]hcl.Expression, *hcl.BodyContent) {
	content, diags := b.Body.Content(schema)
	d.diags = append(d.diags, diags...)
	exprs := map[string]hcl.Expression{}
	for name, a := range content.Attributes {
		exprs[name] = d.trialExpr(a.Expr)
	}
	return exprs, content
}

// stringBlock decodes a block of string attributes such as an artifact's
// options or headers.
func (d *decoder) stringBlock(b *hcl.Block) []*experiment.Attr {
	attrs, diags := b.Body.JustAttributes()
	d.diags = append(d.diags, diags...)
	var out []*experiment.Attr
	for _, a := range sortedAttributes(attrs) {
		out = append(out, &experiment.Attr{Name: a.Name, Expr: d.trialExpr(a.Expr), Range: a.Range})
	}
	return out
}

func (d *decoder) artifact(b *hcl.Block) *experiment.ArtifactSpec {
	exprs, content := d.content(b, artifactSchema)
	a := &experiment.ArtifactSpec{DefRange: b.DefRange, Source: exprs["source"], Destination: exprs["destination"], Mode: exprs["mode"]}
	seen := map[string]*hcl.Block{}
	for _, cb := range content.Blocks {
		if first, ok := seen[cb.Type]; ok {
			d.diags = append(d.diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Duplicate " + cb.Type + " block",
				Detail:   fmt.Sprintf("An artifact has at most one %s block; the first is at %s.", cb.Type, first.DefRange),
				Subject:  cb.DefRange.Ptr(),
			})
			continue
		}
		seen[cb.Type] = cb
		if cb.Type == "options" {
			a.Options = d.stringBlock(cb)
		} else {
			a.Headers = d.stringBlock(cb)
		}
	}
	return a
}

func (d *decoder) template(b *hcl.Block) *experiment.TemplateSpec {
	e, _ := d.content(b, templateSchema)
	t := &experiment.TemplateSpec{
		DefRange: b.DefRange, Data: e["data"], Source: e["source"], Destination: e["destination"], Env: e["env"],
		ChangeMode: e["change_mode"], ChangeSignal: e["change_signal"], Perms: e["perms"],
		LeftDelim: e["left_delimiter"], RightDelim: e["right_delimiter"],
	}
	return t
}

func (d *decoder) volumeMount(b *hcl.Block) *experiment.VolumeMountSpec {
	content, diags := b.Body.Content(volumeMountSchema)
	d.diags = append(d.diags, diags...)
	m := &experiment.VolumeMountSpec{DefRange: b.DefRange}
	if a, ok := content.Attributes["volume"]; ok {
		m.Volume, _ = d.str(a)
	}
	if a, ok := content.Attributes["destination"]; ok {
		m.Destination = d.trialExpr(a.Expr)
	}
	if a, ok := content.Attributes["read_only"]; ok {
		m.ReadOnly = d.trialExpr(a.Expr)
	}
	return m
}

func (d *decoder) lifecycle(b *hcl.Block) *experiment.LifecycleSpec {
	content, diags := b.Body.Content(lifecycleSchema)
	d.diags = append(d.diags, diags...)
	l := &experiment.LifecycleSpec{DefRange: b.DefRange}
	if a, ok := content.Attributes["hook"]; ok {
		l.Hook, _ = d.enum(a, experiment.HookPrestart, experiment.HookPoststart, experiment.HookPoststop)
	}
	if a, ok := content.Attributes["sidecar"]; ok {
		l.Sidecar, _ = d.boolean(a)
	}
	return l
}

func (d *decoder) logs(b *hcl.Block) *experiment.LogsSpec {
	e, _ := d.content(b, logsSchema)
	return &experiment.LogsSpec{DefRange: b.DefRange, MaxFiles: e["max_files"], MaxFileSize: e["max_file_size"]}
}

// groupBlocks decodes a group's volume and network blocks (only the first
// network block: more are reported by the caller).
func (d *decoder) groupBlocks(g *experiment.Group, volumes, networks []*hcl.Block) {
	seen := map[string]*hcl.Block{}
	for _, b := range volumes {
		name := b.Labels[0]
		if first, ok := seen[name]; ok {
			d.diags = append(d.diags, duplicate("volume", name, b.DefRange, first.DefRange))
			continue
		}
		seen[name] = b
		e, content := d.content(b, volumeSchema)
		v := &experiment.VolumeSpec{
			Name: name, DefRange: b.DefRange, Type: experiment.VolumeHost,
			Source: e["source"], ReadOnly: e["read_only"], AccessMode: e["access_mode"],
			AttachmentMode: e["attachment_mode"], PerAlloc: e["per_alloc"],
		}
		if a, ok := content.Attributes["type"]; ok {
			if t, ok := d.enum(a, experiment.VolumeHost, experiment.VolumeCSI); ok && t != "" {
				v.Type = t
			}
		}
		g.Volumes = append(g.Volumes, v)
	}
	if len(networks) == 0 {
		return
	}
	b := networks[0]
	e, content := d.content(b, networkSchema)
	n := &experiment.NetworkSpec{DefRange: b.DefRange, Mode: e["mode"]}
	ports := map[string]*hcl.Block{}
	for _, pb := range content.Blocks {
		label := pb.Labels[0]
		if first, ok := ports[label]; ok {
			d.diags = append(d.diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Duplicate port label",
				Detail:   fmt.Sprintf("Port %q is already defined at %s; each port of a group needs its own label (it names NOMAD_PORT_<label>).", label, first.DefRange),
				Subject:  pb.LabelRanges[0].Ptr(),
			})
			continue
		}
		ports[label] = pb
		pe, _ := d.content(pb, portSchema)
		n.Ports = append(n.Ports, &experiment.PortSpec{Label: label, DefRange: pb.DefRange, Static: pe["static"], To: pe["to"]})
	}
	g.Network = n
}

// checkTasks checks what ties a group's tasks together: every volume_mount
// names a volume of the group, at most one task leads, and some task is a
// main task (prestart, poststart and poststop tasks run around one).
func (d *decoder) checkTasks(g *experiment.Group, where hcl.Range) {
	var declared []string
	for _, v := range g.Volumes {
		declared = append(declared, v.Name)
	}
	leaders, mains := 0, 0
	for _, t := range g.Tasks {
		for _, m := range t.VolumeMounts {
			if m.Volume == "" {
				continue
			}
			found := false
			for _, v := range g.Volumes {
				found = found || v.Name == m.Volume
			}
			if found {
				continue
			}
			detail := fmt.Sprintf("Task %q mounts volume %q, but its group declares no such volume%s.", t.Name, m.Volume, suggest(m.Volume, declared))
			if len(declared) == 0 {
				detail += fmt.Sprintf(" Declare it beside the tasks: volume %q { type = \"host\"  source = \"...\" }.", m.Volume)
			} else {
				detail += " Volumes: " + strings.Join(declared, ", ") + "."
			}
			d.diags = append(d.diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Mount of an undeclared volume",
				Detail:   detail,
				Subject:  m.DefRange.Ptr(),
			})
		}
		if t.Driver == "raw_exec" && len(t.VolumeMounts) > 0 {
			// Nomad's raw_exec driver declares no mount support, and the
			// client fails the task when it is given a volume to mount
			// (the task runner's volume hook).
			d.diags = append(d.diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Volume mount in a raw_exec task",
				Detail:   fmt.Sprintf("Task %q runs with Nomad's raw_exec driver (the default), which cannot mount volumes: a Nomad client fails it at start. Use driver = \"exec\" or \"docker\", which mount them.", t.Name),
				Subject:  t.VolumeMounts[0].DefRange.Ptr(),
			})
		}
		if t.Leader {
			leaders++
			if leaders == 2 {
				d.diags = append(d.diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Two leader tasks",
					Detail:   fmt.Sprintf("Task %q is a leader, and so is another task of its group; Nomad allows only one task of a group to lead.", t.Name),
					Subject:  t.DefRange.Ptr(),
				})
			}
		}
		if t.Lifecycle == nil {
			mains++
		}
	}
	if mains == 0 && len(g.Tasks) > 0 {
		d.diags = append(d.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "No main task",
			Detail:   "Every task of this group has a lifecycle block, so nothing runs between the prestart and poststop tasks: leave the lifecycle block off the task that trains.",
			Subject:  where.Ptr(),
		})
	}
}
