package clock

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestManual(t *testing.T) {
	start := time.Unix(0, 0)

	t.Run("an After fires only once the clock is advanced past it", func(t *testing.T) {
		c := NewManual(start)
		ch := c.After(time.Minute)
		c.Advance(30 * time.Second)
		select {
		case <-ch:
			t.Fatal("fired before its time")
		default:
		}
		c.Advance(30 * time.Second)
		assert.Equal(t, start.Add(time.Minute), <-ch)
		assert.Equal(t, 0, c.Waiters())
	})

	t.Run("an After of zero fires at once without an advance", func(t *testing.T) {
		c := NewManual(start)
		assert.Equal(t, start, <-c.After(0))
		assert.Equal(t, 0, c.Waiters())
	})

	t.Run("one advance fires every After that came due and keeps the rest", func(t *testing.T) {
		c := NewManual(start)
		a, b, later := c.After(2*time.Second), c.After(time.Second), c.After(time.Hour)
		c.Advance(5 * time.Second)
		assert.Equal(t, start.Add(5*time.Second), <-a)
		assert.Equal(t, start.Add(5*time.Second), <-b)
		assert.Equal(t, []time.Duration{time.Hour - 5*time.Second}, c.Pending())
		select {
		case <-later:
			t.Fatal("a later After fired")
		default:
		}
	})

	t.Run("Pending lists the waits soonest first", func(t *testing.T) {
		c := NewManual(start)
		assert.Empty(t, c.Pending())
		c.After(time.Hour)
		c.After(time.Second)
		assert.Equal(t, []time.Duration{time.Second, time.Hour}, c.Pending())
		assert.Equal(t, 2, c.Waiters())
	})

	t.Run("WaitForWaiters returns once another goroutine waits on the clock", func(t *testing.T) {
		c := NewManual(start)
		done := make(chan time.Time)
		go func() { done <- <-c.After(time.Second) }()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		require.NoError(t, c.WaitForWaiters(ctx, 1))
		c.Advance(time.Second)
		assert.Equal(t, start.Add(time.Second), <-done)
	})

	t.Run("WaitUntil returns once the pending waits are as asked", func(t *testing.T) {
		c := NewManual(start)
		c.After(time.Hour)
		go c.After(time.Second)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		require.NoError(t, c.WaitUntil(ctx, func(p []time.Duration) bool { return len(p) > 0 && p[0] == time.Second }))
		assert.Equal(t, []time.Duration{time.Second, time.Hour}, c.Pending())
	})

	t.Run("WaitForWaiters gives up when its context ends", func(t *testing.T) {
		c := NewManual(start)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		assert.ErrorIs(t, c.WaitForWaiters(ctx, 1), context.Canceled)
	})
}

func TestScaled(t *testing.T) {
	t.Run("a scaled clock's After waits its own time, not the wall clock's", func(t *testing.T) {
		c := NewScaled(1000)
		start := c.Now()
		got := <-c.After(10 * time.Second)
		assert.GreaterOrEqual(t, got.Sub(start), 10*time.Second)
		assert.GreaterOrEqual(t, c.Now().Sub(start), 10*time.Second)
	})

	t.Run("a factor that is not positive is real time", func(t *testing.T) {
		assert.Equal(t, 1.0, NewScaled(0).Factor())
		assert.Equal(t, 1.0, NewScaled(-3).Factor())
	})
}
