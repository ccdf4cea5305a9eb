package nomadsim

import (
	"net"
	"net/http"
	"strconv"

	"github.com/hashicorp/nomad/api"
)

// The simulated agent is one server and the cluster's clients; these
// answer what the api client asks of an agent, shaped as a `nomad agent
// -dev` answers.

func (s *Sim) agentHostPort() (string, int) {
	s.st.lock()
	addr := s.opts.AdvertiseAddr
	s.st.unlock()
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "127.0.0.1", 4646
	}
	p, _ := strconv.Atoi(port)
	return host, p
}

func (s *Sim) member() api.AgentMember {
	host, _ := s.agentHostPort()
	return api.AgentMember{
		Name:   "nomadsim.global",
		Addr:   host,
		Port:   4648,
		Status: "alive",
		Tags: map[string]string{
			"build":    nomadVersion,
			"dc":       s.opts.Datacenter,
			"region":   s.opts.Region,
			"role":     "nomad",
			"port":     "4647",
			"rpc_addr": host,
			"vsn":      "1",
		},
		ProtocolMin: 1, ProtocolMax: 5, ProtocolCur: 2,
		DelegateMin: 2, DelegateMax: 5, DelegateCur: 4,
	}
}

func (s *Sim) agentSelfRequest(w http.ResponseWriter, r *http.Request) (any, error) {
	if r.Method != http.MethodGet {
		return nil, codedErr(http.StatusMethodNotAllowed, errInvalidMethod)
	}
	host, port := s.agentHostPort()
	config := map[string]any{
		"Region":     s.opts.Region,
		"Datacenter": s.opts.Datacenter,
		"NodeName":   "nomadsim",
		"BindAddr":   host,
		"Ports":      map[string]any{"HTTP": port, "RPC": 4647, "Serf": 4648},
		"Addresses":  map[string]any{"HTTP": host, "RPC": host, "Serf": host},
		"Version": map[string]any{
			"Version":           nomadVersion,
			"VersionPrerelease": "",
			"VersionMetadata":   "",
			"Revision":          nomadRevision,
		},
		"Server":  map[string]any{"Enabled": true, "BootstrapExpect": 1},
		"Client":  map[string]any{"Enabled": true},
		"ACL":     map[string]any{"Enabled": false},
		"DevMode": true,
	}
	return &api.AgentSelf{
		Config: config,
		Member: s.member(),
		Stats: map[string]map[string]string{
			"nomad":  {"leader": "true", "server": "true", "known_regions": "1", "bootstrap": "true"},
			"client": {"known_servers": net.JoinHostPort(host, "4647"), "num_allocations": "0"},
		},
	}, nil
}

func (s *Sim) agentMembersRequest(w http.ResponseWriter, r *http.Request) (any, error) {
	if r.Method != http.MethodGet {
		return nil, codedErr(http.StatusMethodNotAllowed, errInvalidMethod)
	}
	m := s.member()
	return &api.ServerMembers{ServerName: m.Name, ServerRegion: s.opts.Region, ServerDC: s.opts.Datacenter, Members: []*api.AgentMember{&m}}, nil
}

func (s *Sim) statusLeaderRequest(w http.ResponseWriter, r *http.Request) (any, error) {
	host, _ := s.agentHostPort()
	setMeta(w, 1)
	return net.JoinHostPort(host, "4647"), nil
}

func (s *Sim) statusPeersRequest(w http.ResponseWriter, r *http.Request) (any, error) {
	host, _ := s.agentHostPort()
	setMeta(w, 1)
	return []string{net.JoinHostPort(host, "4647")}, nil
}

func (s *Sim) regionsRequest(w http.ResponseWriter, r *http.Request) (any, error) {
	setMeta(w, 1)
	return []string{s.opts.Region}, nil
}

func (s *Sim) namespacesRequest(w http.ResponseWriter, r *http.Request) (any, error) {
	st := s.st
	st.lock()
	defer st.unlock()
	out := []*api.Namespace{}
	for _, name := range sortedKeys(st.namespaces) {
		desc := ""
		if name == api.DefaultNamespace {
			desc = "Default shared namespace"
		}
		out = append(out, &api.Namespace{Name: name, Description: desc, CreateIndex: 1, ModifyIndex: 1})
	}
	setMeta(w, 1)
	return out, nil
}
