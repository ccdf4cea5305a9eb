package experiment

import (
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// The Nomad task and group blocks beyond command, args, env and
// resources. Their attributes are per-trial expressions, evaluated and
// checked as Nomad's own job validation would (nomad/structs), so that a
// mistake is reported at its line before anything is submitted. What
// decides a task's or group's structure (a lifecycle hook, a volume's
// type, port labels, the volume a mount names) is fixed for every trial
// and checked when the file is read.

// Lifecycle hooks of a task (Nomad's lifecycle.hook).
const (
	HookPrestart  = "prestart"
	HookPoststart = "poststart"
	HookPoststop  = "poststop"
)

// Volume types (Nomad's volume.type).
const (
	VolumeHost = "host"
	VolumeCSI  = "csi"
)

// LifecycleSpec is a task's lifecycle block. A task without one is a main
// task.
type LifecycleSpec struct {
	DefRange hcl.Range
	Hook     string
	Sidecar  bool
}

// ArtifactSpec is an artifact block: a file or folder go-getter fetches
// into the task's folder before it starts.
type ArtifactSpec struct {
	DefRange    hcl.Range
	Source      hcl.Expression
	Destination hcl.Expression
	Mode        hcl.Expression
	// Options and Headers are the options and headers blocks.
	Options []*Attr
	Headers []*Attr
}

// TemplateSpec is a template block: text rendered to a file of the task's
// folder, and to the task's environment with env = true.
type TemplateSpec struct {
	DefRange     hcl.Range
	Data         hcl.Expression
	Source       hcl.Expression
	Destination  hcl.Expression
	Env          hcl.Expression
	ChangeMode   hcl.Expression
	ChangeSignal hcl.Expression
	Perms        hcl.Expression
	LeftDelim    hcl.Expression
	RightDelim   hcl.Expression
}

// VolumeMountSpec is a task's volume_mount block; Volume names a volume
// block of the task's group.
type VolumeMountSpec struct {
	DefRange    hcl.Range
	Volume      string
	Destination hcl.Expression
	ReadOnly    hcl.Expression
}

// VolumeSpec is a group's volume block, host or CSI.
type VolumeSpec struct {
	Name           string
	DefRange       hcl.Range
	Type           string
	Source         hcl.Expression
	ReadOnly       hcl.Expression
	AccessMode     hcl.Expression
	AttachmentMode hcl.Expression
	PerAlloc       hcl.Expression
}

// NetworkSpec is a group's network block.
type NetworkSpec struct {
	DefRange hcl.Range
	Mode     hcl.Expression
	Ports    []*PortSpec
}

// PortSpec is one port of a network block: dynamic unless Static is set.
type PortSpec struct {
	Label    string
	DefRange hcl.Range
	Static   hcl.Expression
	To       hcl.Expression
}

// LogsSpec is a task's logs block: how much output Nomad keeps.
type LogsSpec struct {
	DefRange    hcl.Range
	MaxFiles    hcl.Expression
	MaxFileSize hcl.Expression
}

// Artifact is an evaluated artifact block.
type Artifact struct {
	Source string
	// Destination is relative to the task's folder; empty leaves Nomad's
	// default (local/, or local/<file name> in file mode).
	Destination string
	Mode        string
	Options     map[string]string
	Headers     map[string]string
	Range       hcl.Range
}

// Template is an evaluated template block.
type Template struct {
	Data         string
	Source       string
	Destination  string
	Env          bool
	ChangeMode   string
	ChangeSignal string
	Perms        string
	LeftDelim    string
	RightDelim   string
	Range        hcl.Range
}

// VolumeMount is an evaluated volume_mount block.
type VolumeMount struct {
	Volume      string
	Destination string
	ReadOnly    bool
	Range       hcl.Range
}

// Logs is an evaluated logs block; zero fields keep the defaults.
type Logs struct {
	MaxFiles      int
	MaxFileSizeMB int
}

// Volume is an evaluated volume block.
type Volume struct {
	Name           string
	Type           string
	Source         string
	ReadOnly       bool
	AccessMode     string
	AttachmentMode string
	PerAlloc       bool
	Range          hcl.Range
}

// Network is an evaluated network block.
type Network struct {
	Mode  string
	Ports []Port
}

// Port is one evaluated port; Static 0 means a dynamic port.
type Port struct {
	Label  string
	Static int
	To     int
}

// GroupSpec is one group of a trial with its group-level blocks evaluated.
type GroupSpec struct {
	Name    string
	Volumes []Volume
	Network *Network
}

// TaskFolderFiles are the paths, relative to the task's folder and
// cleaned, that artifacts and templates write before the task starts: a
// relative command under one of them is found on a Nomad client.
func (t TaskSpec) TaskFolderFiles() []string {
	var out []string
	for _, a := range t.Artifacts {
		dest := a.Destination
		if dest == "" {
			dest = "local"
		}
		out = append(out, path.Clean(dest))
	}
	for _, tm := range t.Templates {
		out = append(out, path.Clean(tm.Destination))
	}
	return out
}

// ResolveGroups evaluates the group-level blocks (volumes, network) of a
// trial, in file order.
func (e *Experiment) ResolveGroups(tv TrialVars) ([]GroupSpec, hcl.Diagnostics) {
	ctx := e.TrialContext(tv)
	r := resolver{e: e, ctx: ctx}
	out := make([]GroupSpec, len(e.Groups))
	for i, g := range e.Groups {
		out[i].Name = g.Name
		for _, v := range g.Volumes {
			out[i].Volumes = append(out[i].Volumes, r.volume(v))
		}
		if g.Network != nil {
			out[i].Network = r.network(g.Network)
		}
	}
	return out, r.diags
}

// optStr evaluates an optional string attribute.
func (r *resolver) optStr(expr hcl.Expression, name string) string {
	if expr == nil {
		return ""
	}
	return r.str(expr, name)
}

// optBool evaluates an optional bool attribute; def is used when it is
// not set, unknown or invalid.
func (r *resolver) optBool(expr hcl.Expression, name string, def bool) bool {
	if expr == nil {
		return def
	}
	v, ok := r.value(expr)
	if !ok {
		return def
	}
	bv, err := convert.Convert(v, cty.Bool)
	if err != nil || (bv.IsKnown() && bv.IsNull()) {
		r.errorf(expr, "Invalid value for "+name, "The %s must be true or false; this is %s.", name, v.Type().FriendlyName())
		return def
	}
	if !bv.IsKnown() {
		return def
	}
	return bv.True()
}

// optDuration evaluates an optional duration such as "30s"; nil when it is
// not set, unknown or invalid.
func (r *resolver) optDuration(expr hcl.Expression, name string) *time.Duration {
	if expr == nil {
		return nil
	}
	s := r.str(expr, name)
	if s == "" {
		return nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		r.errorf(expr, "Invalid value for "+name, "The %s must be a duration such as \"30s\" or \"2m\"; got %q.", name, s)
		return nil
	}
	if d < 0 {
		r.errorf(expr, "Invalid value for "+name, "The %s must not be negative; got %q.", name, s)
		return nil
	}
	return &d
}

// strMap evaluates the attributes of a block of strings, such as an
// artifact's options.
func (r *resolver) strMap(attrs []*Attr, name string) map[string]string {
	if len(attrs) == 0 {
		return nil
	}
	out := make(map[string]string, len(attrs))
	for _, a := range attrs {
		out[a.Name] = r.str(a.Expr, name+" "+a.Name)
	}
	return out
}

// escapes reports whether a destination relative to a task's folder
// leaves the allocation's folder, which Nomad refuses
// (PathEscapesAllocViaRelative): the task folder is one level below it,
// so ../alloc/data is allowed and ../../x is not.
func escapes(dest string) bool {
	rel := path.Join("task", dest)
	return rel == ".." || strings.HasPrefix(rel, "../")
}

func (r *resolver) artifact(spec *ArtifactSpec) Artifact {
	a := Artifact{Range: spec.DefRange}
	a.Source = r.optStr(spec.Source, "artifact source")
	if spec.Source == nil || (a.Source == "" && r.known(spec.Source)) {
		r.diags = append(r.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Artifact without source",
			Detail:   `An artifact needs a source for go-getter to fetch, such as source = "https://example.com/code.tar.gz" or "git::https://github.com/org/repo".`,
			Subject:  spec.DefRange.Ptr(),
		})
	}
	a.Destination = r.optStr(spec.Destination, "artifact destination")
	if spec.Destination != nil && escapes(a.Destination) {
		r.errorf(spec.Destination, "Invalid value for artifact destination", "The destination %q leaves the allocation's folder; Nomad writes artifacts under the task's folder (such as \"local/\") or the shared \"../alloc/\".", a.Destination)
	}
	a.Mode = r.optStr(spec.Mode, "artifact mode")
	switch a.Mode {
	case "", "any", "file", "dir":
	default:
		r.errorf(spec.Mode, "Invalid value for artifact mode", "The mode must be \"any\", \"file\" or \"dir\"; got %q.", a.Mode)
	}
	a.Options = r.strMap(spec.Options, "artifact options")
	a.Headers = r.strMap(spec.Headers, "artifact headers")
	return a
}

// known reports whether an expression evaluates to a known value, so that
// an empty string from an unknown trial value is not taken as written.
func (r *resolver) known(expr hcl.Expression) bool {
	v, d := r.e.Evaluate(expr, r.ctx)
	return !d.HasErrors() && v.IsKnown()
}

// Template change modes Nomad accepts without a change_script block.
var templateChangeModes = []string{"noop", "restart", "signal"}

func (r *resolver) template(spec *TemplateSpec) Template {
	t := Template{Range: spec.DefRange}
	t.Data = r.optStr(spec.Data, "template data")
	t.Source = r.optStr(spec.Source, "template source")
	switch {
	case spec.Data == nil && spec.Source == nil:
		r.diags = append(r.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Template without data or source",
			Detail:   `A template renders data (the text, written here) or source (a file on the client): set one of them.`,
			Subject:  spec.DefRange.Ptr(),
		})
	case spec.Data != nil && spec.Source != nil:
		r.errorf(spec.Source, "Template with data and source", "A template renders either data or the file named by source, not both: remove one.")
	}
	t.Destination = r.optStr(spec.Destination, "template destination")
	switch {
	case spec.Destination == nil || (t.Destination == "" && r.known(spec.Destination)):
		r.diags = append(r.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Template without destination",
			Detail:   `A template needs a destination, the file it renders to relative to the task's folder, such as destination = "local/config.yaml".`,
			Subject:  spec.DefRange.Ptr(),
		})
	case escapes(t.Destination):
		r.errorf(spec.Destination, "Invalid value for template destination", "The destination %q leaves the allocation's folder; render under the task's folder (such as \"local/\") or the shared \"../alloc/\".", t.Destination)
	}
	t.Env = r.optBool(spec.Env, "template env", false)
	t.ChangeMode = r.optStr(spec.ChangeMode, "template change_mode")
	if spec.ChangeMode != nil && t.ChangeMode != "" && !contains(templateChangeModes, t.ChangeMode) {
		detail := "The change_mode must be \"noop\", \"restart\" or \"signal\"; got %q."
		if t.ChangeMode == "script" {
			detail = "change_mode = %q needs a change_script block, which tune does not write: use \"noop\", \"restart\" or \"signal\"."
		}
		r.errorf(spec.ChangeMode, "Invalid value for template change_mode", detail, t.ChangeMode)
	}
	t.ChangeSignal = r.optStr(spec.ChangeSignal, "template change_signal")
	if t.ChangeMode == "signal" {
		if t.ChangeSignal == "" && (spec.ChangeSignal == nil || r.known(spec.ChangeSignal)) {
			r.errorf(spec.ChangeMode, "Template signal without change_signal", "change_mode = \"signal\" needs the signal to send, such as change_signal = \"SIGHUP\".")
		}
		if t.Env {
			r.errorf(spec.ChangeMode, "Template signal with env", "A template with env = true sets the task's environment, which a signal cannot change: use change_mode = \"restart\" or \"noop\".")
		}
	}
	t.Perms = r.optStr(spec.Perms, "template perms")
	if t.Perms != "" {
		if _, err := strconv.ParseUint(t.Perms, 8, 12); err != nil {
			r.errorf(spec.Perms, "Invalid value for template perms", "The perms must be an octal file mode such as \"0644\"; got %q.", t.Perms)
		}
	}
	t.LeftDelim = r.optStr(spec.LeftDelim, "template left_delimiter")
	t.RightDelim = r.optStr(spec.RightDelim, "template right_delimiter")
	return t
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Access and attachment modes of Nomad volumes (nomad/structs, csi.go and
// host_volumes.go).
var (
	hostAccessModes = []string{"single-node-reader-only", "single-node-writer", "single-node-single-writer", "single-node-multi-writer"}
	csiAccessModes  = []string{"single-node-reader-only", "single-node-writer", "multi-node-reader-only", "multi-node-single-writer", "multi-node-multi-writer"}
	attachModes     = []string{"file-system", "block-device"}
)

func (r *resolver) volume(spec *VolumeSpec) Volume {
	v := Volume{Name: spec.Name, Type: spec.Type, Range: spec.DefRange}
	v.Source = r.optStr(spec.Source, "volume source")
	if spec.Source == nil || (v.Source == "" && r.known(spec.Source)) {
		r.diags = append(r.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Volume without source",
			Detail:   "A volume needs a source: the name of a host volume in a client's configuration, or the ID of a CSI volume.",
			Subject:  spec.DefRange.Ptr(),
		})
	}
	v.ReadOnly = r.optBool(spec.ReadOnly, "volume read_only", false)
	v.PerAlloc = r.optBool(spec.PerAlloc, "volume per_alloc", false)
	v.AccessMode = r.optStr(spec.AccessMode, "volume access_mode")
	v.AttachmentMode = r.optStr(spec.AttachmentMode, "volume attachment_mode")
	modes := hostAccessModes
	if v.Type == VolumeCSI {
		modes = csiAccessModes
	}
	if v.AccessMode != "" && !contains(modes, v.AccessMode) {
		r.errorf(spec.AccessMode, "Invalid value for volume access_mode", "A %s volume's access_mode is one of %s; got %q.", v.Type, strings.Join(modes, ", "), v.AccessMode)
	}
	if v.AttachmentMode != "" && !contains(attachModes, v.AttachmentMode) {
		r.errorf(spec.AttachmentMode, "Invalid value for volume attachment_mode", "The attachment_mode is \"file-system\" or \"block-device\"; got %q.", v.AttachmentMode)
	}
	if strings.HasSuffix(v.AccessMode, "-reader-only") && !v.ReadOnly {
		r.errorf(spec.AccessMode, "Volume access needs read_only", "A volume with access_mode = %q must also set read_only = true.", v.AccessMode)
	}
	if v.Type == VolumeCSI {
		if spec.AccessMode == nil {
			r.diags = append(r.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "CSI volume without access_mode", Detail: "A CSI volume needs an access_mode, such as \"multi-node-reader-only\" for data every rank reads.", Subject: spec.DefRange.Ptr()})
		}
		if spec.AttachmentMode == nil {
			r.diags = append(r.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "CSI volume without attachment_mode", Detail: "A CSI volume needs an attachment_mode: \"file-system\" or \"block-device\".", Subject: spec.DefRange.Ptr()})
		}
	}
	return v
}

func (r *resolver) network(spec *NetworkSpec) *Network {
	n := &Network{Mode: r.optStr(spec.Mode, "network mode")}
	if spec.Mode != nil && n.Mode != "" && n.Mode != "host" && n.Mode != "bridge" {
		r.errorf(spec.Mode, "Invalid value for network mode", "The network mode is \"host\" or \"bridge\"; got %q.", n.Mode)
	}
	for _, p := range spec.Ports {
		port := Port{Label: p.Label}
		if p.Static != nil {
			port.Static = r.wholeNumber(p.Static, "static port", 0, 65535, 0)
		}
		if p.To != nil {
			port.To = r.wholeNumber(p.To, "port to", 0, 65535, 0)
		}
		n.Ports = append(n.Ports, port)
	}
	return n
}

func (r *resolver) logs(spec *LogsSpec) *Logs {
	l := &Logs{}
	if spec.MaxFiles != nil {
		l.MaxFiles = r.wholeNumber(spec.MaxFiles, "logs max_files", 1, 1000, 0)
	}
	if spec.MaxFileSize != nil {
		l.MaxFileSizeMB = r.wholeNumber(spec.MaxFileSize, "logs max_file_size", 1, 1<<20, 0)
	}
	return l
}

// resolveTaskBlocks evaluates the blocks of a task beyond command, args,
// env and config.
func (r *resolver) resolveTaskBlocks(t *Task, spec *TaskSpec) {
	spec.User = r.optStr(t.User, "user")
	spec.KillSignal = r.optStr(t.KillSignal, "kill_signal")
	spec.KillTimeout = r.optDuration(t.KillTimeout, "kill_timeout")
	spec.ShutdownDelay = r.optDuration(t.ShutdownDelay, "shutdown_delay")
	spec.Lifecycle = t.Lifecycle
	if t.Logs != nil {
		spec.Logs = r.logs(t.Logs)
	}
	for _, a := range t.Artifacts {
		spec.Artifacts = append(spec.Artifacts, r.artifact(a))
	}
	for _, tm := range t.Templates {
		spec.Templates = append(spec.Templates, r.template(tm))
	}
	for _, m := range t.VolumeMounts {
		vm := VolumeMount{Volume: m.Volume, Range: m.DefRange}
		vm.Destination = r.optStr(m.Destination, "volume_mount destination")
		if m.Destination == nil || (vm.Destination == "" && r.known(m.Destination)) {
			r.diags = append(r.diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Volume mount without destination",
				Detail:   fmt.Sprintf("A volume_mount needs the path where volume %q appears in the task, such as destination = \"/data\".", m.Volume),
				Subject:  m.DefRange.Ptr(),
			})
		}
		vm.ReadOnly = r.optBool(m.ReadOnly, "volume_mount read_only", false)
		spec.VolumeMounts = append(spec.VolumeMounts, vm)
	}
}
