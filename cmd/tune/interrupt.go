package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// interruptWait bounds, from the interrupt, all that an interrupted apply
// still waits for Nomad (the driver gives the trials' stops a second of
// it; releasing the lease gets the rest): the answer to Ctrl-C comes within
// two seconds whatever Nomad does.
const interruptWait = 1500 * time.Millisecond

// interrupts is the first and second Ctrl-C of a command. The first
// cancels its context and runs what was registered with onInterrupt, so
// the command stops what runs and leaves a resumable state; the second
// exits at once, with the same status, in case the first hangs.
type interrupts struct {
	ctx    context.Context
	cancel context.CancelFunc
	stderr io.Writer
	exit   func(int)

	mu      sync.Mutex
	fired   bool
	firedAt time.Time
	hooks   []func()
}

// watchInterrupts follows signals until stop is called.
func watchInterrupts(signals <-chan os.Signal, stderr io.Writer, exit func(int)) *interrupts {
	ctx, cancel := context.WithCancel(context.Background())
	in := &interrupts{ctx: ctx, cancel: cancel, stderr: stderr, exit: exit}
	go func() {
		if _, ok := <-signals; !ok {
			return
		}
		fmt.Fprintln(stderr, "\ntune: stopping the running trials (they will run again when you resume); Ctrl-C again to exit at once...")
		in.fire()
		if _, ok := <-signals; !ok {
			return
		}
		fmt.Fprintln(stderr, "tune: interrupted again: exiting now (tune apply resumes the experiment; jobs still in Nomad are adopted)")
		exit(exitInterrupted)
	}()
	return in
}

func (in *interrupts) fire() {
	in.mu.Lock()
	in.fired, in.firedAt = true, time.Now()
	hooks := in.hooks
	in.mu.Unlock()
	for _, h := range hooks {
		h()
	}
	in.cancel()
}

// onInterrupt runs h at the first interrupt, or now if it has come.
func (in *interrupts) onInterrupt(h func()) {
	in.mu.Lock()
	fired := in.fired
	if !fired {
		in.hooks = append(in.hooks, h)
	}
	in.mu.Unlock()
	if fired {
		h()
	}
}

// interrupted says whether the first interrupt has come.
func (in *interrupts) interrupted() bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.fired
}

// bounded is a context for work done on the way out: it lasts limit, and
// once interrupted ends interruptWait after the interrupt at the latest.
func (in *interrupts) bounded(limit time.Duration) (context.Context, context.CancelFunc) {
	deadline := time.Now().Add(limit)
	in.mu.Lock()
	if in.fired {
		deadline = minTime(deadline, in.firedAt.Add(interruptWait))
	}
	in.mu.Unlock()
	return context.WithDeadline(context.Background(), deadline)
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
