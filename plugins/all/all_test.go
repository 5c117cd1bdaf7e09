package all

import (
	"slices"
	"testing"

	"github.com/varde-lb/varde/core"
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
