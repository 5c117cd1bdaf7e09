package config

import (
	"errors"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/core/diag"
	"github.com/varde-lb/varde/core/health"
)

// CheckProbes asks the probe plugins to judge the check settings they own,
// each at its line: an `http-check expect rstring` pattern the http probe
// cannot compile is refused by `varde check`, not at start.
func (c *Config) CheckProbes(d *diag.List) {
	seen := map[*HTTPCheck]bool{}
	for _, px := range c.Proxies {
		for _, hc := range px.HTTPCheck {
			if hc.Action != "expect" || seen[hc] {
				continue
			}
			seen[hc] = true
			e := health.Expect{Negate: hc.Negate, Kind: hc.Match, Pattern: hc.Pattern}
			_, err := health.ParseProbe(health.ProbeSpec{Type: "http", HTTP: health.HTTPSpec{Expect: []health.Expect{e}}})
			if err == nil {
				continue
			}
			hint := "see the http probe's accepted forms in docs/health.md"
			var ae *core.ArgError
			if errors.As(err, &ae) {
				err, hint = errors.New(ae.Msg), ae.Hint
			}
			d.Errorf(hc.Pos, "http-check expect", hint, "%v", err)
		}
	}
}
