package tcpcheck

import (
	"testing"

	"github.com/varde-lb/varde/core/config"
	"github.com/varde-lb/varde/core/diag"
	"github.com/varde-lb/varde/core/health"
)

// FuzzTCPCheckLine parses arbitrary tcp-check and check option lines: the
// parser must not panic, and whatever it accepts the engine compiles.
func FuzzTCPCheckLine(f *testing.F) {
	for _, s := range []string{
		`tcp-check send PING\r\n`, `tcp-check send-binary 2a310d0a comment x`,
		`tcp-check expect min-recv 4 error-status L7STS ! rstring ^-ERR`,
		`tcp-check expect rbinary ^30(0C|0D)`, `tcp-check connect port 6443 addr ::1 send-proxy linger`,
		`tcp-check comment "step one"`, `option smtpchk EHLO a`, `option mysql-check user u pre-41`,
		`option pgsql-check user p`, `tcp-check expect string`, `tcp-check expect binary 0`,
		`http-check connect port 8080 addr 10.0.0.1 send-proxy`, `http-check comment "x y"`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		src := "backend b\n    option tcp-check\n    " + line + "\n    server s 127.0.0.1:1 check\n"
		d := &diag.List{}
		c := config.Parse("f.cfg", []byte(src), func(string) string { return "" }, d)
		if d.HasErrors() || len(c.Proxies) == 0 {
			return
		}
		px := c.Proxies[0]
		var rules []health.TCPCheckRule
		for _, r := range px.TCPCheck {
			rules = append(rules, r.TCPCheckRule)
		}
		if _, err := Compile(rules, false); err != nil {
			t.Fatalf("accepted %q but the engine refuses it: %v", line, err)
		}
		for _, name := range []string{"smtpchk", "mysql-check", "pgsql-check", "redis-check", "ldap-check"} {
			if o := px.Option(name); o != nil {
				if _, err := Protocol(name, o.Args); err != nil {
					t.Fatalf("accepted %q but the engine refuses it: %v", line, err)
				}
			}
		}
	})
}

// FuzzMatchers runs the expect matchers and the packet parsers on
// arbitrary server bytes: no panic, and a packet parser that asks for more
// data never does so once the stream has ended.
func FuzzMatchers(f *testing.F) {
	f.Add([]byte("+PONG\r\n"), "^\\+PONG", true)
	f.Add([]byte(mysqlHandshake("8.0")), "^0A", false)
	f.Add([]byte(mysqlError(1045, "denied")), "", true)
	f.Add([]byte("\x30\x84\x00\x00\x00\x0c\x02\x01\x01\x61\x84\x00\x00\x00\x07\x0a\x01\x00"), "^30", false)
	f.Add([]byte("220 ok\r\n"), "^2", true)
	f.Fuzz(func(t *testing.T, buf []byte, pattern string, last bool) {
		for _, m := range []string{"string", "rstring", "binary", "rbinary"} {
			r := health.TCPCheckRule{Action: "expect", Match: m, Pattern: pattern, MinRecv: -1}
			if s, err := compileStep(r); err == nil {
				s.match(buf)
				s.short(buf)
			}
		}
		for _, off := range []int{0, 4, 6, 100} {
			firstLine(off, true)(buf)
		}
		smtpCode(buf)
		descText(string(buf))
		for _, v := range []verdict{mysqlPacket(buf, 0, last), ldapBindResponse(buf, last)} {
			if v.wait && last {
				t.Fatalf("waits for more data after the end of the stream")
			}
			if v.wait && v.ok {
				t.Fatalf("both waiting and done")
			}
		}
		if len(buf) >= 3 {
			mysqlPacket(buf, 4+int(buf[0])|int(buf[1])<<8|int(buf[2])<<16, last)
		}
	})
}
