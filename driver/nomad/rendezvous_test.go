package nomad

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/hashicorp/nomad/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nomad-tune/tune/driver"
	"github.com/nomad-tune/tune/jobs"
	"github.com/nomad-tune/tune/test/nomadsim"
)

// rendezvousGroup is a group of mock tasks that print where they find
// rank 0.
const rendezvousGroup = `  group %q {
    count = %d
    resources {
      cpu    = 0.5
      memory = 128
    }
    task "train" {
      driver = "mock_driver"
      config {
        run_for       = "10ms"
        stdout_string = "rank=$${RANK} master=$${MASTER_ADDR}:$${MASTER_PORT}\n"
      }
    }
  }
`

// rendezvous is a trial of two groups, of 2 and 1 allocations.
var rendezvous = "experiment \"rdzv\" {\n" + fmt.Sprintf(rendezvousGroup, "a", 2) + fmt.Sprintf(rendezvousGroup, "b", 1) +
	"  nomad {\n    datacenters = [\"dc1\"]\n  }\n}\n"

func TestEveryRankFindsRankZeroOfItsOwnAttempt(t *testing.T) {
	h := setupSim(t, rendezvous, harnessOptions{})
	path, ok := jobs.RendezvousPath(h.jobID(0))
	require.True(t, ok)
	// What an earlier attempt left: a rank of attempt 1 that read it
	// would fail, and one that waited on it would never start.
	_, _, err := h.client.Variables().Create(&api.Variable{Path: path, Items: api.VariableItems{"master_addr_0": "10.9.9.9", "master_port_0": "1"}}, nil)
	require.NoError(t, err)

	stdout, _ := h.start(0, 1)
	exit, _ := h.waitExited(0, 1)
	require.False(t, exit.Failed, exit.Message)

	var rank0 *api.Allocation
	for _, stub := range h.allocs(0) {
		if stub.TaskGroup == "a" && strings.HasSuffix(stub.Name, "[0]") {
			rank0, _, err = h.client.Allocations().Info(stub.ID, nil)
			require.NoError(t, err)
		}
	}
	require.NotNil(t, rank0)
	ip, port, ok := jobs.RendezvousAddress(rank0)
	require.True(t, ok, "rank 0's group holds the rendezvous port")
	master := "master=" + ip + ":" + strconv.Itoa(port)
	lines := stdout.all()
	assert.ElementsMatch(t, []string{
		"[0] rank=0 " + master,
		"[1] rank=1 " + master,
		"[2] rank=2 " + master,
	}, lines, "every rank, rank 0's own group included, finds the port Nomad gave rank 0")

	v, _, err := h.client.Variables().Peek(path, nil)
	require.NoError(t, err)
	assert.Nil(t, v, "the variable goes with the attempt")
}

func TestATokenThatCannotWriteTheRendezvousIsToldSoAndNothingIsRegistered(t *testing.T) {
	h := setupSim(t, rendezvous, harnessOptions{sim: nomadsim.Options{DenyVariableWrites: true}})
	h.start(0, 0)
	exit, evs := h.waitExited(0, 0)

	assert.Equal(t, []driver.EventKind{driver.EventExited}, kinds(evs))
	assert.True(t, exit.Failed)
	assert.False(t, exit.Stopped || exit.Unplaced || exit.NeverRuns)
	assert.True(t, strings.HasPrefix(exit.Message, "could not start: trial "+h.trials[0].ID+" attempt 0: deleting the rendezvous variable"), exit.Message)
	assert.Contains(t, exit.Message, "nomad/jobs/"+h.jobID(0))
	assert.Contains(t, exit.Message, "the token needs the variables capabilities write and destroy on nomad/jobs/*")
	registered, _, err := h.client.Jobs().List(nil)
	require.NoError(t, err)
	assert.Empty(t, registered, "a trial whose ranks could not find rank 0 is not registered")
}
