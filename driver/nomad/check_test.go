package nomad

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/nomad/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nomad-tune/tune/test/nomadsim"
)

// closedAddress is a loopback address nothing listens on.
func closedAddress(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

func TestCheckSaysWhyAnAddressIsWrong(t *testing.T) {
	hung := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	t.Cleanup(hung.Close)
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) }))
	t.Cleanup(web.Close)
	leaderless := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, `""`) }))
	t.Cleanup(leaderless.Close)
	tlsOnly := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, `"10.0.0.1:4647"`) }))
	t.Cleanup(tlsOnly.Close)
	sim, err := nomadsim.Start(nomadsim.Options{Seed: 1})
	require.NoError(t, err)
	t.Cleanup(func() { sim.Close() })
	refused := closedAddress(t)

	cases := []struct {
		name, address, want string
	}{
		{"an agent that answers passes", sim.URL(), ""},
		{"a port nothing listens on is refused",
			"http://" + refused, "cannot reach Nomad at http://" + refused + ": connection refused: nothing listens there"},
		{"the password of an address is never printed",
			"http://tune:s3cret@" + refused, "cannot reach Nomad at http://tune:xxxxx@" + refused + ": connection refused"},
		{"a server that never answers is given up on in time",
			hung.URL, "Nomad at " + hung.URL + " did not answer within 200ms"},
		{"a web server that is not Nomad is told apart",
			web.URL, "cannot reach Nomad at " + web.URL + ": it answered 404 to Nomad's API"},
		{"a cluster without a leader is told",
			leaderless.URL, "Nomad at " + leaderless.URL + " has no cluster leader"},
		{"plain HTTP to a TLS agent names the scheme to use",
			strings.Replace(tlsOnly.URL, "https://", "http://", 1), "it speaks HTTPS: use an https:// address"},
		{"TLS to a plain HTTP agent names the scheme to use",
			strings.Replace(sim.URL(), "http://", "https://", 1), "it speaks plain HTTP: use an http:// address"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			client, err := NewClient(&api.Config{Address: tc.address, TLSConfig: &api.TLSConfig{}}, 0)
			require.NoError(t, err)
			err = Check(context.Background(), client, 200*time.Millisecond)
			if tc.want == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), "s3cret")
		})
	}
}
