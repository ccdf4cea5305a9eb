package nomad

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"syscall"
	"time"

	"github.com/hashicorp/nomad/api"
)

// CheckTimeout is the time Check is given by the commands: a wrong
// address is told within seconds, not after a minute of retries.
const CheckTimeout = 5 * time.Second

// Check asks the agent at the client's address for the cluster's leader,
// once, within timeout: the one call that needs no ACL token. Its
// error names the address (credentials left out) and the cause in words:
// nothing listens there, the name does not resolve, no answer in time,
// plain HTTP against TLS or the other way round, something that is not a
// Nomad agent, a cluster without a leader.
func Check(ctx context.Context, client *api.Client, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	q := (&api.QueryOptions{}).WithContext(ctx)
	var leader string
	_, err := client.Raw().Query("/v1/status/leader", &leader, q)
	addr := RedactAddress(client.Address())
	switch {
	case err == nil && leader == "":
		return fmt.Errorf("Nomad at %s has no cluster leader: is a server up and has it been elected?", addr)
	case err == nil:
		return nil
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return fmt.Errorf("Nomad at %s did not answer within %s: is the address right, and the agent running?", addr, timeout)
	case ctx.Err() != nil:
		return ctx.Err()
	}
	return fmt.Errorf("cannot reach Nomad at %s: %s", addr, checkCause(err))
}

// checkCause says in words why a request failed.
func checkCause(err error) string {
	var dnsErr *net.DNSError
	var resp api.UnexpectedResponseError
	var certErr *tls.CertificateVerificationError
	var unknownAuth x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused: nothing listens there (is the agent running, and is that its HTTP port?)"
	case errors.As(err, &dnsErr):
		return fmt.Sprintf("the host name %q does not resolve", dnsErr.Name)
	case errors.As(err, &certErr), errors.As(err, &unknownAuth), errors.As(err, &hostErr):
		return fmt.Sprintf("its TLS certificate is not trusted (%v): set NOMAD_CACERT, or NOMAD_TLS_SERVER_NAME", err)
	case strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		return "it speaks plain HTTP: use an http:// address"
	case errors.As(err, &resp) && resp.StatusCode() == http.StatusBadRequest && strings.Contains(resp.Body(), "HTTPS"):
		return "it speaks HTTPS: use an https:// address"
	case errors.As(err, &resp) && resp.StatusCode() == http.StatusNotFound:
		return "it answered 404 to Nomad's API: is this a Nomad agent's HTTP address?"
	case errors.As(err, &resp):
		return fmt.Sprintf("it answered %d: %s", resp.StatusCode(), strings.TrimSpace(resp.Body()))
	case strings.Contains(err.Error(), "invalid character"), strings.Contains(err.Error(), "cannot unmarshal"):
		return "its answer is not Nomad's: is this a Nomad agent's HTTP address?"
	}
	return err.Error()
}
