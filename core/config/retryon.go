package config

import (
	"strings"

	"github.com/varde-lb/varde/core/diag"
)

// RetryOnKeywords are the failure kinds `retry-on` accepts besides status
// codes, as HAProxy 2.6 spells them.
var RetryOnKeywords = []string{"none", "conn-failure", "empty-response", "junk-response",
	"response-timeout", "0rtt-rejected", "all-retryable-errors"}

// RetryOnStatuses are the HTTP status codes `retry-on` accepts (HAProxy
// 2.6's list: anything else is refused there too).
var RetryOnStatuses = []string{"401", "403", "404", "408", "425", "500", "501", "502", "503", "504"}

// parseRetryOn reads `retry-on KEYWORD...`: the list replaces any earlier
// one (HAProxy: "not cumulative"); `none` must stand alone.
func (p *parser) parseRetryOn(kwPos diag.Pos, args []Token) {
	if len(args) == 0 {
		p.d.Errorf(kwPos, "retry-on", "retry-on conn-failure empty-response 503 ...", "retry-on needs at least one keyword")
		return
	}
	valid := append(append([]string(nil), RetryOnKeywords...), RetryOnStatuses...)
	out := make([]string, 0, len(args))
	for _, a := range args {
		w := a.Text // case-sensitive, as HAProxy's strcmp
		if !contains(valid, w) {
			p.d.Errorf(a.Pos, "retry-on", hintNearest(w, valid, strings.Join(valid, ", ")), "unknown retry-on keyword %q", a.Text)
			return
		}
		if w == "none" && len(args) > 1 {
			p.d.Errorf(a.Pos, "retry-on", "write `retry-on none` alone", "`none` cannot be combined with other keywords")
			return
		}
		out = append(out, w)
	}
	p.cur.RetryOn = out
}
