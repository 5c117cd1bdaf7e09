package persist_test

import (
	"testing"

	"github.com/varde-lb/varde/core/persist"
)

func TestResponseField(t *testing.T) {
	srv := servers()[0]
	for _, tc := range []struct {
		cfg         persist.Config
		name, value string
		want        string // replacement lines
		handled     bool
	}{
		{persist.Config{Name: "SRV", Mode: "prefix"}, "Set-Cookie", "SRV=abc; Path=/", "Set-Cookie: SRV=" + srv.Cookie + "~abc; Path=/\r\n", true},
		{persist.Config{Name: "SRV", Mode: "rewrite"}, "set-cookie", "SRV=x", "set-cookie: SRV=" + srv.Cookie + "\r\n", true},
		{persist.Config{Name: "SRV", Mode: "rewrite"}, "Set-Cookie", "OTHER=x", "", false},
		{persist.Config{Name: "SRV", Mode: "rewrite"}, "X-Srv", "SRV=x", "", false},
		{persist.Config{Name: "SRV", Mode: "insert"}, "Set-Cookie", "SRV=app", "", true}, // removed
		{persist.Config{Name: "SRV", Mode: "insert", Preserve: true}, "Set-Cookie", "SRV=app", "", false},
		{persist.Config{Name: "SRV"}, "Set-Cookie", "SRV=app", "", false}, // passive
	} {
		c, err := persist.New(tc.cfg)
		if err != nil {
			t.Fatal(err)
		}
		got, handled := c.ResponseField(nil, []byte(tc.name), []byte(tc.value), srv)
		if string(got) != tc.want || handled != tc.handled {
			t.Errorf("%+v %s: %s: got %q %v, want %q %v", tc.cfg.Mode, tc.name, tc.value, got, handled, tc.want, tc.handled)
		}
	}
}

func TestResponseFieldsPreserve(t *testing.T) {
	srv := servers()[0]
	c, err := persist.New(persist.Config{Name: "SRV", Mode: "insert", Preserve: true})
	if err != nil {
		t.Fatal(err)
	}
	head := "HTTP/1.1 200 OK\r\nset-cookie: SRV=; Max-Age=0\r\n"
	if got := c.ResponseFields([]byte(head), cookieReq(""), 200, srv, false); string(got) != head {
		t.Errorf("server set the cookie: got %q, want the head unchanged", got)
	}
	head = "HTTP/1.1 200 OK\r\nSet-Cookie: other=1\r\n"
	if got := string(c.ResponseFields([]byte(head), cookieReq(""), 200, srv, false)); got != head+"Set-Cookie: SRV="+srv.Cookie+"; path=/\r\n" {
		t.Errorf("server did not set it: got %q", got)
	}
}
