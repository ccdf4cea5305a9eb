package nomadsim

import (
	"io"
	"net"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestConnectionsPastTheLimitAreRefusedAsNomadRefusesThem(t *testing.T) {
	srv, client := startSim(t, Options{MaxConnsPerClient: 2})

	var held []net.Conn
	for range 2 {
		c, err := net.Dial("tcp", srv.Addr())
		require.NoError(t, err)
		t.Cleanup(func() { c.Close() })
		held = append(held, c)
	}
	eventually(t, func() bool { return srv.Conns().Open == 2 }, "both connections are counted")

	third, err := net.Dial("tcp", srv.Addr())
	require.NoError(t, err)
	defer third.Close()
	answer, _ := io.ReadAll(third)
	assert.Equal(t, "HTTP/1.1 429 Too Many Requests\r\nContent-Type: text/plain\r\nContent-Length: 81\r\nConnection: close\r\n\r\n"+
		"Your IP is issuing too many concurrent connections, please rate limit your calls\n", string(answer))
	assert.Equal(t, ConnStats{Open: 2, Peak: 2, Refused: 1}, srv.Conns())

	// A connection closed makes room.
	require.NoError(t, held[0].Close())
	eventually(t, func() bool { return srv.Conns().Open == 1 }, "the closed connection is no longer counted")
	_, _, err = client.Nodes().List(nil)
	assert.NoError(t, err)
}

func TestANegativeLimitRefusesNothing(t *testing.T) {
	srv, client := startSim(t, Options{MaxConnsPerClient: -1})
	for range DefaultMaxConnsPerClient + 1 {
		c, err := net.Dial("tcp", srv.Addr())
		require.NoError(t, err)
		t.Cleanup(func() { c.Close() })
	}
	eventually(t, func() bool { return srv.Conns().Open == DefaultMaxConnsPerClient+1 }, "every connection is counted")
	_, _, err := client.Nodes().List(nil)
	assert.NoError(t, err)
	assert.Zero(t, srv.Conns().Refused)
}
