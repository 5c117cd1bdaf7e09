package haproxydiff_test

import (
	"testing"

	"github.com/varde-lb/varde/core"
	_ "github.com/varde-lb/varde/plugins/all"
)

// TestDynamicServersPerAlgorithm: the algorithms that take `add server`
// are HAProxy 2.6's BE_LB_PROP_DYN ones (cfgparse.c): roundrobin, random,
// leastconn, first and consistent hashing; static-rr and map-based hashes
// refuse. TestDiffHAProxyDynServers (core/admin) checks HAProxy's answer.
func TestDynamicServersPerAlgorithm(t *testing.T) {
	for _, tc := range []struct {
		spec core.BalanceSpec
		want bool
	}{
		{core.BalanceSpec{Algorithm: "roundrobin"}, true},
		{core.BalanceSpec{Algorithm: "leastconn"}, true},
		{core.BalanceSpec{Algorithm: "first"}, true},
		{core.BalanceSpec{Algorithm: "random"}, true},
		{core.BalanceSpec{Algorithm: "static-rr"}, false},
		{core.BalanceSpec{Algorithm: "source"}, false},
		{core.BalanceSpec{Algorithm: "source", HashType: "consistent"}, true},
		{core.BalanceSpec{Algorithm: "uri"}, false},
		{core.BalanceSpec{Algorithm: "uri", HashType: "consistent"}, true},
		{core.BalanceSpec{Algorithm: "url_param", Args: []string{"id"}}, false},
		{core.BalanceSpec{Algorithm: "url_param", Args: []string{"id"}, HashType: "consistent"}, true},
		{core.BalanceSpec{Algorithm: "hdr", Param: "Host"}, false},
		{core.BalanceSpec{Algorithm: "hdr", Param: "Host", HashType: "consistent"}, true},
	} {
		b, err := core.NewBalancer(tc.spec)
		if err != nil {
			t.Fatalf("%+v: %v", tc.spec, err)
		}
		if got := core.AcceptsDynamicServers(b); got != tc.want {
			t.Errorf("%s hash-type %q: dynamic %v, want %v", tc.spec.Algorithm, tc.spec.HashType, got, tc.want)
		}
	}
}
