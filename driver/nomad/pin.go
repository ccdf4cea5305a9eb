package nomad

import (
	"context"
	"slices"
	"sync"

	"github.com/hashicorp/nomad/api"

	"github.com/nomad-tune/tune/driver"
	"github.com/nomad-tune/tune/jobs"
)

// pinned is the job an attempt is first planned and registered as: job
// pinned to the nodes the controller's assignment chose (jobs.Pin), so
// that Nomad places the trial where tune's capacity snapshot counts it.
// Without the pin, Nomad's own bin-packing places the allocations
// elsewhere, the snapshot then finds room where there is none and none
// where there is some, and a gang fitted on it is not placeable when
// submitted. Every trial is pinned, a one-allocation trial too: its
// allocation is what leaves room for the next gang or takes it. It is job
// itself, with no nodes, when the request has no assignment (a trial
// submitted to wait in Nomad's queue with on_unfit = "queue", which holds
// nothing in the snapshot).
func pinned(job *api.Job, req driver.StartRequest) (*api.Job, []string) {
	p := jobs.Pin(job, req.Assignment)
	if p == nil {
		return job, nil
	}
	var nodes []string
	for _, al := range req.Assignment.Allocs {
		if !slices.Contains(nodes, al.NodeID) {
			nodes = append(nodes, al.NodeID)
		}
	}
	return p, nodes
}

// place is the dry run of the attempt's job. A pinned job Nomad would not
// place whole is planned again as free, without its pin: the pin is tune's
// snapshot of the cluster, which may be out of date (the node left, or
// something outside the experiment took its room), and every node
// filtered out by it says nothing of what the cluster can hold, so it must
// never be taken as "no node can ever hold it". From then on the attempt
// is the free job: registered when Nomad would place it (or to wait in
// Nomad's queue with on_unfit = "queue"), and otherwise unplaced or never
// placed on the free job's account, as an attempt without a pin is.
func (d *Driver) place(ctx context.Context, a *attempt, free *api.Job) (*Unfit, error) {
	unfit, err := d.DryRun(ctx, a.job)
	if err != nil || a.job == free {
		return unfit, err
	}
	if unfit == nil {
		d.refusals.clear(a.pins)
		return nil, nil
	}
	d.refusals.add(a.pins)
	unpinned, err := d.DryRun(ctx, free)
	if err != nil {
		return nil, err
	}
	a.job, a.pins = free, nil
	if unpinned == nil {
		d.log.Debug("the planned nodes cannot take the job; registering it without its pin",
			"job", a.jobID, "pinned_reason", unfit.Reason())
	}
	return unpinned, nil
}

// pinRefusals are the nodes Nomad lately would not place a pinned job on:
// a pinned dry run failed, or a pinned job registered without one was
// rolled back unplaced. A one-allocation job is registered without a dry
// run once its placement key has planned placeable (needsDryRun), so a
// pin to a node that left would be refused, rolled back after the gang
// timeout and queued again, time after time, as the controller's snapshot
// keeps the node; a job pinned to a refused node is planned first
// instead, and falls back to its free job. A pinned dry run that passes
// clears the node.
type pinRefusals struct {
	mu    sync.Mutex
	nodes map[string]bool
}

func (r *pinRefusals) add(nodes []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.nodes == nil {
		r.nodes = map[string]bool{}
	}
	for _, n := range nodes {
		r.nodes[n] = true
	}
}

func (r *pinRefusals) clear(nodes []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, n := range nodes {
		delete(r.nodes, n)
	}
}

// any says whether one of the nodes refused a pin lately.
func (r *pinRefusals) any(nodes []string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, n := range nodes {
		if r.nodes[n] {
			return true
		}
	}
	return false
}
