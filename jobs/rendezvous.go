package jobs

import (
	"fmt"
	"regexp"
	"strconv"

	"github.com/hashicorp/nomad/api"

	"github.com/nomad-tune/tune/experiment"
	"github.com/nomad-tune/tune/trialenv"
)

// How the ranks of a trial on Nomad find rank 0.
//
// Rank 0's task group asks for a dynamic port, RendezvousPort; rank 0
// reads its own address from Nomad's NOMAD_IP_ and NOMAD_PORT_ variables.
// The other ranks cannot see another allocation's ports, so the driver
// writes rank 0's address, once Nomad has placed it, to the Nomad
// Variable at RendezvousPath, under item names that carry the attempt
// (RendezvousItems). Every other rank reads it through a template with
// env = true: consul-template's nomadVar blocks until the variable exists,
// so a rank never starts before rank 0's address is known, and the
// template fails on a missing item (error_on_missing_key), so a variable
// left by an earlier attempt fails the task instead of handing it a stale
// address. Nomad gives every task of a job read access to
// nomad/jobs/<job ID> through its workload identity, with no ACL policy.
const (
	// RendezvousPort is the label of rank 0's dynamic port.
	RendezvousPort = "tune_rendezvous"
	// variablePrefix is the variable path every task of a job may read.
	variablePrefix = "nomad/jobs/"
)

// variablePath is what Nomad accepts as a variable path.
var variablePath = regexp.MustCompile(`^[a-zA-Z0-9-_~/]{1,128}$`)

// RendezvousPath is the Nomad Variable that holds rank 0's address for the
// job's other ranks, and whether the job ID can name one (Nomad's variable
// paths allow letters, digits, '-', '_', '~' and '/', and 128 characters).
func RendezvousPath(jobID string) (string, bool) {
	p := variablePrefix + jobID
	return p, variablePath.MatchString(p)
}

// RendezvousItems are the item names of rank 0's address and port in the
// variable, for one attempt.
func RendezvousItems(attempt int) (addr, port string) {
	n := strconv.Itoa(attempt)
	return "master_addr_" + n, "master_port_" + n
}

// RendezvousAddress is where rank 0 of an allocation listens, as Nomad
// allocated its rendezvous port; ok is false until Nomad has.
func RendezvousAddress(a *api.Allocation) (ip string, port int, ok bool) {
	if a == nil || a.AllocatedResources == nil {
		return "", 0, false
	}
	for _, p := range a.AllocatedResources.Shared.Ports {
		if p.Label == RendezvousPort && p.Value > 0 && p.HostIP != "" {
			return p.HostIP, p.Value, true
		}
	}
	return "", 0, false
}

// rendezvousNetwork is the dynamic port of rank 0's group.
func rendezvousNetwork() []*api.NetworkResource {
	return []*api.NetworkResource{{DynamicPorts: []api.Port{{Label: RendezvousPort}}}}
}

// ownPort is rank 0's address: Nomad interpolates it into the env block.
// NOMAD_PORT_ is the port inside the task, where it listens; NOMAD_HOST_PORT_
// is the port on the node, where ranks in the same allocation reach it.
func ownPort(listen bool) []trialenv.Var {
	port := "NOMAD_HOST_PORT_"
	if listen {
		port = "NOMAD_PORT_"
	}
	return trialenv.MasterEnv("${NOMAD_IP_"+RendezvousPort+"}", "${"+port+RendezvousPort+"}")
}

// fromVariable is the template text that reads rank 0's address from the
// rendezvous variable of the attempt.
func fromVariable(path string, attempt int) string {
	addr, port := RendezvousItems(attempt)
	return fmt.Sprintf("{{ with nomadVar %q }}%s={{ .%s }}\n%s={{ .%s }}\n{{ end }}",
		path, trialenv.MasterAddr, addr, trialenv.MasterPort, port)
}

// ownPortTemplate is the template text of an allocation of rank 0's group
// when the group has several: allocation 0 is rank 0 and reads its own
// port, the others read the variable.
func ownPortTemplate(path string, attempt int) string {
	return fmt.Sprintf("{{ if eq (env \"NOMAD_ALLOC_INDEX\") \"0\" }}%s={{ env \"NOMAD_IP_%s\" }}\n%s={{ env \"NOMAD_PORT_%s\" }}\n{{ else }}%s{{ end }}",
		trialenv.MasterAddr, RendezvousPort, trialenv.MasterPort, RendezvousPort, fromVariable(path, attempt))
}

// UsesRendezvousVariable says whether the ranks of a trial of this shape
// find rank 0 through the variable: they do when the trial has several
// allocations, unless strict_pack puts them all in one task group, where
// every rank reads rank 0's port from its own allocation.
func UsesRendezvousVariable(e *experiment.Experiment, shape *experiment.Shape) bool {
	return shape.Allocs() > 1 && e.Placement != experiment.PlacementStrictPack
}
