package nomad

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/nomad/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nomad-tune/tune/clock"
	"github.com/nomad-tune/tune/test/nomadsim"
)

// leaseCluster is a simulated cluster and a clock that both it and its
// drivers read, so a test moves the lease's time itself.
type leaseCluster struct {
	t     *testing.T
	clock *clock.Manual
	h     *simHarness
}

const leaseExperiment = `experiment "lease" {
  task "t" {
    driver = "mock_driver"
  }
}`

func newLeaseCluster(t *testing.T, simOpts nomadsim.Options) *leaseCluster {
	t.Helper()
	clk := clock.NewManual(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC))
	simOpts.Clock = clk
	h := setupSim(t, leaseExperiment, harnessOptions{sim: simOpts, driver: Options{Clock: clk}})
	return &leaseCluster{t: t, clock: clk, h: h}
}

// driver is another tune's driver for the same experiment.
func (c *leaseCluster) driver() *Driver {
	c.t.Helper()
	d, err := New(Options{Client: c.h.client, Experiment: c.h.exp, Clock: c.clock, Backoff: fastBackoff})
	require.NoError(c.t, err)
	c.t.Cleanup(func() { d.Close() })
	return d
}

func holder(host string, pid int) LeaseHolder {
	return LeaseHolder{Host: host, PID: pid, Results: "/runs/" + host, Since: time.Date(2026, 5, 1, 11, 0, 0, 0, time.UTC)}
}

func (c *leaseCluster) acquire(d *Driver, h LeaseHolder) *Lease {
	c.t.Helper()
	l, err := d.AcquireLease(context.Background(), LeaseOptions{Holder: h, TTL: time.Minute})
	require.NoError(c.t, err)
	c.t.Cleanup(func() { l.Release(context.Background()) })
	return l
}

func (c *leaseCluster) read() *api.Variable {
	c.t.Helper()
	v, _, err := c.h.client.Variables().Read(LeasePath("lease"), nil)
	require.NoError(c.t, err)
	return v
}

// renewed advances the clock by a renewal period and waits (bounded) for
// the lease's variable to be written past index.
func (c *leaseCluster) renewed(index uint64) *api.Variable {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(c.t, c.clock.WaitForWaiters(ctx, 1))
	c.clock.Advance(time.Minute / 3)
	v, _, err := c.h.client.Variables().Read(LeasePath("lease"), (&api.QueryOptions{WaitIndex: index, WaitTime: 30 * time.Second}).WithContext(ctx))
	require.NoError(c.t, err)
	require.Greater(c.t, v.ModifyIndex, index, "the lease was renewed")
	return v
}

func TestASecondApplyIsRefusedAndNamesTheHolder(t *testing.T) {
	c := newLeaseCluster(t, nomadsim.Options{})
	first := c.acquire(c.h.d, holder("alpha", 101))
	assert.Equal(t, "tune/lease/lease", first.Path())

	_, err := c.driver().AcquireLease(context.Background(), LeaseOptions{Holder: holder("beta", 202), TTL: time.Minute})
	var held *LeaseHeldError
	require.ErrorAs(t, err, &held)
	h := held.Holder
	assert.Equal(t, "alpha", h.Host)
	assert.Equal(t, 101, h.PID)
	assert.Equal(t, "/runs/alpha", h.Results)
	assert.True(t, holder("alpha", 101).Since.Equal(h.Since))
	assert.Equal(t, "default", held.Namespace)
	assert.True(t, c.clock.Now().Add(time.Minute).Equal(held.Expires), "expires %s", held.Expires)
	for _, want := range []string{`"lease"`, "pid 101 on alpha", "/runs/alpha", "since 2026-05-01"} {
		assert.Contains(t, err.Error(), want)
	}
}

func TestARenewedLeaseOutlivesItsTimeToLiveAndAReleasedOneIsFreeAtOnce(t *testing.T) {
	c := newLeaseCluster(t, nomadsim.Options{})
	l := c.acquire(c.h.d, holder("alpha", 101))
	v := c.read()
	for i := 0; i < 4; i++ {
		v = c.renewed(v.ModifyIndex)
	}
	assert.Equal(t, "alpha", v.Items[leaseHost])
	_, err := c.driver().AcquireLease(context.Background(), LeaseOptions{Holder: holder("beta", 202), TTL: time.Minute})
	var held *LeaseHeldError
	require.ErrorAs(t, err, &held, "four renewals later, past its first time to live, it is still held")

	require.NoError(t, l.Release(context.Background()))
	_, _, err = c.h.client.Variables().Read(LeasePath("lease"), nil)
	require.ErrorIs(t, err, api.ErrVariablePathNotFound, "release deletes the lease")
	next := c.acquire(c.driver(), holder("beta", 202))
	assert.Equal(t, "beta", c.read().Items[leaseHost])
	require.NoError(t, next.Release(context.Background()))
}

func TestTheLeaseOfAHolderThatDiedIsTakenOverOnceItLapses(t *testing.T) {
	c := newLeaseCluster(t, nomadsim.Options{})
	// A holder that died left its lease behind, written now.
	_, _, err := c.h.client.Variables().CheckedCreate(&api.Variable{Path: LeasePath("lease"), Items: api.VariableItems{
		leaseHost: "alpha", leasePID: "101", leaseResults: "/runs/alpha", leaseSince: "2026-05-01T11:00:00Z", leaseTTL: "1m0s", leaseToken: "dead",
	}}, nil)
	require.NoError(t, err)
	d := c.driver()

	c.clock.Advance(time.Minute - time.Second)
	_, err = d.AcquireLease(context.Background(), LeaseOptions{Holder: holder("beta", 202), TTL: time.Minute})
	var held *LeaseHeldError
	require.ErrorAs(t, err, &held, "a second before it lapses it is still held")

	c.clock.Advance(time.Second)
	c.acquire(d, holder("beta", 202))
	v := c.read()
	assert.Equal(t, "beta", v.Items[leaseHost])
	assert.Equal(t, "202", v.Items[leasePID])
	assert.Equal(t, "/runs/beta", v.Items[leaseResults])
}

func TestTheLeaseOfAHolderKnownToBeDeadIsTakenOverAtOnce(t *testing.T) {
	c := newLeaseCluster(t, nomadsim.Options{})
	c.acquire(c.h.d, holder("alpha", 101))
	dead := func(h LeaseHolder) bool { return h.Host == "alpha" && h.PID == 101 }
	alive := func(LeaseHolder) bool { return false }

	_, err := c.driver().AcquireLease(context.Background(), LeaseOptions{Holder: holder("alpha", 102), TTL: time.Minute, Dead: alive})
	var held *LeaseHeldError
	require.ErrorAs(t, err, &held, "a holder not known to be dead keeps its lease")

	l, err := c.driver().AcquireLease(context.Background(), LeaseOptions{Holder: holder("alpha", 102), TTL: time.Minute, Dead: dead})
	require.NoError(t, err)
	t.Cleanup(func() { l.Release(context.Background()) })
	assert.Equal(t, "102", c.read().Items[leasePID])
}

func TestAHolderThatWasTakenOverLearnsItOnItsNextRenewal(t *testing.T) {
	c := newLeaseCluster(t, nomadsim.Options{})
	l := c.acquire(c.h.d, holder("alpha", 101))
	v := c.read()
	// Another apply took it over (alpha could not renew for a minute).
	_, _, err := c.h.client.Variables().CheckedUpdate(&api.Variable{Path: v.Path, ModifyIndex: v.ModifyIndex, Items: api.VariableItems{
		leaseHost: "beta", leasePID: "202", leaseResults: "/runs/beta", leaseSince: "2026-05-01T12:01:00Z", leaseTTL: "1m0s", leaseToken: "other",
	}}, nil)
	require.NoError(t, err)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, c.clock.WaitForWaiters(ctx, 1))
	c.clock.Advance(time.Minute / 3)
	select {
	case <-l.Lost():
	case <-ctx.Done():
		t.Fatal("the renewal did not notice the lease was taken over")
	}
	assert.Equal(t, "beta", l.LostTo().Host)
	assert.Equal(t, 202, l.LostTo().PID)
	require.NoError(t, l.Release(context.Background()))
	assert.Equal(t, "beta", c.read().Items[leaseHost], "releasing a lost lease leaves the new holder's alone")
}

func TestALeaseDeletedOutsideTuneIsWrittenAgainByItsHolder(t *testing.T) {
	c := newLeaseCluster(t, nomadsim.Options{})
	l := c.acquire(c.h.d, holder("alpha", 101))
	_, err := c.h.client.Variables().Delete(LeasePath("lease"), nil)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, c.clock.WaitForWaiters(ctx, 1))
	c.clock.Advance(time.Minute / 3)
	// Wait for the variable to exist again.
	var v *api.Variable
	var index uint64
	for v == nil {
		got, qm, err := c.h.client.Variables().Peek(LeasePath("lease"), (&api.QueryOptions{WaitIndex: index, WaitTime: 30 * time.Second}).WithContext(ctx))
		require.NoError(t, err)
		v, index = got, qm.LastIndex
	}
	assert.Equal(t, "alpha", v.Items[leaseHost])
	select {
	case <-l.Lost():
		t.Fatal("a deleted lease is not lost")
	default:
	}
	require.NoError(t, l.Release(context.Background()))
	_, _, err = c.h.client.Variables().Read(LeasePath("lease"), nil)
	require.ErrorIs(t, err, api.ErrVariablePathNotFound)
}

func TestALeaseTheTokenMayNotWriteIsDeniedWithTheCapabilityNeeded(t *testing.T) {
	c := newLeaseCluster(t, nomadsim.Options{DenyVariableWrites: true})
	_, err := c.h.d.AcquireLease(context.Background(), LeaseOptions{Holder: holder("alpha", 101), TTL: time.Minute})
	var denied *LeaseDeniedError
	require.ErrorAs(t, err, &denied)
	assert.Contains(t, err.Error(), `variables capabilities read, write and destroy on path "tune/*"`)
	assert.Contains(t, err.Error(), "tune/lease/lease")
	assert.False(t, errors.Is(err, context.Canceled))
}

func TestLeasePathsAreValidVariablePaths(t *testing.T) {
	cases := []struct {
		name, experiment, want string
	}{
		{name: "a plain name is kept", experiment: "resnet-sweep_2", want: "tune/resnet-sweep_2/lease"},
		{name: "a dot is replaced and the name hashed", experiment: "v1.2", want: "tune/v1-2-"},
		{name: "a long name is cut and hashed", experiment: strings.Repeat("x", 200), want: "tune/xxxx"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := LeasePath(tc.experiment)
			assert.True(t, strings.HasPrefix(got, tc.want), got)
			assert.LessOrEqual(t, len(got), 128)
			assert.Regexp(t, `^[a-zA-Z0-9-_~/]{1,128}$`, got)
			assert.True(t, strings.HasSuffix(got, "/lease"), got)
		})
	}
	assert.NotEqual(t, LeasePath("a.b"), LeasePath("a-b"), "distinct names keep distinct paths")
}
