package haproxydiff

import (
	"fmt"
	"os"
	"testing"

	"github.com/varde-lb/varde/core/testenv"
)

// TestVardeRoutesLikeHAProxy runs the same haproxy.cfg (every case above)
// under HAProxy and under the varde binary, sends each request to both and
// compares the backend server that answered: the whole engine, not only
// the balancers, must route like HAProxy.
func TestVardeRoutesLikeHAProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("starts haproxy and varde")
	}
	haproxy := testenv.LookTool(t, "haproxy", "haproxy")
	varde := testenv.VardeBinary(t)
	cs := cases()
	maxServers := 0
	for _, c := range cs {
		maxServers = max(maxServers, len(c.weights))
	}
	addrs := make([]string, maxServers)
	for i := range addrs {
		addrs[i] = backend(t, fmt.Sprintf("s%d", i+1))
	}
	token := fmt.Sprintf("both-%d", os.Getpid())
	ports := testenv.FreePorts(t, 2*len(cs))
	hPorts, hCfg, _ := writeConfig(t, cs, addrs, token, ports[:len(cs)])
	vPorts, vCfg, _ := writeConfig(t, cs, addrs, token, ports[len(cs):])
	_, hLog := testenv.Start(t, haproxy, "-f", hCfg, "-db")
	_, vLog := testenv.Start(t, varde, "run", "-f", vCfg)
	testenv.WaitListening(t, "haproxy", hLog, hPorts...)
	testenv.WaitListening(t, "varde", vLog, vPorts...)
	// When varde stops answering, the other cases would only wait for
	// their own timeouts: stop at the first unreachable request.
	unreachable := false
	for i, c := range cs {
		if unreachable {
			t.Fatal("varde stopped answering; remaining cases not run")
		}
		t.Run(c.name, func(t *testing.T) {
			hCount, vCount := map[string]int{}, map[string]int{}
			mismatches := 0
			for _, r := range c.reqs {
				h, err := send(hPorts[i], token, r)
				if err != nil {
					logs, _ := os.ReadFile(hLog)
					t.Fatalf("haproxy: request %+v: %v\n%s", r, err, logs)
				}
				v, err := send(vPorts[i], token, r)
				if err != nil {
					unreachable = true
					logs, _ := os.ReadFile(vLog)
					t.Fatalf("varde: request %+v: %v\n%s", r, err, logs)
				}
				hCount[h]++
				vCount[v]++
				if !c.counts && h != v {
					if mismatches++; mismatches <= 5 {
						t.Errorf("%s (host %s, src %v): HAProxy chose %s, varde %s", r.uri, r.host, r.src, h, v)
					}
				}
			}
			if mismatches > 0 {
				t.Errorf("%d of %d requests differ", mismatches, len(c.reqs))
			}
			if fmt.Sprint(hCount) != fmt.Sprint(vCount) {
				t.Errorf("per-server counts: HAProxy %v, varde %v", hCount, vCount)
			}
		})
	}
}
