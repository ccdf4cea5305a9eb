package nomad

import (
	"context"
	"fmt"
	"strconv"

	"github.com/hashicorp/nomad/api"

	"github.com/nomad-tune/tune/jobs"
)

// The rendezvous of a trial of several allocations: once Nomad has placed
// rank 0, the driver writes its address to the job's rendezvous variable
// (see package jobs), which the other ranks' templates wait for. Before an
// attempt registers, the variable of the one before is deleted, so no rank
// of the new attempt can find it; the items are named by attempt too, so
// one left behind fails a rank rather than misleading it.

// clearRendezvous deletes the attempt's rendezvous variable, if it has one
// and the variable exists.
func (d *Driver) clearRendezvous(ctx context.Context, a *attempt) error {
	if a.rendezvous == "" {
		return nil
	}
	return d.retry(ctx, "delete the rendezvous variable", func() error {
		_, err := d.client.Variables().Delete(a.rendezvous, d.writeOpts(ctx))
		if notFound(err) {
			return nil
		}
		return err
	})
}

// sendRendezvous writes rank 0's address once Nomad has given it its port.
// Called with d.mu held.
func (a *attempt) sendRendezvous(allocs []*allocView) {
	if a.rendezvous == "" || a.rendezvousSent {
		return
	}
	for _, al := range allocs {
		if a.ranks.rank(al.group, al.index, "") != 0 || terminal(al.clientStatus) || al.masterIP == "" {
			continue
		}
		a.rendezvousSent = true
		go a.writeRendezvous(al.masterIP, al.masterPort)
		return
	}
}

// writeRendezvous writes the variable. The other ranks cannot start
// without it, so an attempt whose variable cannot be written fails.
func (a *attempt) writeRendezvous(ip string, port int) {
	d := a.d
	addr, portItem := jobs.RendezvousItems(a.key.attempt)
	v := &api.Variable{
		Namespace: d.exp.Nomad.Namespace,
		Path:      a.rendezvous,
		Items:     api.VariableItems{addr: ip, portItem: strconv.Itoa(port)},
	}
	err := d.retry(d.ctx, "write the rendezvous variable", func() error {
		_, _, err := d.client.Variables().Create(v, d.writeOpts(d.ctx))
		return err
	})
	if err == nil {
		d.log.Debug("rendezvous written", "job", a.jobID, "variable", a.rendezvous, "address", ip, "port", port)
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	a.outcome.decide(outcomeFailed, fmt.Sprintf("cannot write rank 0's address to the Nomad Variable %s, which the other ranks wait for (the token needs variables write on nomad/jobs/*): %v", a.rendezvous, err))
	a.step()
}
