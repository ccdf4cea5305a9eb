package nomadsim

import (
	"bufio"
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/hashicorp/nomad/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// collect reads events until done says stop or the stream ends.
func collect(t *testing.T, ch <-chan *api.Events, done func(api.Event) bool) []api.Event {
	t.Helper()
	var out []api.Event
	timeout := time.After(waitLimit)
	for {
		select {
		case evs, ok := <-ch:
			require.True(t, ok, "stream closed early")
			require.NoError(t, evs.Err)
			for _, e := range evs.Events {
				out = append(out, e)
				if done(e) {
					return out
				}
			}
		case <-timeout:
			t.Fatalf("timed out after %d events", len(out))
		}
	}
}

func TestEventStream(t *testing.T) {
	t.Run("a subscription keyed on one job delivers that job's allocation updates only", func(t *testing.T) {
		_, c := startSim(t, Options{TimeScale: 1000})
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		ch, err := c.EventStream().Stream(ctx, map[api.Topic][]string{api.TopicAllocation: {"watched"}}, 0, nil)
		require.NoError(t, err)
		_, _, err = c.Jobs().Register(mockJob("other", 1, map[string]any{"run_for": "1s"}), nil)
		require.NoError(t, err)
		_, _, err = c.Jobs().Register(mockJob("watched", 1, map[string]any{"run_for": "1s"}), nil)
		require.NoError(t, err)

		var statuses []string
		var types []string
		events := collect(t, ch, func(e api.Event) bool {
			a, err := e.Allocation()
			require.NoError(t, err)
			return a.ClientStatus == "complete"
		})
		for _, e := range events {
			assert.Equal(t, api.TopicAllocation, e.Topic)
			assert.Contains(t, e.FilterKeys, "watched")
			assert.NotZero(t, e.Index)
			a, err := e.Allocation()
			require.NoError(t, err)
			assert.Equal(t, "watched", a.JobID)
			assert.Nil(t, a.Job, "allocation events leave the job out")
			statuses = append(statuses, a.ClientStatus)
			types = append(types, e.Type)
		}
		assert.Equal(t, "PlanResult", types[0])
		assert.Equal(t, "pending", statuses[0])
		assert.Contains(t, statuses, "running")
		assert.Contains(t, types, "AllocationUpdated")
	})

	t.Run("job and evaluation topics carry registrations, evaluations and purges", func(t *testing.T) {
		srv, c := startSim(t, Options{})
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		ch, err := c.EventStream().Stream(ctx, map[api.Topic][]string{api.TopicJob: {"j"}, api.TopicEvaluation: {"j"}}, 0, nil)
		require.NoError(t, err)
		reg, _, err := c.Jobs().Register(mockJob("j", 1, longRunning), nil)
		require.NoError(t, err)
		waitIdle(t, srv)
		_, _, err = c.Jobs().Deregister("j", true, nil)
		require.NoError(t, err)
		events := collect(t, ch, func(e api.Event) bool {
			if e.Topic != api.TopicJob {
				return false
			}
			_, deleted, err := e.DeregisteredJob()
			require.NoError(t, err)
			return deleted
		})
		first := events[0]
		assert.Equal(t, "JobRegistered", first.Type)
		var sawEval bool
		for _, e := range events {
			if e.Topic == api.TopicEvaluation && e.Key == reg.EvalID {
				ev, err := e.Evaluation()
				require.NoError(t, err)
				assert.Equal(t, "j", ev.JobID)
				sawEval = true
			}
		}
		assert.True(t, sawEval)
		assert.Equal(t, "JobDeregistered", events[len(events)-1].Type)
	})

	t.Run("a subscription from an index replays events from that index on", func(t *testing.T) {
		srv, c := startSim(t, Options{})
		r1, _, err := c.Jobs().Register(mockJob("first", 1, longRunning), nil)
		require.NoError(t, err)
		waitIdle(t, srv)
		r2, _, err := c.Jobs().Register(mockJob("second", 1, longRunning), nil)
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		ch, err := c.EventStream().Stream(ctx, map[api.Topic][]string{api.TopicJob: {"*"}}, r2.JobModifyIndex, nil)
		require.NoError(t, err)
		events := collect(t, ch, func(e api.Event) bool { return e.Key == "second" })
		for _, e := range events {
			assert.GreaterOrEqual(t, e.Index, r2.JobModifyIndex)
			assert.NotEqual(t, "first", e.Key)
		}
		assert.Greater(t, r2.JobModifyIndex, r1.JobModifyIndex)
	})

	t.Run("an idle stream sends heartbeats", func(t *testing.T) {
		srv, _ := startSim(t, Options{EventHeartbeat: 20 * time.Millisecond})
		resp, err := http.Get(srv.URL() + "/v1/event/stream?topic=Job")
		require.NoError(t, err)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		for i := 0; i < 3; i++ {
			require.True(t, sc.Scan())
			assert.Equal(t, "{}", sc.Text())
		}
	})

	t.Run("dropped streams fail mid-flight and a resubscription from the last index misses nothing", func(t *testing.T) {
		srv, c := startSim(t, Options{})
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		ch, err := c.EventStream().Stream(ctx, map[api.Topic][]string{api.TopicJob: {"*"}}, 0, nil)
		require.NoError(t, err)
		_, _, err = c.Jobs().Register(mockJob("before", 1, longRunning), nil)
		require.NoError(t, err)
		var last uint64
		collect(t, ch, func(e api.Event) bool { last = e.Index; return e.Key == "before" })
		waitIdle(t, srv)
		srv.DropEventStreams()
		cut := false
		for !cut {
			select {
			case evs, ok := <-ch:
				require.True(t, ok, "the stream ends with an error, not a close")
				if evs.Err != nil {
					cut = true
					continue
				}
				last = evs.Index
			case <-time.After(waitLimit):
				t.Fatal("the stream was not cut")
			}
		}
		_, _, err = c.Jobs().Register(mockJob("after", 1, longRunning), nil)
		require.NoError(t, err)
		ch2, err := c.EventStream().Stream(ctx, map[api.Topic][]string{api.TopicJob: {"*"}}, last+1, nil)
		require.NoError(t, err)
		events := collect(t, ch2, func(e api.Event) bool { return e.Key == "after" })
		assert.Equal(t, "after", events[len(events)-1].Key)
	})

	t.Run("events of other namespaces are not delivered", func(t *testing.T) {
		srv, c := startSim(t, Options{Namespaces: []string{"team"}})
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		ch, err := c.EventStream().Stream(ctx, map[api.Topic][]string{api.TopicJob: {"*"}}, 0, nil)
		require.NoError(t, err)
		_, _, err = c.Jobs().Register(mockJob("hidden", 1, longRunning), &api.WriteOptions{Namespace: "team"})
		require.NoError(t, err)
		_, _, err = c.Jobs().Register(mockJob("shown", 1, longRunning), nil)
		require.NoError(t, err)
		waitIdle(t, srv)
		events := collect(t, ch, func(e api.Event) bool { return e.Key == "shown" })
		for _, e := range events {
			assert.NotEqual(t, "hidden", e.Key)
		}
	})
}
