package admin_test

import (
	"fmt"
	"net/http"
	"testing"
)

// TestStatsPageObeysFrontendRules: the frontend's http-request rules run
// before `stats uri` answers, as in HAProxy, so a rule restricting the
// page (deny by path or source) holds for it; a request the rules accept
// still gets the page. Compared with HAProxy on the same configuration.
func TestStatsPageObeysFrontendRules(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	lbs := startPair(t, func(sock string, port int) string {
		return fmt.Sprintf(`global
    stats socket %s level admin
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend web
    bind 127.0.0.1:%d
    stats enable
    stats uri /stats
    http-request deny if { path_beg /stats } { req.hdr(x-outside) -m found }
    default_backend app
backend app
    server s1 127.0.0.1:1
`, sock, port)
	})
	for _, l := range lbs {
		for _, tc := range []struct {
			outside bool
			want    int
		}{{true, 403}, {false, 200}} {
			req, _ := http.NewRequest("GET", fmt.Sprintf("http://127.0.0.1:%d/stats", l.web), nil)
			if tc.outside {
				req.Header.Set("X-Outside", "1")
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatalf("%s: %v", l.name, err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Errorf("%s: stats page with X-Outside=%v: status %d, want %d", l.name, tc.outside, resp.StatusCode, tc.want)
			}
		}
	}
}
