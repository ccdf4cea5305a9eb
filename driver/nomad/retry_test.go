package nomad

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/hashicorp/nomad/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// answering is a client of a server that answers every request with code
// and body.
func answering(t *testing.T, code int, body string) *api.Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, body, code)
	}))
	t.Cleanup(srv.Close)
	c, err := api.NewClient(&api.Config{Address: srv.URL})
	require.NoError(t, err)
	return c
}

func TestWhatFailsTransientlyIsTried(t *testing.T) {
	tests := []struct {
		name string
		code int
		body string
		want bool
	}{
		{"a server error", http.StatusInternalServerError, "rpc error: No cluster leader", true},
		{"an unavailable server", http.StatusServiceUnavailable, "unavailable", true},
		{"too many requests", http.StatusTooManyRequests, "slow down", true},
		{"a bad request", http.StatusBadRequest, "invalid job", false},
		{"a denied request", http.StatusForbidden, "Permission denied", false},
		{"a missing job", http.StatusNotFound, "job not found", false},
		{"a modify index conflict", http.StatusInternalServerError, "Enforcing job modify index 0: job already exists", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := answering(t, tt.code, tt.body).Jobs().Info("j", nil)
			require.Error(t, err)
			assert.Equal(t, tt.want, transient(err))
		})
	}
}

func TestARefusedConnectionIsTransient(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	c, err := api.NewClient(&api.Config{Address: "http://" + addr})
	require.NoError(t, err)

	_, _, err = c.Jobs().Info("j", nil)

	require.Error(t, err)
	assert.True(t, transient(err))
	assert.False(t, transient(context.Canceled))
	assert.False(t, transient(nil))
}

func TestBackoffDoublesUpToItsMaximum(t *testing.T) {
	b := Backoff{Initial: time.Second, Max: 5 * time.Second, Retries: 3}.withDefaults()
	assert.Equal(t, []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second, 5 * time.Second},
		[]time.Duration{b.delay(0), b.delay(1), b.delay(2), b.delay(3), b.delay(40)})
	assert.Equal(t, DefaultBackoff, Backoff{}.withDefaults())
}
