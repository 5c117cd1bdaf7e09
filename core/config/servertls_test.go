package config

import (
	"strings"
	"testing"
)

const tlsFront = "frontend f\n bind :80\n default_backend b\n"

// TestServerTLSRefusals: what HAProxy refuses at start-up for a TLS server
// is a check error at the server line, with the way out as hint.
func TestServerTLSRefusals(t *testing.T) {
	cases := []struct {
		name, src string
		want      string // "" = valid
	}{
		{"ssl verifies by default: no CA is an error", "backend b\n server a 1.2.3.4:443 ssl\n",
			"t.cfg:7: error: server verify: server \"a\": verify is enabled by default but no CA file specified (hint: add `verify none`"},
		{"explicit verify required without CA", "backend b\n server a 1.2.3.4:443 ssl verify required\n",
			"t.cfg:7: error: server verify: server \"a\": verify is enabled but no CA file specified"},
		{"verify none", "backend b\n server a 1.2.3.4:443 ssl verify none\n", ""},
		{"ca-file", "backend b\n server a 1.2.3.4:443 ssl ca-file /ca.pem\n", ""},
		{"ssl-server-verify none", "global\n ssl-server-verify none\n" + "backend b\n server a 1.2.3.4:443 ssl\n", ""},
		{"ssl-server-verify none, verify required on the line", "global\n ssl-server-verify none\nbackend b\n server a 1.2.3.4:443 ssl verify required\n",
			"verify is enabled but no CA file specified"},
		{"default-server ssl inherited", "backend b\n default-server ssl\n server a 1.2.3.4:443\n", "verify is enabled by default"},
		{"no-ssl undoes default-server ssl", "backend b\n default-server ssl\n server a 1.2.3.4:443 no-ssl\n", ""},
		{"check-ssl verifies too", "backend b\n server a 1.2.3.4:443 check check-ssl\n", "verify is enabled by default"},
		{"check-ssl without check is inert", "backend b\n server a 1.2.3.4:443 check-ssl\n", ""},
		{"alpn h2 refused in mode http", "backend b\n mode http\n server a 1.2.3.4:443 ssl verify none alpn h2,http/1.1\n",
			"server alpn: server \"a\": protocol \"h2\" cannot be spoken to a server in mode http (hint: write alpn http/1.1: HTTP/2 to servers is not built)"},
		{"alpn http/1.1", "backend b\n mode http\n server a 1.2.3.4:443 ssl verify none alpn http/1.1\n", ""},
		{"alpn h2 in mode tcp", "backend b\n mode tcp\n server a 1.2.3.4:443 ssl verify none alpn h2\n", ""},
		{"SSLv3", "backend b\n server a 1.2.3.4:443 ssl verify none ssl-min-ver SSLv3\n", "SSLv3 is not available"},
		{"bad version", "backend b\n server a 1.2.3.4:443 ssl verify none ssl-max-ver TLSv2\n", "invalid TLS version \"TLSv2\""},
		{"bad sni expression", "backend b\n server a 1.2.3.4:443 ssl verify none sni req.hdrx(host)\n", "server sni: unknown fetch \"req.hdrx\""},
		{"bad default option", "global\n ssl-default-server-options force-sslv3\nbackend b\n server a 1.2.3.4:443 ssl verify none\n",
			"ssl-default-server-options: option \"force-sslv3\" is not supported"},
		{"bad ssl-server-verify", "global\n ssl-server-verify optional\nbackend b\n server a 1.2.3.4:443 ssl verify none\n", "invalid ssl-server-verify \"optional\""},
		{"ciphersuites refused", "backend b\n server a 1.2.3.4:443 ssl verify none ciphersuites TLS_AES_128_GCM_SHA256\n", "server ciphersuites"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src := tc.src
			front := tlsFront
			if strings.Contains(src, "mode http") {
				front += " mode http\n"
			}
			if strings.HasPrefix(src, "global") {
				i := strings.Index(src, "backend")
				src = src[:i] + front + src[i:]
			} else {
				src = "global\n maxconn 10\n" + front + src
			}
			_, d := load(t, src)
			var errs []string
			for _, e := range errorsOf(d) {
				errs = append(errs, e.String())
			}
			all := strings.Join(errs, "\n")
			if tc.want == "" {
				if all != "" {
					t.Fatalf("unexpected errors:\n%s", all)
				}
				return
			}
			if !strings.Contains(all, tc.want) {
				t.Fatalf("errors:\n%s\nwant one containing %q", all, tc.want)
			}
		})
	}
}

// TestServerTLSPaths: ca-base and crt-base prefix relative files, and a
// server inherits the global defaults it does not override.
func TestServerTLSPaths(t *testing.T) {
	src := "global\n ca-base /ca\n crt-base /crt\n ssl-default-server-ciphers AES128-SHA\n ssl-default-server-options no-tlsv12\n" + tlsFront +
		"backend b\n default-server ssl ca-file root.pem\n server a 1.2.3.4:443 crt c.pem crl-file /abs.crl\n server z 1.2.3.4:443 ca-file /x.pem ciphers AES256-SHA\n"
	c, d := load(t, src)
	if errs := errorsOf(d); len(errs) > 0 {
		t.Fatal(errs)
	}
	a, z := c.Backend("b").Servers[0], c.Backend("b").Servers[1]
	if a.CAFile != "/ca/root.pem" || a.Crt != "/crt/c.pem" || a.CRLFile != "/abs.crl" || a.Ciphers != "AES128-SHA" {
		t.Fatalf("server a: %+v", a.ServerOptions)
	}
	if z.CAFile != "/x.pem" || z.Ciphers != "AES256-SHA" || strings.Join(z.DefaultTLSOptions, " ") != "no-tlsv12" {
		t.Fatalf("server z: %+v", z.ServerOptions)
	}
}

func TestChecksUseTLS(t *testing.T) {
	for _, tc := range []struct {
		o    ServerOptions
		want bool
	}{
		{ServerOptions{}, false},
		{ServerOptions{SSL: true}, true},
		{ServerOptions{SSL: true, Port: 8080}, false},
		{ServerOptions{SSL: true, Addr: "10.0.0.1"}, false},
		{ServerOptions{CheckSSL: true, Port: 8443}, true},
	} {
		if got := tc.o.ChecksUseTLS(); got != tc.want {
			t.Errorf("%+v: ChecksUseTLS %v, want %v", tc.o, got, tc.want)
		}
	}
}
