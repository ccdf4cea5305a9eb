package experiment

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// Shape is what one trial asks of the cluster once its expressions are
// evaluated: its groups, each with a count and per-task resources. Trials
// with equal shapes are planned together.
type Shape struct {
	Groups []GroupShape `json:"groups"`
}

// GroupShape is one group of a trial: Count allocations, each holding all
// of Tasks on one node.
type GroupShape struct {
	Name        string          `json:"name"`
	Count       int             `json:"count"`
	Tasks       []TaskResources `json:"tasks"`
	Constraints []Constraint    `json:"constraints,omitempty"`
}

// TaskResources is one task's evaluated resource request.
type TaskResources struct {
	Task string `json:"task"`
	// CPU is in cores and may be fractional; it is 0 when Cores is set.
	CPU float64 `json:"cpu,omitempty"`
	// Cores reserves whole cores (Nomad `cores`).
	Cores        int     `json:"cores,omitempty"`
	MemoryMiB    int     `json:"memory_mib"`
	MemoryMaxMiB int     `json:"memory_max_mib,omitempty"`
	GPU          float64 `json:"gpu,omitempty"`
	// Devices are requests for devices other than the GPUs of GPU.
	Devices []DeviceRequest `json:"devices,omitempty"`

	// GPURange points at the gpu attribute, for targets that must reject a
	// fractional request.
	GPURange hcl.Range `json:"-"`
}

// DeviceRequest asks for Count instances of a device.
type DeviceRequest struct {
	// Name is "type", "vendor/type" or "vendor/type/name", as in Nomad.
	Name        string       `json:"name"`
	Count       int          `json:"count"`
	Constraints []Constraint `json:"constraints,omitempty"`
}

// Constraint is an evaluated Nomad constraint. Attribute and Value keep
// runtime interpolations such as ${attr.cpu.arch} as written.
type Constraint struct {
	Attribute string `json:"attribute,omitempty"`
	Operator  string `json:"operator"`
	Value     string `json:"value,omitempty"`
}

// Allocs is the number of allocations of the trial (the sum of the groups'
// counts): more than one makes it a gang.
func (s *Shape) Allocs() int {
	n := 0
	for _, g := range s.Groups {
		n += g.Count
	}
	return n
}

// Total is the sum of all tasks' requests of one allocation of the group.
// Constraints of tasks' devices are kept per device request.
func (g *GroupShape) Total() TaskResources {
	var t TaskResources
	t.Task = g.Name
	for _, task := range g.Tasks {
		t.CPU += task.CPU
		t.Cores += task.Cores
		t.MemoryMiB += task.MemoryMiB
		t.MemoryMaxMiB += task.MemoryMaxMiB
		t.GPU += task.GPU
		t.Devices = append(t.Devices, task.Devices...)
	}
	return t
}

// Key is a canonical text of the shape: equal keys, equal shapes.
func (s *Shape) Key() string {
	var b strings.Builder
	for _, g := range s.Groups {
		fmt.Fprintf(&b, "%s*%d{", g.Name, g.Count)
		for _, t := range g.Tasks {
			fmt.Fprintf(&b, "%s:%s;", t.Task, t.Summary())
		}
		for _, c := range g.Constraints {
			fmt.Fprintf(&b, "c(%s %s %s)", c.Attribute, c.Operator, c.Value)
		}
		b.WriteString("}")
	}
	return b.String()
}

// Summary is a short human text of a task's request, e.g.
// "cpu 0.5, memory 300 MiB, gpu 1".
func (t TaskResources) Summary() string {
	var parts []string
	if t.Cores > 0 {
		parts = append(parts, fmt.Sprintf("cores %d", t.Cores))
	} else {
		parts = append(parts, "cpu "+FormatNumber(t.CPU))
	}
	parts = append(parts, fmt.Sprintf("memory %d MiB", t.MemoryMiB))
	if t.MemoryMaxMiB > 0 {
		parts = append(parts, fmt.Sprintf("memory_max %d MiB", t.MemoryMaxMiB))
	}
	if t.GPU > 0 {
		parts = append(parts, "gpu "+FormatNumber(t.GPU))
	}
	devs := append([]DeviceRequest(nil), t.Devices...)
	sort.SliceStable(devs, func(i, j int) bool { return devs[i].Name < devs[j].Name })
	for _, d := range devs {
		s := fmt.Sprintf("%s %d", d.Name, d.Count)
		for _, c := range d.Constraints {
			s += fmt.Sprintf(" [%s %s %s]", c.Attribute, c.Operator, c.Value)
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}

// String describes the whole shape in one line, e.g.
// "1 × {cpu 0.5, memory 300 MiB}" or "worker 4 × {...} + ps 1 × {...}".
func (s *Shape) String() string {
	var parts []string
	for _, g := range s.Groups {
		total := g.Total()
		text := fmt.Sprintf("%d × {%s}", g.Count, total.Summary())
		if len(s.Groups) > 1 || g.Count > 1 {
			text = g.Name + " " + text
		}
		parts = append(parts, text)
	}
	return strings.Join(parts, " + ")
}

// FormatNumber prints a float without a trailing ".0" or float noise.
// Count writes n and a noun that agrees with it: "1 trial", "2 trials",
// "0 trials". Nouns here take a plain s.
func Count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func FormatNumber(f float64) string {
	return strconv.FormatFloat(roundSignificant(f, 12), 'g', -1, 64)
}
