package config

import (
	"strings"
	"testing"

	"github.com/varde-lb/varde/core/diag"
)

func TestSourceLines(t *testing.T) {
	for _, tc := range []struct {
		in, want, err string
	}{
		{"source 127.0.0.2", "127.0.0.2:0", ""},
		{"source 127.0.0.2:0", "127.0.0.2:0", ""},
		{"source 127.0.0.2:4000", "127.0.0.2:4000", ""},
		{"source ipv6@[2001:db8::2]", "[2001:db8::2]:0", ""},
		{"source ::ffff:127.0.0.2", "127.0.0.2:0", ""},
		{"source 0.0.0.0", "0.0.0.0:0", ""},
		{"source", "", "expects <addr>"},
		{"source host.example", "", "host name"},
		{"source unix@/x", "", "Unix socket"},
		{"source 127.0.0.2 usesrc clientip", "127.0.0.2:0 clientip", ""},
		{"source 0.0.0.0 usesrc client", "0.0.0.0:0 client", ""},
		{"source 0.0.0.0 usesrc 198.18.0.7:81", "0.0.0.0:0 addr 198.18.0.7:81", ""},
		{"source 0.0.0.0 usesrc", "", "expects"},
		{"source 0.0.0.0 usesrc hdr_ip(x-forwarded-for)", "", "hdr_ip"},
		{"source 0.0.0.0 usesrc name.example", "", "host name"},
		{"source 127.0.0.2 interface lo", "127.0.0.2:0 if=lo", ""},
		{"source 127.0.0.2 interface", "", "interface name"},
		{"source 127.0.0.2 interface 0123456789abcdef", "", "interface name"},
		{"source 127.0.0.2 bogus", "", "only supports"},
	} {
		d := &diag.List{}
		c := Parse("t.cfg", []byte("backend b\n "+tc.in+"\n server s 127.0.0.1:80\n"), nil, d)
		got := ""
		if b := c.Proxies[0]; b.Source != nil {
			got = b.Source.Addr.String()
			if b.Source.UseSrc != "" {
				got += " " + b.Source.UseSrc
			}
			if b.Source.UseAddr.IsValid() {
				got += " " + b.Source.UseAddr.String()
			}
			if b.Source.Interface != "" {
				got += " if=" + b.Source.Interface
			}
		}
		if tc.err != "" {
			if !d.HasErrors() || !strings.Contains(d.Err().Error(), tc.err) {
				t.Errorf("%q: errors %v, want %q", tc.in, d.Err(), tc.err)
			}
			continue
		}
		if d.HasErrors() || got != tc.want {
			t.Errorf("%q: %q (%v), want %q", tc.in, got, d.Err(), tc.want)
		}
	}
}

// FuzzDialOptions: server addresses and the source/socks4 option values
// never panic, and an accepted Unix address keeps HAProxy's limits.
func FuzzDialOptions(f *testing.F) {
	for _, s := range []string{"unix@/run/a.sock", "/x", "abns@n", "127.0.0.1:80", "[::1]:1", "127.0.0.2:0", "h:1-2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if a, err := parseServerAddress(s); err == nil && a.Unix != "" {
			if len(a.Unix) > maxAbnsName || (!a.Abstract && len(a.Unix) > maxUnixPath) || strings.IndexByte(a.Unix, 0) >= 0 {
				t.Fatalf("%q accepted as %q", s, a.Unix)
			}
		}
		if ap, err := parseSOCKS4Addr(s); err == nil && (!ap.IsValid() || ap.Port() == 0) {
			t.Fatalf("socks4 %q accepted as %v", s, ap)
		}
		d := &diag.List{}
		p := &parser{d: d, cfg: &Config{}, cur: &Proxy{}}
		p.parseSourceAddr(Token{Text: s}, "source")
	})
}
