package main

import (
	"bytes"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// lockedBuffer is a buffer the interrupt goroutine and the test share.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestTheFirstCtrlCStopsAndTheSecondExitsAtOnce(t *testing.T) {
	const bound = 10 * time.Second // only matters when the test fails
	signals := make(chan os.Signal)
	var stderr lockedBuffer
	exits := make(chan int, 1)
	in := watchInterrupts(signals, &stderr, func(code int) { exits <- code })
	hooked := make(chan struct{})
	in.onInterrupt(func() { close(hooked) })
	assert.False(t, in.interrupted())

	signals <- os.Interrupt
	select {
	case <-in.ctx.Done():
	case <-time.After(bound):
		t.Fatal("the first interrupt did not cancel the command")
	}
	select {
	case <-hooked:
	case <-time.After(bound):
		t.Fatal("the first interrupt did not run the hooks")
	}
	assert.True(t, in.interrupted())
	assert.Contains(t, stderr.String(), "stopping the running trials")
	assert.Empty(t, exits, "the first interrupt does not exit")

	// A hook registered after the interrupt runs at once.
	late := false
	in.onInterrupt(func() { late = true })
	assert.True(t, late)

	signals <- os.Interrupt
	select {
	case code := <-exits:
		assert.Equal(t, exitInterrupted, code)
	case <-time.After(bound):
		t.Fatal("the second interrupt did not exit")
	}
	assert.Contains(t, stderr.String(), "interrupted again: exiting now")
}

func TestWorkOnTheWayOutIsBoundedTighterOnceInterrupted(t *testing.T) {
	signals := make(chan os.Signal)
	in := watchInterrupts(signals, &lockedBuffer{}, func(int) {})
	ctx, cancel := in.bounded(time.Hour)
	deadline, ok := ctx.Deadline()
	cancel()
	require.True(t, ok)
	assert.Greater(t, time.Until(deadline), time.Minute, "not interrupted: the full limit")

	signals <- os.Interrupt
	<-in.ctx.Done()
	ctx, cancel = in.bounded(time.Hour)
	deadline, _ = ctx.Deadline()
	cancel()
	in.mu.Lock()
	firedAt := in.firedAt
	in.mu.Unlock()
	assert.Equal(t, firedAt.Add(interruptWait), deadline, "what is left of the interrupt's budget")
}
