package main

import (
	"fmt"
	"io"
	"os"
	"runtime/metrics"
	"sync"
	"time"
)

// maxLoadMemory bounds the heap while an experiment file is read and its
// trials are generated. The limits of package hcl (file size, nesting, the
// evaluation budget) and of the planner (trials, allocations) keep every
// file far below it; it is the last resort for what they miss, so that
// tune stops with a message instead of taking this machine's memory.
const maxLoadMemory = 1 << 30

// exit ends the process; tests replace it.
var exit = exitProcess

// exitProcess is os.Exit, kept apart so that tests can put it back.
var exitProcess = os.Exit

// guardMemory watches the heap until the returned stop is called, and
// ends tune with a message naming what it was reading when the heap
// passes limit.
func guardMemory(stderr io.Writer, what string, limit uint64) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			metrics.Read(sample)
			if sample[0].Value.Kind() == metrics.KindUint64 && sample[0].Value.Uint64() > limit {
				fmt.Fprintf(stderr, "Error: Experiment too large\n\nReading %s and generating its trials took more than %d MiB of memory, the most tune allows for it. Use smaller collections and fewer trials.\n", what, limit>>20)
				exit(exitError)
				return
			}
		}
	}()
	return func() {
		close(done)
		wg.Wait()
	}
}
