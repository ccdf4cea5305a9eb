package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTheMemoryGuardEndsTuneWithAMessage(t *testing.T) {
	codes := make(chan int, 1)
	exit = func(code int) { codes <- code }
	t.Cleanup(func() { exit = exitProcess })
	var stderr lockedBuffer
	stop := guardMemory(&stderr, "big.hcl", 1)
	defer stop()
	select {
	case code := <-codes:
		assert.Equal(t, exitError, code)
	case <-time.After(time.Minute):
		require.Fail(t, "the guard never saw the heap pass one byte")
	}
	assert.Contains(t, stderr.String(), "Reading big.hcl and generating its trials took more than 0 MiB of memory")
}

func TestTheMemoryGuardStaysQuietUnderItsLimitAndStops(t *testing.T) {
	exit = func(code int) { t.Errorf("exit(%d) under the limit", code) }
	t.Cleanup(func() { exit = exitProcess })
	var stderr lockedBuffer
	stop := guardMemory(&stderr, "small.hcl", maxLoadMemory)
	stop()
	assert.Empty(t, stderr.String())
}
