//go:build unix

package test

import (
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestEveryNomadCommandFailsFastOnAWrongAddressNamingItAndTheCause(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	refused := ln.Addr().String()
	require.NoError(t, ln.Close())
	hung := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	t.Cleanup(hung.Close)

	w := newWorkspace(t)
	w.write(t, "exp.hcl", `experiment "wrong" {
  task "t" {
    driver = "mock_driver"
    config {
      run_for = "1s"
    }
  }
}
`)
	cases := []struct {
		name    string
		args    []string
		address string
		want    string
	}{
		{"plan with nothing listening", []string{"plan", "exp.hcl"}, "http://admin:pw@" + refused,
			"cannot reach Nomad at http://admin:xxxxx@" + refused + ": connection refused"},
		{"apply with nothing listening", []string{"apply", "exp.hcl", "-progress", "plain"}, "http://" + refused,
			"cannot reach Nomad at http://" + refused + ": connection refused"},
		{"status with nothing listening", []string{"status", "wrong"}, "http://" + refused,
			"cannot reach Nomad at http://" + refused + ": connection refused"},
		{"stop with nothing listening", []string{"stop", "wrong"}, "http://" + refused,
			"cannot reach Nomad at http://" + refused + ": connection refused"},
		{"apply against a server that never answers", []string{"apply", "exp.hcl", "-progress", "plain"}, hung.URL,
			"Nomad at " + hung.URL + " did not answer within 5s"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := tune(t, w.dir, append(tc.args, "-address", tc.address)...)
			assert.Equal(t, 1, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
			assert.Contains(t, r.stderr, tc.want)
			assert.NotContains(t, r.stderr+r.stdout, ":pw@")
			assert.NoDirExists(t, w.dir+"/tune-results", "nothing half-done")
		})
	}
}
