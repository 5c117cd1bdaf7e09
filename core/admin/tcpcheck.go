package admin

import (
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
