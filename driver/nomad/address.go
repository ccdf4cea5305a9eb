package nomad

import (
	"net/url"
	"regexp"
	"strings"
)

// userinfo matches the credentials of an address that does not parse as
// a URL, so they are removed all the same.
var userinfo = regexp.MustCompile(`//[^/@]*@`)

// RedactAddress returns a Nomad address fit to print or store: a password
// written in it (http://user:pass@host) and the values of query
// parameters that carry credentials (token, secret, password) are
// replaced by "xxxxx". Nomad's ACL token travels in NOMAD_TOKEN, but
// proxies in front of Nomad are often reached this way.
func RedactAddress(addr string) string {
	u, err := url.Parse(addr)
	if err != nil {
		return userinfo.ReplaceAllString(addr, "//xxxxx@")
	}
	if u.RawQuery != "" {
		q := u.Query()
		for key, vals := range q {
			k := strings.ToLower(key)
			if strings.Contains(k, "token") || strings.Contains(k, "secret") || strings.Contains(k, "password") || strings.Contains(k, "key") {
				for i := range vals {
					vals[i] = "xxxxx"
				}
			}
		}
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}
