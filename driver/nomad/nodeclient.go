package nomad

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"

	"github.com/hashicorp/nomad/api"
)

// logStream streams a task's log frames as AllocFS().Logs does, through
// one cached client per node. The api's Logs builds a new HTTP client,
// with a transport and connection pool of its own, for every request;
// with thousands of trials each of those pools keeps connections open,
// and tune ran out of file descriptors. A client made with a negative
// timeout shares the driver's client and its transport.
func (d *Driver) logStream(alloc *api.Allocation, follow bool, task, logType string, offset int64,
	cancel <-chan struct{}, q *api.QueryOptions) (<-chan *api.StreamFrame, <-chan error) {
	errCh := make(chan error, 1)
	if q == nil {
		q = &api.QueryOptions{}
	}
	params := map[string]string{}
	for k, v := range q.Params {
		params[k] = v
	}
	params["follow"] = strconv.FormatBool(follow)
	params["task"] = task
	params["type"] = logType
	params["origin"] = "start"
	params["offset"] = strconv.FormatInt(offset, 10)
	qq := *q
	qq.Params = params
	path := "/v1/client/fs/logs/" + alloc.ID

	var body io.ReadCloser
	var err error
	if node := d.nodeClient(alloc.NodeID, q); node != nil {
		body, err = node.Raw().Response(path, &qq)
		var netErr net.Error
		if err != nil && !errors.As(err, &netErr) {
			errCh <- err
			return nil, errCh
		}
	}
	if body == nil {
		// The node cannot be reached directly: the servers forward the
		// request, as Nomad's own client does.
		if body, err = d.client.Raw().Response(path, &qq); err != nil {
			errCh <- err
			return nil, errCh
		}
	}
	frames := make(chan *api.StreamFrame, 10)
	go func() {
		defer body.Close()
		dec := json.NewDecoder(body)
		for {
			select {
			case <-cancel:
				close(frames)
				return
			default:
			}
			var f api.StreamFrame
			if err := dec.Decode(&f); err != nil {
				if errors.Is(err, io.EOF) || errors.Is(err, io.ErrClosedPipe) {
					close(frames)
				} else {
					errCh <- fmt.Errorf("decoding the log stream of allocation %s: %w", alloc.ID, err)
				}
				return
			}
			if f.IsHeartbeat() {
				continue
			}
			select {
			case frames <- &f:
			case <-cancel:
				close(frames)
				return
			}
		}
	}()
	return frames, errCh
}

// nodeClient is the cached client of a node, nil when the node cannot be
// reached directly (it is down, or does not advertise its address).
func (d *Driver) nodeClient(nodeID string, q *api.QueryOptions) *api.Client {
	d.nodeMu.Lock()
	defer d.nodeMu.Unlock()
	if c, ok := d.nodeClients[nodeID]; ok {
		return c
	}
	c, err := d.client.GetNodeClientWithTimeout(nodeID, -1, q)
	if err != nil {
		// Not cached: the node may come back.
		return nil
	}
	d.nodeClients[nodeID] = c
	return c
}
