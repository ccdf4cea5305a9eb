package nomad

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestRedactAddressHidesCredentials(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"a plain address is kept", "http://127.0.0.1:4646", "http://127.0.0.1:4646"},
		{"a password is hidden, the user kept", "http://alice:s3cret@nomad.example:4646", "http://alice:xxxxx@nomad.example:4646"},
		{"a user without a password is kept", "https://alice@nomad.example", "https://alice@nomad.example"},
		{"a token in the query is hidden", "https://nomad.example/?token=abc&region=eu", "https://nomad.example/?region=eu&token=xxxxx"},
		{"an address that is not a URL loses its userinfo", "http://a:b@host:port:bad", "http://xxxxx@host:port:bad"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, RedactAddress(tt.in))
		})
	}
}
