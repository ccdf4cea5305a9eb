package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestFlags(t *testing.T) {
	t.Run("a malformed node spec is a usage error", func(t *testing.T) {
		assert.Equal(t, 2, run([]string{"-nodes", "3{cpu=4}"}))
		assert.Equal(t, 2, run([]string{"-nodes", "3x{cpu=4,colour=red}"}))
	})

	t.Run("a cluster file that cannot be read is a usage error", func(t *testing.T) {
		assert.Equal(t, 2, run([]string{"-cluster", filepath.Join(t.TempDir(), "missing.json")}))
		bad := filepath.Join(t.TempDir(), "bad.json")
		assert.NoError(t, os.WriteFile(bad, []byte(`{"nodes": [{"count": "many"}]}`), 0o644))
		assert.Equal(t, 2, run([]string{"-cluster", bad}))
	})

	t.Run("a node spec the simulator cannot build fails to start", func(t *testing.T) {
		assert.Equal(t, 1, run([]string{"-nodes", "2x{cpu=4,drivers=docker}"}))
	})
}
