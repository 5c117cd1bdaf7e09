package proxy

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/varde-lb/varde/core/config"
	"github.com/varde-lb/varde/core/testenv"
)

// TestPreferLastServer: on one kept-alive client connection, roundrobin
// alternates the servers; with option prefer-last-server every request
// goes to the server of the kept connection; a hashing algorithm ignores
// the option (HAProxy 2.6 assign_server).
func TestPreferLastServer(t *testing.T) {
	addrs := namedServers(t, "a", "b")
	for _, tc := range []struct {
		name, lines string
		same        bool
	}{
		{"roundrobin", "balance roundrobin\n", false},
		{"roundrobin prefer-last", "balance roundrobin\n    option prefer-last-server\n", true},
		{"leastconn prefer-last", "balance leastconn\n    option prefer-last-server\n", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := fmt.Sprintf("defaults\n    mode http\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n"+
				"frontend f\n    bind 127.0.0.1:%d\n    default_backend b\nbackend b\n    %s    server a %s\n    server b %s\n",
				testenv.FreePort(t), tc.lines, addrs["a"], addrs["b"])
			set, d := config.LoadFiles(writeCfg(t, src), nil)
			if d.HasErrors() {
				t.Fatal(d.Err())
			}
			pcfg, err := FromConfig(set.HAProxy)
			if err != nil {
				t.Fatal(err)
			}
			pcfg.Frontends[0].Binds = nil
			_, addr := startEngine(t, pcfg)
			tr := &http.Transport{MaxConnsPerHost: 1, MaxIdleConnsPerHost: 1}
			defer tr.CloseIdleConnections()
			cl := &http.Client{Transport: tr}
			var got []string
			for i := 0; i < 4; i++ {
				resp, err := cl.Get("http://" + addr + "/")
				if err != nil {
					t.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				got = append(got, resp.Header.Get("X-Server"))
			}
			all := strings.Count(strings.Join(got, ""), got[0]) == len(got)
			if all != tc.same {
				t.Fatalf("servers %v, want same=%v", got, tc.same)
			}
		})
	}
}
