package nomadsim

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/nomad/api"
)

const (
	// streamFrameSize is the most data one frame carries, as Nomad's.
	streamFrameSize = 64 * 1024
)

// logFile is one task's stdout or stderr, rotated as Nomad's logmon
// rotates it: files "<task>.<type>.<n>" of at most MaxFileSizeMB, the
// oldest dropped beyond MaxFiles.
type logFile struct {
	mu       sync.Mutex
	name     string // "<task>.<type>"
	maxSize  int
	maxFiles int
	files    []*logChunk
	notify   chan struct{}
}

type logChunk struct {
	index int
	data  []byte
}

func newLogFile(task, typ string, cfg *api.LogConfig) *logFile {
	maxFiles, maxMB := 10, 10
	if cfg != nil {
		if cfg.MaxFiles != nil && *cfg.MaxFiles > 0 {
			maxFiles = *cfg.MaxFiles
		}
		if cfg.MaxFileSizeMB != nil && *cfg.MaxFileSizeMB > 0 {
			maxMB = *cfg.MaxFileSizeMB
		}
	}
	return &logFile{
		name:     task + "." + typ,
		maxSize:  maxMB << 20,
		maxFiles: maxFiles,
		files:    []*logChunk{{index: 0}},
		notify:   make(chan struct{}),
	}
}

// Write appends to the current file, starting a new one when it is full.
func (l *logFile) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := len(p)
	for len(p) > 0 {
		cur := l.files[len(l.files)-1]
		room := l.maxSize - len(cur.data)
		if room <= 0 {
			l.files = append(l.files, &logChunk{index: cur.index + 1})
			if len(l.files) > l.maxFiles {
				l.files = l.files[len(l.files)-l.maxFiles:]
			}
			continue
		}
		take := min(room, len(p))
		cur.data = append(cur.data, p[:take]...)
		p = p[take:]
	}
	close(l.notify)
	l.notify = make(chan struct{})
	return n, nil
}

// position is a place in the log: a file index and an offset in it.
type position struct {
	index  int
	offset int64
}

// start finds where a stream begins, as Nomad's findClosest does. Origin
// start counts offset forward from the beginning of the oldest file still
// kept, origin end back from the end of the newest: an offset larger than
// a file carries on into the next (or, from the end, the previous) file,
// and one that runs past either end of the log stops there. So offsets
// from the start count the bytes of the whole log, which is how a reader
// resumes where it stopped. A negative offset counts the other way, from
// the same file (origin end's negated offset is forward from the newest
// file's beginning), as Nomad's does.
func (l *logFile) start(origin string, offset int64) position {
	l.mu.Lock()
	defer l.mu.Unlock()
	i, off := 0, offset
	if origin == "end" {
		i, off = len(l.files)-1, -offset
	}
	for {
		size := int64(len(l.files[i].data))
		switch {
		case off == 0:
		case off < 0 && size+off >= 0:
			off += size
		case off < 0 && i == 0:
			off = 0
		case off < 0:
			off += size
			i--
			continue
		case off <= size:
		case i == len(l.files)-1:
			off = size
		default:
			off -= size
			i++
			continue
		}
		return position{index: l.files[i].index, offset: off}
	}
}

// newest is the index of the file written now.
func (l *logFile) newest() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.files[len(l.files)-1].index
}

// read returns up to streamFrameSize bytes at pos, the position after
// them, whether pos is at the end of the log as far as the reader goes,
// and a channel closed on the next write. A reader at the end of a file
// walks on into the next one, unless the file's index is last: a read
// without follow ends at the end of the file that was newest when it
// began, as Nomad's does.
func (l *logFile) read(pos position, last int) ([]byte, position, bool, <-chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	first := l.files[0].index
	if pos.index < first {
		// Rotated out from under the reader: continue with the oldest.
		pos = position{index: first}
	}
	i := pos.index - first
	if i >= len(l.files) {
		return nil, pos, true, l.notify
	}
	f := l.files[i]
	if pos.offset < int64(len(f.data)) {
		end := min(int64(len(f.data)), pos.offset+streamFrameSize)
		data := append([]byte(nil), f.data[pos.offset:end]...)
		return data, position{index: pos.index, offset: end}, false, l.notify
	}
	if i+1 < len(l.files) && pos.index < last {
		return nil, position{index: pos.index + 1}, false, l.notify
	}
	return nil, pos, true, l.notify
}

func (l *logFile) path(index int) string {
	return "alloc/logs/" + l.name + "." + strconv.Itoa(index)
}

// streamFrame is Nomad's StreamFrame as the log endpoint encodes it.
type streamFrame struct {
	Offset    int64  `json:",omitempty"`
	Data      []byte `json:",omitempty"`
	File      string `json:",omitempty"`
	FileEvent string `json:",omitempty"`
}

// logsRequest serves /v1/client/fs/logs/<alloc>: JSON StreamFrames (or
// the raw bytes with plain=true) from the requested origin and offset.
// Without follow it ends at the end of the log; with follow it keeps the
// connection open, sending heartbeat frames, until the client leaves,
// even after the task has died, as Nomad 2.0 does.
func (s *Sim) logsRequest(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	allocID := trimPath(r, "/v1/client/fs/logs/")
	if allocID == "" {
		writeError(w, codedErr(http.StatusBadRequest, "must provide a valid alloc id"))
		return
	}
	task := q.Get("task")
	if task == "" {
		writeError(w, codedErr(http.StatusBadRequest, "must provide task name"))
		return
	}
	follow, plain := false, false
	var err error
	if v := q.Get("follow"); v != "" {
		if follow, err = strconv.ParseBool(v); err != nil {
			writeError(w, codedErr(http.StatusBadRequest, fmt.Sprintf("failed to parse follow field to boolean: %v", err)))
			return
		}
	}
	if v := q.Get("plain"); v != "" {
		if plain, err = strconv.ParseBool(v); err != nil {
			writeError(w, codedErr(http.StatusBadRequest, fmt.Sprintf("failed to parse plain field to boolean: %v", err)))
			return
		}
	}
	typ := q.Get("type")
	if typ != "stdout" && typ != "stderr" {
		writeError(w, codedErr(http.StatusBadRequest, "must provide log type (stdout/stderr)"))
		return
	}
	offset := int64(0)
	if v := q.Get("offset"); v != "" {
		if offset, err = strconv.ParseInt(v, 10, 64); err != nil {
			writeError(w, codedErr(http.StatusBadRequest, fmt.Sprintf("error parsing offset: %v", err)))
			return
		}
	}
	origin := q.Get("origin")
	switch origin {
	case "start", "end":
	case "":
		origin = "start"
	default:
		writeError(w, codedErr(http.StatusBadRequest, "origin must be start or end"))
		return
	}

	// Read what is needed under the lock: the allocation and its task
	// states are replaced while the request runs.
	st := s.st
	st.lock()
	rec := st.allocs[allocID]
	found, hasTask, started, down, nodeID := rec != nil, false, false, false, ""
	if found {
		ts := rec.alloc.TaskStates[task]
		hasTask = ts != nil
		started = hasTask && !ts.StartedAt.IsZero()
		down = rec.node.node.Status == api.NodeStatusDown
		nodeID = rec.alloc.NodeID
	}
	st.unlock()
	switch {
	case !found:
		writeError(w, codedErr(http.StatusNotFound, fmt.Sprintf("Unknown allocation %q", allocID)))
		return
	case down:
		writeError(w, codedErr(http.StatusInternalServerError, fmt.Sprintf("Unknown node %q", nodeID)))
		return
	case !hasTask:
		writeError(w, codedErr(http.StatusBadRequest, fmt.Sprintf("unknown task name %q", task)))
		return
	case !started:
		writeError(w, codedErr(http.StatusNotFound, fmt.Sprintf("task %q not started yet. No logs available", task)))
		return
	}
	lf := s.clients.logFile(allocID, task, typ)
	if lf == nil {
		writeError(w, codedErr(http.StatusNotFound, fmt.Sprintf("state for allocation %s not found on client", allocID)))
		return
	}

	if plain {
		w.Header().Set("Content-Type", "text/plain")
	} else {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(http.StatusOK)
	flusher, _ := w.(http.Flusher)
	out := bufio.NewWriter(w)
	send := func(f *streamFrame) error {
		if plain {
			if _, err := out.Write(f.Data); err != nil {
				return err
			}
		} else {
			b, err := json.Marshal(f)
			if err != nil {
				return err
			}
			if _, err := out.Write(b); err != nil {
				return err
			}
		}
		if err := out.Flush(); err != nil {
			return err
		}
		if flusher != nil {
			flusher.Flush()
		}
		return nil
	}

	pos := lf.start(origin, offset)
	last := math.MaxInt
	if !follow {
		last = lf.newest()
	}
	heartbeat := time.NewTicker(s.opts.LogHeartbeat)
	defer heartbeat.Stop()
	for {
		data, next, atEnd, wait := lf.read(pos, last)
		if len(data) > 0 {
			if err := send(&streamFrame{Offset: next.offset, Data: data, File: lf.path(next.index)}); err != nil {
				return
			}
		}
		pos = next
		if !atEnd {
			continue
		}
		if !follow {
			return
		}
		select {
		case <-wait:
		case <-heartbeat.C:
			if !plain {
				if err := send(&streamFrame{}); err != nil {
					return
				}
			}
		case <-r.Context().Done():
			return
		case <-s.done:
			return
		}
	}
}
