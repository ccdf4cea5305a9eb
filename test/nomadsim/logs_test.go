package nomadsim

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/nomad/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// runningAlloc registers a job and waits until its allocation's task has
// started.
func runningAlloc(t *testing.T, srv *Server, c *api.Client, job *api.Job) *api.Allocation {
	t.Helper()
	_, _, err := c.Jobs().Register(job, nil)
	require.NoError(t, err)
	waitIdle(t, srv)
	var a *api.Allocation
	eventually(t, func() bool {
		allocs := jobAllocs(t, c, *job.ID)
		if len(allocs) == 0 {
			return false
		}
		a, _, err = c.Allocations().Info(allocs[0].ID, nil)
		return err == nil && a.TaskStates["work"] != nil && !a.TaskStates["work"].StartedAt.IsZero()
	}, "task started")
	return a
}

func TestLogs(t *testing.T) {
	t.Run("following a task's log streams frames as it writes and stays open after it dies", func(t *testing.T) {
		srv, c, clk := startManual(t, Options{LogHeartbeat: 20 * time.Millisecond})
		a := runningAlloc(t, srv, c, mockJob("chatty", 1, map[string]any{
			"stdout_string": "tick\n", "stdout_repeat": 4, "stdout_repeat_duration": "2s",
		}))
		cancel := make(chan struct{})
		frames, errs := c.AllocFS().Logs(a, true, "work", "stdout", "start", 0, cancel, nil)
		var got strings.Builder
		var last *api.StreamFrame
		deadline := time.After(waitLimit)
		for ticks := 1; ticks <= 5; ticks++ {
			if ticks > 1 {
				advance(t, clk, 1, 2*time.Second) // the next write
			}
			for got.String() != strings.Repeat("tick\n", ticks) {
				select {
				case f := <-frames:
					require.NotNil(t, f)
					got.Write(f.Data)
					last = f
				case err := <-errs:
					t.Fatalf("stream error: %v", err)
				case <-deadline:
					t.Fatalf("after %d writes got %q", ticks, got.String())
				}
			}
		}
		assert.Equal(t, "alloc/logs/work.stdout.0", last.File)
		assert.Equal(t, int64(25), last.Offset)
		eventually(t, jobDead(t, c, "chatty"), "job dead")
		select {
		case f, ok := <-frames:
			t.Fatalf("a followed log stays open after the task ends, as in Nomad; got %v %v", f, ok)
		case <-time.After(100 * time.Millisecond):
		}
		close(cancel)
	})

	t.Run("a log read without follow ends at the end of the log", func(t *testing.T) {
		srv, c, _ := startManual(t, Options{})
		a := runningAlloc(t, srv, c, mockJob("once", 1, map[string]any{"stdout_string": "hello\n", "stderr_string": "oops\n", "run_for": "1h"}))
		assert.Equal(t, "hello\n", readLogs(t, c, a, "work", "stdout", false))
		assert.Equal(t, "oops\n", readLogs(t, c, a, "work", "stderr", false))
	})

	t.Run("plain and origin end return the raw tail", func(t *testing.T) {
		srv, c, _ := startManual(t, Options{})
		a := runningAlloc(t, srv, c, mockJob("tail", 1, map[string]any{"stdout_string": "0123456789", "run_for": "1h"}))
		resp, err := http.Get(srv.URL() + "/v1/client/fs/logs/" + a.ID + "?task=work&type=stdout&plain=true&origin=end&offset=4")
		require.NoError(t, err)
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		assert.Equal(t, "6789", string(body))
		assert.Equal(t, "text/plain", resp.Header.Get("Content-Type"))

		framed, err := http.Get(srv.URL() + "/v1/client/fs/logs/" + a.ID + "?task=work&type=stdout")
		require.NoError(t, err)
		defer framed.Body.Close()
		var f api.StreamFrame
		require.NoError(t, json.NewDecoder(framed.Body).Decode(&f))
		assert.Equal(t, []byte("0123456789"), f.Data)
	})

	t.Run("logs of unknown allocations, tasks and unstarted tasks are errors", func(t *testing.T) {
		srv, c, _ := startManual(t, Options{})
		a := runningAlloc(t, srv, c, mockJob("errs", 1, longRunning))
		get := func(path string) (int, string) {
			resp, err := http.Get(srv.URL() + path)
			require.NoError(t, err)
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(b)
		}
		code, body := get("/v1/client/fs/logs/nope?task=work&type=stdout")
		assert.Equal(t, 404, code)
		assert.Equal(t, `Unknown allocation "nope"`, body)
		code, body = get("/v1/client/fs/logs/" + a.ID + "?task=other&type=stdout")
		assert.Equal(t, 400, code)
		assert.Equal(t, `unknown task name "other"`, body)
		code, body = get("/v1/client/fs/logs/" + a.ID + "?task=work&type=both")
		assert.Equal(t, 400, code)
		assert.Equal(t, "must provide log type (stdout/stderr)", body)
	})

	t.Run("a log rotates into numbered files and keeps the newest", func(t *testing.T) {
		l := newLogFile("t", "stdout", &api.LogConfig{MaxFiles: new(2), MaxFileSizeMB: new(1)})
		chunk := strings.Repeat("x", 600<<10)
		for i := 0; i < 4; i++ {
			l.Write([]byte(chunk))
		}
		pos := l.start("start", 0)
		assert.Equal(t, 1, pos.index, "file 0 rotated out")
		end := l.start("end", 10)
		assert.Equal(t, 2, end.index)
		data, _, _, _ := l.read(end, math.MaxInt)
		assert.Len(t, data, 10)
	})
}

// numbered is what `seq 1 n` prints.
func numbered(n int) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		b.WriteString(strconv.Itoa(i))
		b.WriteByte('\n')
	}
	return b.String()
}

// logStream is a task's stdout as the api client streams it: the bytes
// read so far and the file of each frame.
type logStream struct {
	t        *testing.T
	follow   bool
	frames   <-chan *api.StreamFrame
	errs     <-chan error
	deadline <-chan time.Time
	data     []byte
	files    []string
}

// openLog starts streaming a task's stdout; the stream is closed when
// the test ends.
func openLog(t *testing.T, c *api.Client, a *api.Allocation, follow bool, origin string, offset int64) *logStream {
	t.Helper()
	cancel := make(chan struct{})
	frames, errs := c.AllocFS().Logs(a, follow, "work", "stdout", origin, offset, cancel, nil)
	t.Cleanup(func() {
		close(cancel)
		// The client's reader stops at its next frame once cancelled.
		go func() {
			for range frames {
			}
		}()
	})
	return &logStream{t: t, follow: follow, frames: frames, errs: errs, deadline: time.After(waitLimit)}
}

// readTo reads until n bytes came in all or, without follow, the stream
// ends.
func (s *logStream) readTo(n int) {
	s.t.Helper()
	for len(s.data) < n {
		select {
		case f, ok := <-s.frames:
			if !ok {
				require.False(s.t, s.follow, "a followed stream ended")
				return
			}
			s.data = append(s.data, f.Data...)
			s.files = append(s.files, f.File)
		case err := <-s.errs:
			require.NoError(s.t, err)
		case <-s.deadline:
			s.t.Fatalf("the stream stopped after %d bytes", len(s.data))
		}
	}
}

func TestLogRotation(t *testing.T) {
	if _, err := exec.LookPath("seq"); err != nil {
		t.Skip("no seq on this machine")
	}
	// 22.9 MB of numbered lines: Nomad's default 10 MiB files .0 and .1
	// are full and .2 holds the rest.
	const lines = 3_000_000
	whole := numbered(lines)
	const fileSize = 10 << 20
	require.Greater(t, len(whole), 2*fileSize)
	lastSize := int64(len(whole) - 2*fileSize)

	srv, c := startSim(t, Options{})
	job := mockJob("seq", 1, nil)
	job.TaskGroups[0].Tasks[0].Driver = "raw_exec"
	job.TaskGroups[0].Tasks[0].Config = map[string]any{"command": "seq", "args": []string{"1", strconv.Itoa(lines)}}
	_, _, err := c.Jobs().Register(job, nil)
	require.NoError(t, err)
	waitIdle(t, srv)
	eventually(t, func() bool { return allDone(jobAllocs(t, c, "seq"), "complete") }, "seq done")
	a, _, err := c.Allocations().Info(jobAllocs(t, c, "seq")[0].ID, nil)
	require.NoError(t, err)

	file := func(i int) string { return "alloc/logs/work.stdout." + strconv.Itoa(i) }
	for _, tt := range []struct {
		name   string
		follow bool
		origin string
		offset int64
		// from is where in the whole log the answer begins.
		from int
	}{
		{name: "a read from the start walks forward through every file", origin: "start", from: 0},
		{name: "an offset from the start past the first file begins in the second", origin: "start", offset: fileSize + 5, from: fileSize + 5},
		{name: "an offset from the start past the first two files begins in the third", origin: "start", offset: 2*fileSize + 7, from: 2*fileSize + 7},
		{name: "an offset from the start at the end of the log reads nothing", origin: "start", offset: int64(len(whole)), from: len(whole)},
		{name: "an offset from the start beyond the log stops at its end", origin: "start", offset: int64(len(whole)) + 100, from: len(whole)},
		{name: "an offset from the end within the newest file reads its tail", origin: "end", offset: 1000, from: len(whole) - 1000},
		{name: "an offset from the end reaching back into an older file reads on to the end", origin: "end", offset: lastSize + 1000, from: len(whole) - int(lastSize) - 1000},
		{name: "an offset from the end beyond the log reads it all", origin: "end", offset: int64(len(whole)) + 10, from: 0},
		{name: "following from the start walks forward through every file", follow: true, origin: "start", from: 0},
		{name: "following from an offset past the first file begins in the second", follow: true, origin: "start", offset: fileSize + 5, from: fileSize + 5},
		{name: "following from the end reaching back into an older file reads on to the end", follow: true, origin: "end", offset: lastSize + 1000, from: len(whole) - int(lastSize) - 1000},
	} {
		t.Run(tt.name, func(t *testing.T) {
			want := whole[tt.from:]
			stream := openLog(t, c, a, tt.follow, tt.origin, tt.offset)
			if tt.follow {
				stream.readTo(len(want))
			} else {
				stream.readTo(math.MaxInt)
			}
			data, files := stream.data, stream.files
			// Equal on strings of megabytes would print them all.
			require.Equal(t, len(want), len(data), "bytes read")
			require.True(t, string(data) == want, "the bytes read are the log's from %d on", tt.from)
			if len(want) == 0 {
				return
			}
			firstFile := min(tt.from/fileSize, 2)
			var wantFiles []string
			for i := firstFile; i <= 2; i++ {
				wantFiles = append(wantFiles, file(i))
			}
			assert.Equal(t, wantFiles, slices.Compact(files), "each file once, oldest first")
		})
	}

	t.Run("a frame's offset is within its file", func(t *testing.T) {
		cancel := make(chan struct{})
		defer close(cancel)
		frames, errs := c.AllocFS().Logs(a, false, "work", "stdout", "start", 0, cancel, nil)
		var last *api.StreamFrame
		for f := range frames {
			if f.File == file(0) {
				assert.LessOrEqual(t, f.Offset, int64(fileSize))
			}
			last = f
		}
		require.Empty(t, errs)
		require.NotNil(t, last)
		assert.Equal(t, file(2), last.File)
		assert.Equal(t, lastSize, last.Offset)
	})

	t.Run("a followed log walks into each new file as the task writes it", func(t *testing.T) {
		// The task prints the first 1.5 million lines (10.4 MiB: into file
		// .1), waits for the test to have read them, then prints the rest.
		const half = 1_500_000
		release := filepath.Join(t.TempDir(), "release")
		job := mockJob("live", 1, nil)
		job.TaskGroups[0].Tasks[0].Driver = "raw_exec"
		job.TaskGroups[0].Tasks[0].Config = map[string]any{"command": "/bin/sh", "args": []string{"-c",
			fmt.Sprintf("seq 1 %d; while [ ! -e %s ]; do sleep 0.01; done; seq %d %d", half, release, half+1, lines)}}
		a := runningAlloc(t, srv, c, job)
		first := numbered(half)
		require.Greater(t, len(first), fileSize)

		stream := openLog(t, c, a, true, "start", 0)
		stream.readTo(len(first))
		require.True(t, string(stream.data) == first, "the first half")
		require.NoError(t, os.WriteFile(release, nil, 0o644))
		stream.readTo(len(whole))
		data := stream.data
		require.Equal(t, len(whole), len(data), "bytes read")
		require.True(t, string(data) == whole, "the bytes read are the log's, in order, once")
		assert.Equal(t, []string{file(0), file(1), file(2)}, slices.Compact(stream.files), "each file once, oldest first")
	})
}

func TestBlockingQueries(t *testing.T) {
	t.Run("a blocking query on a job's allocations returns when they change", func(t *testing.T) {
		srv, c, clk := startManual(t, Options{})
		_, _, err := c.Jobs().Register(mockJob("block", 1, map[string]any{"run_for": "2s"}), nil)
		require.NoError(t, err)
		waitIdle(t, srv)
		eventually(t, func() bool { return allDone(jobAllocs(t, c, "block"), "running") }, "running")
		_, meta, err := c.Jobs().Allocations("block", false, nil)
		require.NoError(t, err)
		assert.True(t, meta.KnownLeader)
		type answer struct {
			allocs []*api.AllocationListStub
			meta   *api.QueryMeta
			err    error
		}
		answered := make(chan answer, 1)
		go func() {
			// A wait far longer than the test waits: an answer can only
			// come from the change.
			allocs, meta, err := c.Jobs().Allocations("block", false, &api.QueryOptions{WaitIndex: meta.LastIndex, WaitTime: 10 * time.Minute})
			answered <- answer{allocs, meta, err}
		}()
		advance(t, clk, 1, 2*time.Second)
		select {
		case got := <-answered:
			require.NoError(t, got.err)
			assert.Greater(t, got.meta.LastIndex, meta.LastIndex)
			require.Len(t, got.allocs, 1)
			assert.Equal(t, "complete", got.allocs[0].ClientStatus)
		case <-time.After(waitLimit):
			t.Fatal("the blocking query did not return when the allocation completed")
		}
	})

	t.Run("a blocking query with nothing changing returns after its wait with the same index", func(t *testing.T) {
		srv, c := startSim(t, Options{})
		_, _, err := c.Jobs().Register(mockJob("quiet", 1, longRunning), nil)
		require.NoError(t, err)
		waitIdle(t, srv)
		eventually(t, func() bool { return allDone(jobAllocs(t, c, "quiet"), "running") }, "running")
		_, meta, err := c.Jobs().Info("quiet", nil)
		require.NoError(t, err)
		// Another job's changes do not wake a query on this one.
		_, _, err = c.Jobs().Register(mockJob("noise", 1, longRunning), nil)
		require.NoError(t, err)
		start := time.Now()
		_, meta2, err := c.Jobs().Info("quiet", &api.QueryOptions{WaitIndex: meta.LastIndex, WaitTime: 200 * time.Millisecond})
		require.NoError(t, err)
		assert.Equal(t, meta.LastIndex, meta2.LastIndex)
		assert.GreaterOrEqual(t, time.Since(start), 200*time.Millisecond)
	})

	t.Run("a list query from an old index answers at once", func(t *testing.T) {
		srv, c := startSim(t, Options{})
		_, _, err := c.Jobs().Register(mockJob("a", 1, longRunning), nil)
		require.NoError(t, err)
		waitIdle(t, srv)
		answered := make(chan error, 1)
		var meta *api.QueryMeta
		go func() {
			// A wait far longer than the test waits: an answer can only
			// come from the index being old.
			_, m, err := c.Jobs().List(&api.QueryOptions{WaitIndex: 1, WaitTime: 10 * time.Minute})
			meta = m
			answered <- err
		}()
		select {
		case err := <-answered:
			require.NoError(t, err)
			assert.Greater(t, meta.LastIndex, uint64(1))
		case <-time.After(waitLimit):
			t.Fatal("a list query from an old index blocked")
		}
	})
}
