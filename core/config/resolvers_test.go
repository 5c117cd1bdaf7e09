package config

import (
	"net/netip"
	"os"
	"strings"
	"testing"

	"github.com/varde-lb/varde/core/diag"
)

// FuzzResolvers parses arbitrary resolvers bodies and server lines. What
// is accepted without error must be usable as is: every nameserver an IP
// with a port, unique ids, positive timeouts, a payload size in range;
// every server address an IP or a name, a fixed port or a port map, and
// every server naming a resolvers section that exists.
func FuzzResolvers(f *testing.F) {
	f.Add("nameserver a 127.0.0.1:53\nhold valid 1s\ntimeout resolve 2s\n", "srv.example:80 resolvers R init-addr libc,none")
	f.Add("nameserver a udp@[::1]:5353\naccepted_payload_size 1232\nresolve_retries 2\n", "0.0.0.0:+1")
	f.Add("nameserver a 10.0.0.1\nhold obsolete 0\n", "[::]:-3 resolve-prefer ipv4 resolve-net 10.0.0.0/8")
	f.Add("nameserver a tcp@1.2.3.4:53\n", "127.0.0.1 init-addr 10.0.0.1 resolve-opts allow-dup-ip")
	f.Fuzz(func(t *testing.T, body, server string) {
		d := &diag.List{}
		c := Parse("f.cfg", []byte("resolvers R\n"+body+"\nbackend b\n server s "+server+"\n server-template t 2 "+server+"\n"), nil, d)
		c.Validate(d)
		if d.HasErrors() {
			return
		}
		for _, r := range c.Resolvers {
			checkResolversSection(t, r)
		}
		for _, px := range c.Proxies {
			for _, s := range px.Servers {
				checkServerAddress(t, c, s)
			}
		}
	})
}

func checkResolversSection(t *testing.T, r *Resolvers) {
	ids := map[string]bool{}
	for _, ns := range r.Nameservers {
		if ids[ns.ID] || !ns.Addr.IsValid() || ns.Addr.Port() == 0 || ns.Addr.Addr().IsUnspecified() {
			t.Fatalf("nameserver %q %v accepted", ns.ID, ns.Addr)
		}
		ids[ns.ID] = true
	}
	if r.Resolve <= 0 || r.Retry <= 0 || r.Retries < 1 || r.PayloadSize < 512 || r.PayloadSize > 65535 || len(r.AllNameservers()) == 0 {
		t.Fatalf("section accepted with %+v", r)
	}
}

func checkServerAddress(t *testing.T, c *Config, s *Server) {
	a := s.Address
	if a.Addr.IsValid() == (a.Host != "") {
		t.Fatalf("server %q: address %+v is neither an IP nor a name", s.Name, a)
	}
	if a.PortMap && a.Port != 0 || !a.PortMap && a.Port == 0 {
		t.Fatalf("server %q: port %d with map %v", s.Name, a.Port, a.PortMap)
	}
	if s.Resolvers != "" && c.ResolverSection(s.Resolvers) == nil {
		t.Fatalf("server %q: unknown resolvers %q accepted", s.Name, s.Resolvers)
	}
	for _, m := range s.InitAddr {
		if _, err := netip.ParseAddr(m); err != nil && m != "libc" && m != "none" {
			t.Fatalf("server %q: init-addr %q accepted", s.Name, m)
		}
	}
	if strings.ContainsAny(s.Name, " \t") {
		t.Fatalf("server name %q", s.Name)
	}
}

// TestServerAddressForms reads the server address forms HAProxy 2.6
// accepts (and refuses) as it reads them.
func TestServerAddressForms(t *testing.T) {
	for _, tc := range []struct {
		in      string
		addr    string // Addr or Host
		port    uint16
		portMap bool
		offset  int
		err     bool
	}{
		{"10.0.0.1:80", "10.0.0.1:80", 80, false, 0, false},
		{"0.0.0.0:0", "0.0.0.0:0", 0, true, 0, false},
		{"*:8080", "0.0.0.0:8080", 8080, false, 0, false},
		{":80", "0.0.0.0:80", 80, false, 0, false},
		{"127.0.0.1", "127.0.0.1:0", 0, true, 0, false},
		{"127.0.0.1:", "127.0.0.1:0", 0, true, 0, false},
		{"127.0.0.1:+1000", "127.0.0.1:0", 0, true, 1000, false},
		{"[::1]:-1", "[::1]:0", 0, true, -1, false},
		{"[::]:443", "[::]:443", 443, false, 0, false},
		{"app.example:80", "app.example", 80, false, 0, false},
		{"app.example", "app.example", 0, true, 0, false},
		{"ipv4@10.0.0.1:80", "10.0.0.1:80", 80, false, 0, false},
		{"::", "", 0, false, 0, true}, // HAProxy: could not resolve address ':'
		{"10.0.0.1:+x", "", 0, false, 0, true},
		{"10.0.0.1:70000", "", 0, false, 0, true},
		{"bad name:80", "", 0, false, 0, true},
		{"_http._tcp.app.example", "", 0, false, 0, true}, // SRV: refused, not resolved as a name
		// Unix-domain servers: a socket path, never looked up as names
		// (the Unix path is reported in place of the address).
		{"unix@/run/php/php-fpm.sock", "unix:/run/php/php-fpm.sock", 0, false, 0, false},
		{"unix@php.sock", "unix:php.sock", 0, false, 0, false},
		{"/var/run/varnish.sock", "unix:/var/run/varnish.sock", 0, false, 0, false},
		{"abns@haproxy-peer", "abns:haproxy-peer", 0, false, 0, false},
		{"unix@", "", 0, false, 0, true},
		{"abns@", "", 0, false, 0, true},
		{"/" + strings.Repeat("a", 96), "unix:/" + strings.Repeat("a", 96), 0, false, 0, false},
		{"/" + strings.Repeat("a", 97), "", 0, false, 0, true}, // HAProxy: too long (max 97)
		{"abns@" + strings.Repeat("a", 107), "abns:" + strings.Repeat("a", 107), 0, false, 0, false},
		{"abns@" + strings.Repeat("a", 108), "", 0, false, 0, true},
	} {
		a, err := parseServerAddress(tc.in)
		if (err != nil) != tc.err {
			t.Errorf("%q: error %v, want error %v", tc.in, err, tc.err)
			continue
		}
		if err != nil {
			continue
		}
		got := a.Host
		switch {
		case a.Addr.IsValid():
			got = a.Addr.String()
		case a.Abstract:
			got = "abns:" + a.Unix
		case a.Unix != "":
			got = "unix:" + a.Unix
		}
		if got != tc.addr || a.Port != tc.port || a.PortMap != tc.portMap || a.PortOffset != tc.offset {
			t.Errorf("%q: %s port %d map %v offset %d, want %s %d %v %d", tc.in, got, a.Port, a.PortMap, a.PortOffset, tc.addr, tc.port, tc.portMap, tc.offset)
		}
	}
}

// TestDefaultResolvers: as HAProxy 2.6, `resolvers default` exists
// without being declared when resolv.conf names nameservers; without
// any, a server naming it is refused.
func TestDefaultResolvers(t *testing.T) {
	dir := t.TempDir()
	old := resolvConfPath
	defer func() { resolvConfPath = old }()
	const src = "backend b\n server s a.example:80 resolvers default init-addr none\n"
	for _, tc := range []struct {
		conf string
		ok   bool
	}{
		{"search x\nnameserver 10.0.0.53\nnameserver fe80::1%eth0\nnameserver ::1\nnameserver ::1\n", true},
		{"search x\n", false},
	} {
		resolvConfPath = dir + "/resolv.conf"
		if err := os.WriteFile(resolvConfPath, []byte(tc.conf), 0o644); err != nil {
			t.Fatal(err)
		}
		d := &diag.List{}
		c := Parse("f.cfg", []byte(src), nil, d)
		c.Validate(d)
		if d.HasErrors() == tc.ok {
			t.Fatalf("resolv.conf %q: errors %v, want ok %v", tc.conf, d.Items(), tc.ok)
		}
		if tc.ok {
			r := c.ResolverSection("default")
			if r == nil || len(r.AllNameservers()) != 2 || r.AllNameservers()[1].Addr.String() != "[::1]:53" || r.AllNameservers()[1].ID != "::1" {
				t.Fatalf("default section %+v", r)
			}
		}
	}
}
