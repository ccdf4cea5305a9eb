package nomadsim

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// event is one entry of the event stream, shaped as Nomad's
// structs.Event.
type event struct {
	Topic      string
	Type       string
	Key        string
	Namespace  string
	FilterKeys []string
	Index      uint64
	Payload    map[string]any
}

type eventBatch struct {
	index  uint64
	events []*event
}

// broker keeps the most recent event batches, as Nomad's event buffer
// does (100 by default), and wakes subscribers when one is added.
type broker struct {
	mu     sync.Mutex
	size   int
	items  []*eventBatch
	first  uint64 // sequence number of items[0]
	notify chan struct{}
	drop   chan struct{}
	// dropGen counts DropEventStreams calls; a stream opened before the
	// latest one is cut even if it was busy writing when it came.
	dropGen uint64
}

var errDropped = errors.New("event stream dropped")

var errSubscriberBehind = errors.New("subscription fell behind the event buffer; resubscribe")

func newBroker(size int) *broker {
	if size <= 0 {
		size = 100
	}
	return &broker{size: size, notify: make(chan struct{}), drop: make(chan struct{})}
}

func (b *broker) publish(index uint64, events []*event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.items = append(b.items, &eventBatch{index: index, events: events})
	if over := len(b.items) - b.size; over > 0 {
		// Drop the references so the batches can be collected.
		for i := 0; i < over; i++ {
			b.items[i] = nil
		}
		b.items = b.items[over:]
		b.first += uint64(over)
	}
	close(b.notify)
	b.notify = make(chan struct{})
}

// start is the sequence number a subscription from index begins at: the
// whole buffer for 0, else the first batch at or after index (inclusive,
// as Nomad's StartAtClosest).
func (b *broker) start(index uint64) uint64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	if index == 0 {
		return b.first
	}
	for i, it := range b.items {
		if it.index >= index {
			return b.first + uint64(i)
		}
	}
	return b.first + uint64(len(b.items))
}

// next returns the batches from seq on, or a channel that is closed when
// there are more, and the channel that is closed to drop every stream.
func (b *broker) next(seq, gen uint64) ([]*eventBatch, uint64, <-chan struct{}, <-chan struct{}, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if gen != b.dropGen {
		return nil, seq, nil, b.drop, errDropped
	}
	if seq < b.first {
		return nil, seq, nil, b.drop, errSubscriberBehind
	}
	end := b.first + uint64(len(b.items))
	if seq >= end {
		return nil, seq, b.notify, b.drop, nil
	}
	out := append([]*eventBatch(nil), b.items[seq-b.first:]...)
	return out, end, nil, b.drop, nil
}

// dropAll closes every open event stream mid-flight.
func (b *broker) dropAll() {
	b.mu.Lock()
	defer b.mu.Unlock()
	close(b.drop)
	b.drop = make(chan struct{})
	b.dropGen++
}

func (b *broker) generation() uint64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.dropGen
}

// subscription is one /v1/event/stream request's topics and namespaces.
type subscription struct {
	topics     map[string][]string
	namespaces []string // nil: every namespace
}

// parseTopics reads the topic parameters as Nomad does: "Topic" means
// every key, "Topic:key" one key; no topic means everything.
func parseTopics(values []string) (map[string][]string, error) {
	if len(values) == 0 {
		return map[string][]string{"*": {"*"}}, nil
	}
	topics := map[string][]string{}
	for _, v := range values {
		parts := strings.Split(v, ":")
		switch len(parts) {
		case 1:
			topics[v] = append(topics[v], "*")
		case 2:
			topics[parts[0]] = append(topics[parts[0]], parts[1])
		default:
			return nil, fmt.Errorf("Invalid key value pair for topic, topic: %s", v)
		}
	}
	return topics, nil
}

// filter keeps the events a subscription asked for, with Nomad's rules:
// a key matches the event's Key or one of its FilterKeys.
func (s *subscription) filter(events []*event) []*event {
	var out []*event
	all := s.topics["*"]
	for _, e := range events {
		if e.Namespace != "" && s.namespaces != nil && !slices.Contains(s.namespaces, e.Namespace) {
			continue
		}
		if len(all) == 1 && all[0] == "*" {
			out = append(out, e)
			continue
		}
		keys := append(append([]string(nil), all...), s.topics[e.Topic]...)
		for _, key := range keys {
			if key == "*" || e.Key == key || slices.Contains(e.FilterKeys, key) {
				out = append(out, e)
				break
			}
		}
	}
	return out
}

// eventStream serves /v1/event/stream: newline-delimited JSON, a "{}"
// heartbeat on connect and every heartbeat interval, until the client
// leaves, falls behind the buffer, or the streams are dropped.
func (s *Sim) eventStream(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		writeError(w, codedErr(http.StatusMethodNotAllowed, errInvalidMethod))
		return
	}
	q := r.URL.Query()
	index := uint64(0)
	if v := q.Get("index"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			writeError(w, codedErr(400, fmt.Sprintf("Unable to parse index: %v", err)))
			return
		}
		if n > 0 {
			index = uint64(n)
		}
	}
	topics, err := parseTopics(q["topic"])
	if err != nil {
		writeError(w, codedErr(400, fmt.Sprintf("Invalid topic query: %v", err)))
		return
	}
	sub := &subscription{topics: topics}
	if ns := namespaceParam(r); ns != "*" {
		sub.namespaces = []string{ns}
	}

	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	flusher, _ := w.(http.Flusher)
	out := bufio.NewWriter(w)
	flush := func() error {
		if err := out.Flush(); err != nil {
			return err
		}
		if flusher != nil {
			flusher.Flush()
		}
		return nil
	}
	if _, err := out.WriteString("{}\n"); err != nil || flush() != nil {
		return
	}

	heartbeat := time.NewTicker(s.opts.EventHeartbeat)
	defer heartbeat.Stop()
	gen := s.broker.generation()
	seq := s.broker.start(index)
	for {
		batches, nextSeq, wait, drop, err := s.broker.next(seq, gen)
		if errors.Is(err, errDropped) {
			// Abort the connection without ending the chunked body, so the
			// client sees a stream cut mid-flight, not a clean end.
			panic(http.ErrAbortHandler)
		}
		if err != nil {
			// Nomad ends a subscription whose events were dropped from
			// the buffer; the client sees the stream end and resubscribes.
			return
		}
		for _, b := range batches {
			events := sub.filter(b.events)
			if len(events) == 0 {
				continue
			}
			data, err := json.Marshal(map[string]any{"Index": b.index, "Events": events})
			if err != nil {
				s.log.Error("encoding events failed", "error", err)
				return
			}
			if _, err := out.Write(append(data, '\n')); err != nil {
				return
			}
		}
		seq = nextSeq
		if len(batches) > 0 {
			if flush() != nil {
				return
			}
			continue
		}
		select {
		case <-r.Context().Done():
			return
		case <-drop:
			// next reports the drop.
		case <-heartbeat.C:
			if _, err := out.WriteString("{}\n"); err != nil || flush() != nil {
				return
			}
		case <-wait:
		}
	}
}
