package report

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTheRefresherRewritesThePageUntilStopped(t *testing.T) {
	root := t.TempDir()
	fixtures[0].f.write(t, root)
	built := make(chan struct{}, 100)
	now := func() time.Time {
		built <- struct{}{}
		return fixtureStart
	}
	failed := make(chan error, 100)
	r := StartRefresh(root, fixtures[0].f.name, time.Millisecond, now, func(err error) { failed <- err })
	for range 2 {
		select {
		case <-built:
		case <-time.After(time.Minute):
			t.Fatal("the page was not rewritten")
		}
	}
	r.Stop()
	require.Empty(t, failed)
	page, err := os.ReadFile(filepath.Join(root, fixtures[0].f.name, File))
	require.NoError(t, err)
	assert.True(t, strings.Contains(string(page), `http-equiv="refresh"`), "a page written while running reloads itself")
}

func TestTheRefresherReportsAFailedWrite(t *testing.T) {
	failed := make(chan error, 100)
	r := StartRefresh(t.TempDir(), "missing", time.Millisecond, time.Now, func(err error) { failed <- err })
	defer r.Stop()
	select {
	case err := <-failed:
		assert.Contains(t, err.Error(), `no experiment "missing"`)
	case <-time.After(time.Minute):
		t.Fatal("the failed write was not reported")
	}
}
