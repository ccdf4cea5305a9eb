package nomad

import (
	"context"
	"encoding/json"
	"io"
	"net/url"
	"strconv"

	"github.com/hashicorp/nomad/api"

	"github.com/nomad-tune/tune/jobs"
)

// The event stream is read here rather than through the api package's
// EventStream, which decodes every event's payload into a generic map and
// then into a whole api.Allocation or api.Job by reflection: with
// thousands of trials that was a third of tune's CPU. Only the fields the
// driver reads are decoded, and an allocation's only once its job is
// known to be one of the driver's attempts.

// streamFrame is one line of the stream: a batch of events of one index,
// or a heartbeat (no index, no events).
type streamFrame struct {
	Index  uint64
	Events []streamEvent
}

// streamEvent is one event, its payload left undecoded.
type streamEvent struct {
	Topic      api.Topic
	Type       string
	Key        string
	FilterKeys []string
	Index      uint64
	Payload    json.RawMessage
}

// allocPayload is the payload of an allocation event.
type allocPayload struct {
	Allocation *eventAlloc
}

// eventAlloc is what the driver reads of an allocation (see allocView).
type eventAlloc struct {
	ID, Name, NodeID, NodeName, JobID, TaskGroup string
	ClientStatus, ClientDescription              string
	DesiredStatus, DesiredDescription            string
	TaskStates                                   map[string]*api.TaskState
	CreateIndex, ModifyIndex                     uint64
	// AllocatedResources holds the ports Nomad gave the allocation, where
	// the rendezvous port is.
	AllocatedResources *struct {
		Shared struct {
			Ports []api.PortMapping
		}
	}
}

// view is the allocation as an attempt takes it.
func (al *eventAlloc) view() allocView {
	v := allocView{
		id: al.ID, name: al.Name, nodeID: al.NodeID, nodeName: al.NodeName, group: al.TaskGroup,
		clientStatus: al.ClientStatus, clientDesc: al.ClientDescription,
		desiredStatus: al.DesiredStatus, desiredDesc: al.DesiredDescription,
		tasks: al.TaskStates, createIndex: al.CreateIndex, modifyIndex: al.ModifyIndex,
	}
	if r := al.AllocatedResources; r != nil && len(r.Shared.Ports) > 0 {
		v.masterIP, v.masterPort, _ = jobs.RendezvousAddress(&api.Allocation{
			AllocatedResources: &api.AllocatedResources{Shared: api.AllocatedSharedResources{Ports: r.Shared.Ports}},
		})
	}
	return newView(v)
}

// streamPath is the stream's endpoint for the topics, from index.
func streamPath(index uint64) string {
	q := url.Values{}
	q.Set("index", strconv.FormatUint(index, 10))
	for topic, keys := range streamTopics {
		for _, k := range keys {
			q.Add("topic", string(topic)+":"+k)
		}
	}
	return "/v1/event/stream?" + q.Encode()
}

// subscribe opens the event stream from index. The caller reads frames
// from the decoder until it fails, then closes the body.
func (d *Driver) subscribe(ctx context.Context, index uint64) (io.ReadCloser, error) {
	return d.client.Raw().Response(streamPath(index), d.queryOpts(ctx, nil))
}

// nextFrame decodes the next frame that is not a heartbeat.
func nextFrame(dec *json.Decoder) (*streamFrame, error) {
	for {
		var f streamFrame
		if err := dec.Decode(&f); err != nil {
			return nil, err
		}
		if f.Index != 0 || len(f.Events) > 0 {
			return &f, nil
		}
	}
}
