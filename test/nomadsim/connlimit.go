package nomadsim

import (
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"
)

// DefaultMaxConnsPerClient is Nomad's default for
// limits.http_max_conns_per_client.
const DefaultMaxConnsPerClient = 100

// tooManyConnsMsg is the body of Nomad's answer to a connection past the
// limit (command/agent/http.go).
const tooManyConnsMsg = "Your IP is issuing too many concurrent connections, please rate limit your calls\n"

// tooManyConnsResponse is written straight onto the refused connection,
// before any request is read, as Nomad does; the client reads it as the
// answer to whatever it sends.
var tooManyConnsResponse = fmt.Appendf(nil, "HTTP/1.1 429 Too Many Requests\r\n"+
	"Content-Type: text/plain\r\n"+
	"Content-Length: %d\r\n"+
	"Connection: close\r\n\r\n%s", len(tooManyConnsMsg), tooManyConnsMsg)

// connLimiter counts the open HTTP connections of each client IP and
// refuses those past the limit, as Nomad's agent does with go-connlimit:
// a connection counts from the moment it is accepted (idle keep-alive
// connections included) until it is closed or hijacked. Nomad also rate
// limits its 429 answers (10 a second) and closes the rest without a word;
// the simulator always answers, so that a test sees why.
type connLimiter struct {
	max int

	mu      sync.Mutex
	open    map[string]map[net.Conn]struct{}
	peak    int
	refused int
}

func newConnLimiter(max int) *connLimiter {
	return &connLimiter{max: max, open: map[string]map[net.Conn]struct{}{}}
}

// ConnStats are the connections clients hold to the simulated agent.
type ConnStats struct {
	// Open is the number of open connections of the client IP holding the
	// most, and Peak the most it held at once since the last ResetConns.
	Open, Peak int
	// Refused counts the connections answered 429.
	Refused int
}

func clientIP(conn net.Conn) string {
	host, _, err := net.SplitHostPort(conn.RemoteAddr().String())
	if err != nil {
		return conn.RemoteAddr().String()
	}
	return host
}

// connState is the http.Server ConnState hook.
func (l *connLimiter) connState(conn net.Conn, state http.ConnState) {
	switch state {
	case http.StateNew:
		if !l.accept(conn) {
			conn.SetDeadline(time.Now().Add(10 * time.Millisecond))
			conn.Write(tooManyConnsResponse)
			conn.Close()
		}
	case http.StateHijacked, http.StateClosed:
		l.free(conn)
	}
}

func (l *connLimiter) accept(conn net.Conn) bool {
	ip := clientIP(conn)
	l.mu.Lock()
	defer l.mu.Unlock()
	cs := l.open[ip]
	if cs == nil {
		cs = map[net.Conn]struct{}{}
		l.open[ip] = cs
	}
	if l.max > 0 && len(cs) >= l.max {
		l.refused++
		return false
	}
	cs[conn] = struct{}{}
	l.peak = max(l.peak, len(cs))
	return true
}

func (l *connLimiter) free(conn net.Conn) {
	ip := clientIP(conn)
	l.mu.Lock()
	defer l.mu.Unlock()
	if cs := l.open[ip]; cs != nil {
		delete(cs, conn)
		if len(cs) == 0 {
			delete(l.open, ip)
		}
	}
}

func (l *connLimiter) stats() ConnStats {
	l.mu.Lock()
	defer l.mu.Unlock()
	st := ConnStats{Peak: l.peak, Refused: l.refused}
	for _, cs := range l.open {
		st.Open = max(st.Open, len(cs))
	}
	return st
}

// reset starts a new peak from the connections open now.
func (l *connLimiter) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.peak = 0
	for _, cs := range l.open {
		l.peak = max(l.peak, len(cs))
	}
}

// Conns are the connections held to the server's HTTP API.
func (s *Server) Conns() ConnStats { return s.limiter.stats() }

// ResetConns starts counting a new peak (and keeps the refusals).
func (s *Server) ResetConns() { s.limiter.reset() }
