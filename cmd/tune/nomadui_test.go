package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestNomadUIURLLeavesCredentialsOut(t *testing.T) {
	cases := []struct{ name, address, want string }{
		{name: "a plain address", address: "http://127.0.0.1:4646", want: "http://127.0.0.1:4646/ui/jobs"},
		{name: "a trailing slash is not doubled", address: "https://nomad.example.com/", want: "https://nomad.example.com/ui/jobs"},
		{name: "a path prefix of a proxy is kept", address: "https://proxy.example.com/nomad", want: "https://proxy.example.com/nomad/ui/jobs"},
		{name: "user and password are left out", address: "https://alice:s3cret@nomad.example.com", want: "https://nomad.example.com/ui/jobs"},
		{name: "a query with a token is left out", address: "https://nomad.example.com?token=s3cret", want: "https://nomad.example.com/ui/jobs"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := nomadUIURL(tc.address, "/ui/jobs")
			assert.Equal(t, tc.want, got)
			assert.NotContains(t, got, "s3cret")
		})
	}
}
