package nomad

import (
	"context"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/nomad/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nomad-tune/tune/driver"
	"github.com/nomad-tune/tune/test/nomadsim"
)

// manyTrials is an experiment of n one-core trials that report every 50ms
// for a minute: they are all running, and printing, while a test looks.
func manyTrials(n int) string {
	return trialsOf(n, 1, `      run_for                = "1m"
      stdout_string          = "@tune {\"loss\": 1}\n"
      stdout_repeat          = 1200
      stdout_repeat_duration = "50ms"`)
}

// trialsOf is an experiment of n one-allocation trials of cpu cores each,
// whose task is Nomad's mock driver with the given config lines.
func trialsOf(n int, cpu float64, config string) string {
	return fmt.Sprintf(`experiment "many" {
  num_samples = %d
  resources {
    cpu    = %g
    memory = 64
  }
  task "train" {
    driver = "mock_driver"
    config {
%s
    }
  }
  nomad {
    datacenters = ["dc1"]
  }
}`, n, cpu, config)
}

func TestManyRunningTrialsHoldABoundedNumberOfConnectionsAndLeaveRoomForOthers(t *testing.T) {
	const trials, budget, userCalls = 160, 8, 60
	var conns connCounter
	h := setupSim(t, manyTrials(trials), harnessOptions{
		dial: conns.dial,
		sim: nomadsim.Options{Nodes: []nomadsim.NodeSpec{{
			Count: 10, Name: "big", Datacenter: "dc1", Cores: 16, MHz: 2000, MemoryMiB: 64 * 1024,
		}}},
		driver: Options{MaxConns: budget},
	})

	// Every trial is started at once: submissions queue for connections.
	var wg sync.WaitGroup
	for i := range trials {
		wg.Go(func() { h.start(i, 0) })
	}
	wg.Wait()
	for i := range trials {
		h.waitReports(i, 1)
	}
	assert.LessOrEqual(t, conns.peak(), budget, "tune's connections at most")
	assert.Positive(t, conns.peak())
	assert.Zero(t, h.sim.Conns().Refused, "nothing was refused")

	// A person's own calls, all at once, while every trial runs and its
	// output is being read.
	user, err := api.NewClient(&api.Config{Address: h.sim.URL()})
	require.NoError(t, err)
	t.Cleanup(user.Close)
	errs := make(chan error, userCalls)
	for range userCalls {
		wg.Go(func() {
			_, _, err := user.Jobs().List(nil)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		assert.NoError(t, err)
	}
	assert.Zero(t, h.sim.Conns().Refused, "no connection was refused")
	// And tune still reads every trial's output.
	before := make([]int, trials)
	for i := range trials {
		before[i] = h.reports(i)
	}
	for i := range trials {
		h.waitReports(i, before[i]+1)
	}
}

// reports counts the reports of trial i's first attempt so far.
func (h *simHarness) reports(i int) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, ev := range h.events[attemptKey{h.trials[i].ID, 0}] {
		if ev.Kind == driver.EventReport {
			n++
		}
	}
	return n
}

// waitReports waits until trial i's first attempt has reported n times.
func (h *simHarness) waitReports(i, n int) {
	h.t.Helper()
	deadline := time.After(waitLimit)
	for {
		h.mu.Lock()
		arrived := h.arrived
		h.mu.Unlock()
		if h.reports(i) >= n {
			return
		}
		select {
		case <-arrived:
		case <-deadline:
			h.t.Fatalf("trial %s reported %d times, not %d", h.trials[i].ID, h.reports(i), n)
		}
	}
}

// connCounter counts the connections a client holds open.
type connCounter struct {
	mu         sync.Mutex
	open, most int
}

func (c *connCounter) dial(ctx context.Context, network, address string) (net.Conn, error) {
	conn, err := (&net.Dialer{}).DialContext(ctx, network, address)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.open++
	c.most = max(c.most, c.open)
	c.mu.Unlock()
	return &countedConn{Conn: conn, c: c}, nil
}

func (c *connCounter) peak() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.most
}

type countedConn struct {
	net.Conn
	c    *connCounter
	once sync.Once
}

func (cc *countedConn) Close() error {
	cc.once.Do(func() {
		cc.c.mu.Lock()
		cc.c.open--
		cc.c.mu.Unlock()
	})
	return cc.Conn.Close()
}
