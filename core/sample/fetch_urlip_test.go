package sample

import (
	"net/netip"
	"testing"
)

func TestURLAddr(t *testing.T) {
	cases := []struct {
		uri  string
		ip   string // "" = no sample
		port uint16
	}{
		{"http://192.168.1.2/x", "192.168.1.2", 80},
		{"HTTPS://10.0.0.1/", "10.0.0.1", 443},
		{"http://10.0.0.1:8080/a?b", "10.0.0.1", 8080},
		{"http://10.0.0.1:/", "10.0.0.1", 0},
		{"http://10.0.0.1:70000/", "10.0.0.1", 4464}, // the low 16 bits, as htons
		{"http://10.0.0.1x/", "10.0.0.1", 80},        // the address ends at the first other byte
		{"http://010.0.0.1/", "10.0.0.1", 80},
		{"http://10.0.0/", "", 0},
		{"http://10.0.0.1.5/", "", 0},
		{"http://256.0.0.1/", "", 0},
		{"http://1..2.3/", "", 0},
		{"http://[::1]:80/", "", 0},
		{"http://user@10.0.0.1/", "", 0},
		{"http://www.example/", "", 0},
		{"ftp://10.0.0.1/", "", 0},
		{"xhttp://10.0.0.1/", "", 0},
		{"/a?u=http://10.0.0.1/", "", 0}, // the scheme is "/a?u=http"
		{"/plain", "", 0},
		{"", "", 0},
	}
	for _, c := range cases {
		ip, port, ok := URLAddr([]byte(c.uri))
		if (c.ip != "") != ok {
			t.Errorf("%q: ok %v, want %v", c.uri, ok, c.ip != "")
			continue
		}
		if ok && (ip != netip.MustParseAddr(c.ip) || port != c.port) {
			t.Errorf("%q: %v:%d, want %s:%d", c.uri, ip, port, c.ip, c.port)
		}
	}
}

// FuzzURLAddr: any target parses without panicking, and an address found
// is printed back at the position it was read from.
func FuzzURLAddr(f *testing.F) {
	for _, s := range []string{"http://1.2.3.4:5/", "https://255.255.255.255", "http://1.2.3.4.5", "http://[::1]/", "/x"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		ip, _, ok := URLAddr(b)
		if ok && !ip.Is4() {
			t.Fatalf("%q: %v is not IPv4", b, ip)
		}
	})
}
