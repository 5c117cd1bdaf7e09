package all

import (
	"slices"
	"testing"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/core/health"
)

// TestBalancersRegistered checks every HAProxy algorithm varde implements
// is linked in under HAProxy's keyword.
func TestBalancersRegistered(t *testing.T) {
	names := core.BalancerNames()
	for _, want := range []string{"roundrobin", "static-rr", "leastconn", "first", "source", "uri", "url_param", "hdr", "random"} {
		if !slices.Contains(names, want) {
			t.Errorf("balancer %q not registered (have %v)", want, names)
		}
	}
}

// TestProbesOwnTheirOptions: the option that selects a probe is declared
// by the probe, not by the code that starts checks.
func TestProbesOwnTheirOptions(t *testing.T) {
	for opt, want := range map[string]string{"httpchk": "http", "ssl-hello-chk": "ssl-hello"} {
		if got, ok := health.ProbeForOption(opt); !ok || got != want {
			t.Errorf("option %s selects %q, want %q", opt, got, want)
		}
	}
	for _, name := range []string{"tcp", "http", "ssl-hello", "agent"} {
		if !slices.Contains(health.ProbeNames(), name) {
			t.Errorf("probe %s not linked", name)
		}
	}
}

// TestEveryAlgorithmHasAUsage: hints need it.
func TestEveryAlgorithmHasAUsage(t *testing.T) {
	for _, n := range core.BalancerNames() {
		if a, _ := core.LookupAlgorithm(n); a.Usage == "" {
			t.Errorf("balance %s registered without a usage", n)
		}
	}
}
