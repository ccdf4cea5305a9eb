package local

import (
	"fmt"
	"net"
	"strconv"
)

// loopback is where rank 0 of a local trial listens for the rendezvous:
// every rank runs on this machine.
const loopback = "127.0.0.1"

// freePort asks the kernel for a TCP port nothing listens on, for rank 0
// to listen on. The port is released before the trial starts, so another
// process could take it in between; the kernel hands out ephemeral ports
// in turn, which makes that unlikely, and a rank 0 that cannot bind fails
// its attempt, which max_failures retries with a new port.
func freePort() (string, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(loopback, "0"))
	if err != nil {
		return "", fmt.Errorf("no free port for the rendezvous on %s: %w", loopback, err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port), nil
}
