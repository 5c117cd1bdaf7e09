package admin

import (
	"crypto/tls"

	"github.com/varde-lb/varde/core/proxy"
	"strings"

	"github.com/varde-lb/varde/core/config"
	"github.com/varde-lb/varde/core/health"
)

// tcpCheckSpec is what the tcp-check family of probes (plugins/check/
// tcpcheck) reads from the proxy: its tcp-check rules, and the words
// after the option that selected the probe (`option smtpchk EHLO x`).
func tcpCheckSpec(p *config.Proxy, probe string) ([]health.TCPCheckRule, []string) {
	var args []string
	if o := p.Option(probe); o != nil {
		args = o.Args
	}
	if probe != "tcp-check" {
		return nil, args
	}
	rules := make([]health.TCPCheckRule, 0, len(p.TCPCheck))
	for _, r := range p.TCPCheck {
		rules = append(rules, r.TCPCheckRule)
	}
	return rules, args
}

// httpCheckComments gives each http-check expect rule its comment: its own
// `comment` option, else the `http-check comment` line before the run of
// rules of its kind (HAProxy folds comment rules into the rules after them
// until the action changes).
func httpCheckComments(checks []*config.HTTPCheck) map[*config.HTTPCheck]string {
	out := map[*config.HTTPCheck]string{}
	comment, prev := "", "comment"
	for _, hc := range checks {
		if hc.Action != prev && prev != "comment" {
			comment = ""
		}
		prev = hc.Action
		switch hc.Action {
		case "comment":
			comment = strings.Join(hc.Args, " ")
		case "connect":
			comment = ""
		case "expect":
			out[hc] = comment
			for i := 0; i+1 < len(hc.Args); i += 2 {
				if hc.Args[i] == "comment" {
					out[hc] = hc.Args[i+1]
				}
			}
		}
	}
	return out
}

// ruleTLS is the TLS client of `tcp-check connect ssl` rules: the server's
// TLS settings, as HAProxy prepares the server's SSL context for a proxy
// whose tcp-check rules use ssl (so `verify required` without a ca-file is
// refused the same way).
func ruleTLS(p *config.Proxy, s *config.Server, probe string) (*tls.Config, error) {
	if probe != "tcp-check" {
		return nil, nil
	}
	for _, r := range p.TCPCheck {
		if r.SSL {
			sc := *s
			sc.CheckSSL = true
			return proxy.CheckTLS(&sc)
		}
	}
	return nil, nil
}
