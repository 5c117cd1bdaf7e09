package admin

import (
	"strings"
	"testing"
)

// FuzzAddServer: any `add server` line parses without panic, and what is
// accepted is a valid address with a weight in HAProxy's range.
func FuzzAddServer(f *testing.F) {
	for _, s := range []string{
		"add server app/x 127.0.0.1:80",
		"add server app/x [::1]:8080 weight 3 maxconn 10 maxqueue 2 backup send-proxy-v2 id 7 enabled",
		"add server app/x 127.0.0.1:99999",
		"add server app/x! 1.2.3.4:1 cookie c",
		"add server app/x localhost:80 check",
		"add server app/x ::1 weight",
		"add server app/x [::1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		cmd, err := Parse(line)
		if err != nil || cmd.Op != OpAddServer {
			return
		}
		d, err := parseAddServer(cmd)
		if err != nil {
			return
		}
		if !d.Addr.IsValid() || d.Addr.Port() == 0 || d.Weight < 0 || d.Weight > 256 || d.MaxConn < 0 || d.MaxQueue < 0 || d.ID < 0 {
			t.Fatalf("%q accepted as %+v", line, d)
		}
		if _, bad := firstInvalid(d.Name); bad || strings.Contains(d.Name, "/") {
			t.Fatalf("%q: name %q accepted", line, d.Name)
		}
	})
}
