package nomadsim

import (
	"net"
	"strconv"

	"github.com/hashicorp/nomad/api"
)

// Dynamic ports, as a Nomad client offers them to a task.
//
// The scheduler gives each dynamic port of a group's network a port of
// the node and records it in the allocation's shared resources
// (AllocatedResources.Shared.Ports: label, value, host IP). Every simulated
// node is this machine, and raw_exec tasks really listen, so the port is
// one the kernel says is free rather than one from the node's range.

// allocatePorts gives each dynamic port of the group's networks a port on
// the node.
func allocatePorts(tg *api.TaskGroup, node *api.Node) []api.PortMapping {
	if tg == nil {
		return nil
	}
	ip := nodeIP(node)
	var out []api.PortMapping
	for _, n := range tg.Networks {
		for _, p := range n.ReservedPorts {
			out = append(out, api.PortMapping{Label: p.Label, Value: p.Value, To: p.To, HostIP: ip})
		}
		for _, p := range n.DynamicPorts {
			out = append(out, api.PortMapping{Label: p.Label, Value: freePort(ip), To: p.To, HostIP: ip})
		}
	}
	return out
}

// nodeIP is the address of the node's host network.
func nodeIP(node *api.Node) string {
	if node != nil && node.NodeResources != nil {
		for _, n := range node.NodeResources.Networks {
			if n.IP != "" {
				return n.IP
			}
		}
	}
	return "127.0.0.1"
}

// freePort is a TCP port nothing listens on at ip, or 0 when the kernel
// gives none (the task then sees port 0 and fails to listen, as a task
// whose port was taken would).
func freePort(ip string) int {
	l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		return 0
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// portEnv adds the variables Nomad's buildPortEnv sets for each allocated
// port: NOMAD_IP_<label>, NOMAD_IPv4_<label> (or IPv6), NOMAD_HOST_PORT_<label>,
// NOMAD_ADDR_<label>, and NOMAD_PORT_<label>, the host's port for tasks
// without a driver port map (raw_exec, exec).
func portEnv(env map[string]string, a *api.Allocation) {
	if a.AllocatedResources == nil {
		return
	}
	for _, p := range a.AllocatedResources.Shared.Ports {
		port := strconv.Itoa(p.Value)
		family := "NOMAD_IPv4_"
		if net.ParseIP(p.HostIP).To4() == nil {
			family = "NOMAD_IPv6_"
		}
		env["NOMAD_IP_"+p.Label] = p.HostIP
		env[family+p.Label] = p.HostIP
		env["NOMAD_HOST_PORT_"+p.Label] = port
		env["NOMAD_ADDR_"+p.Label] = net.JoinHostPort(p.HostIP, port)
		env["NOMAD_PORT_"+p.Label] = port
	}
}
