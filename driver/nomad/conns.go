package nomad

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/hashicorp/nomad/api"
)

// DefaultMaxConns is how many HTTP connections tune holds to one Nomad
// address at most. Nomad refuses a client IP's connections past
// limits.http_max_conns_per_client (100 by default) with a 429, to tune
// and to every other tool on the same machine alike; 16 leaves most of
// that to the people sharing the cluster and is still more than tune
// keeps busy.
const DefaultMaxConns = 16

// MinMaxConns is the smallest connection budget that works: one for the
// event stream, which stays open, and one for everything else.
const MinMaxConns = 2

// dialTimeout bounds the wait for a TCP connection. A wrong address that
// drops packets would otherwise hold each attempt for the operating
// system's 30 s or more.
const dialTimeout = 5 * time.Second

// NewClient is an API client for cfg that holds at most maxConns HTTP
// connections to any one address (0 means DefaultMaxConns), however many
// requests are made at once: the others wait for a connection to be
// free. The clients the driver makes for single nodes share its
// connections, so the budget holds per address across all of them. A
// unix socket address is left to the api package.
func NewClient(cfg *api.Config, maxConns int) (*api.Client, error) {
	return newClient(cfg, maxConns, (&net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}).DialContext)
}

// dialFunc opens a connection, as net.Dialer.DialContext does.
type dialFunc func(ctx context.Context, network, address string) (net.Conn, error)

// newClient is NewClient with the dialer given, so tests can count the
// connections made.
func newClient(cfg *api.Config, maxConns int, dial dialFunc) (*api.Client, error) {
	if maxConns == 0 {
		maxConns = DefaultMaxConns
	}
	if maxConns < MinMaxConns {
		return nil, fmt.Errorf("the connection budget must be at least %d (one for the event stream, one for the rest); got %d", MinMaxConns, maxConns)
	}
	c := *cfg
	if u, err := url.Parse(c.Address); err == nil && u.Scheme == "unix" {
		return api.NewClient(&c)
	}
	transport := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           dial,
		MaxConnsPerHost:       maxConns,
		MaxIdleConns:          maxConns,
		MaxIdleConnsPerHost:   maxConns,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		// Nomad's own client speaks HTTP/1.1 to the agent: one request per
		// connection at a time, which is what the budget counts.
		ForceAttemptHTTP2: false,
		TLSClientConfig:   &tls.Config{MinVersion: tls.VersionTLS12},
	}
	hc := &http.Client{Transport: transport}
	if err := api.ConfigureTLS(hc, c.TLSConfig); err != nil {
		return nil, err
	}
	c.HttpClient = hc
	return api.NewClient(&c)
}

// logReaders is how many log reads the driver makes at once within a
// connection budget: half of it, so submissions, dry runs and the event
// stream always have connections left.
func logReaders(maxConns int) int {
	if maxConns <= 0 {
		maxConns = DefaultMaxConns
	}
	return max(1, maxConns/2)
}
