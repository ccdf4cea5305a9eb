package planner

import (
	"fmt"
	"math"
	"strings"

	"github.com/nomad-tune/tune/experiment"
)

// Gap is what a trial lacks, as a value: the resource that ran out, how
// much is needed and how much is free. On one node it is what the fit
// found there; in an Unfit it is the most any candidate node has, which
// is the number a user needs to shrink the request or grow the cluster.
// An Unfit's Reason is written from it, in one place (Gap.text).
type Gap struct {
	// Dimension is "cores", "cpu", "memory" or "devices: <device>", the
	// names of Nomad's placement metrics (Unfit.DimensionExhausted).
	Dimension string
	// Needed and Free are in the dimension's unit: whole cores, CPUs,
	// MiB of memory, or device instances (a fraction of one instance
	// for a shared GPU request).
	Needed float64
	Free   float64
	// Device names the device with its constraints, for device gaps.
	Device string
	// Shared is a request for part of one device instance.
	Shared bool
	// Missing says no eligible node has a healthy device of the kind at
	// all, so Free is no help to a user.
	Missing bool
	// OnOneNode says Needed is the whole trial's, which strict_pack puts
	// on one node.
	OnOneNode bool

	// together is set when every dimension has room on some node but no
	// node has room for all of them: request is one allocation's request
	// and short the dimensions nodes ran out of, with their counts.
	together bool
	request  string
	short    string
	allocs   int
	// gpus names the device "GPUs" in strict_pack's account.
	gpus bool
}

// text is the gap in a person's words, such as "no node has 8 free
// nvidia/gpu (largest: 4)".
func (g *Gap) text() string {
	if g.OnOneNode {
		return g.packText()
	}
	if g.together {
		return fmt.Sprintf("no node has room for all of %s at once (short of %s)", g.request, g.short)
	}
	switch g.Dimension {
	case "cores":
		n := int(g.Needed)
		return fmt.Sprintf("no node has %d free %s (largest: %d)", n, plural(n, "core", "cores"), int(g.Free))
	case "cpu":
		need := hundredths(g.Needed)
		return fmt.Sprintf("no node has %s free %s (largest: %s)", experiment.FormatNumber(need), pluralFloat(need, "CPU", "CPUs"), experiment.FormatNumber(hundredths(g.Free)))
	case "memory":
		return fmt.Sprintf("no node has %d MiB free memory (largest: %d MiB)", int64(g.Needed), int64(g.Free))
	}
	switch {
	case g.Missing:
		return fmt.Sprintf("no eligible node has a healthy %s", g.Device)
	case g.Shared:
		return fmt.Sprintf("no node has a %s with %s free (largest: %s)", g.Device, experiment.FormatNumber(g.Needed), experiment.FormatNumber(g.Free))
	}
	return fmt.Sprintf("no node has %d free %s (largest: %d)", int(g.Needed), g.Device, int(g.Free))
}

func (g *Gap) packText() string {
	if g.together {
		return fmt.Sprintf("strict_pack: no node has room for all %d allocations together", g.allocs)
	}
	switch g.Dimension {
	case "cores":
		return fmt.Sprintf("strict_pack needs %s on one node (largest: %d)", experiment.Count(int(g.Needed), "core"), int(g.Free))
	case "cpu":
		return fmt.Sprintf("strict_pack needs %s CPUs on one node (largest: %s)", experiment.FormatNumber(hundredths(g.Needed)), experiment.FormatNumber(hundredths(g.Free)))
	case "memory":
		return fmt.Sprintf("strict_pack needs %d MiB memory on one node (largest: %d MiB)", int64(g.Needed), int64(g.Free))
	}
	name := g.Device
	if g.gpus {
		name = "GPUs"
	}
	return fmt.Sprintf("strict_pack needs %s %s on one node (largest: %s)", experiment.FormatNumber(g.Needed), name, experiment.FormatNumber(g.Free))
}

// hundredths rounds CPUs for reading: shares do not divide into cores
// evenly.
func hundredths(x float64) float64 { return math.Round(max(x, 0)*100) / 100 }

// deviceDimension is the DimensionExhausted key of a device, without its
// constraints.
func deviceDimension(label string) string {
	return "devices: " + strings.SplitN(label, " with ", 2)[0]
}

// setGap makes g the Unfit's account; suffix adds where the fit stood
// (how many allocations it had placed, what rules ruled out).
func (u *Unfit) setGap(g Gap, suffix string) {
	u.Gap = &g
	u.Dimension = g.Dimension
	u.reason = g.text() + suffix
}
