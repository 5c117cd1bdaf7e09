package config

import "github.com/varde-lb/varde/core"

// balanceNeedsHTTP reports whether the backend's algorithm reads the HTTP
// request (uri, url_param, hdr): its plugin says so when it registers, so
// the mode-tcp warning needs no list of algorithm names here.
func balanceNeedsHTTP(b *core.BalanceSpec) bool {
	a, ok := core.LookupAlgorithm(b.Algorithm)
	return ok && a.HTTP
}
