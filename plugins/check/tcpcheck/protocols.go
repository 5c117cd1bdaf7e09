package tcpcheck

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/varde-lb/varde/core/health"
)

// The protocol checks are tcp-check rule sets, built as HAProxy 2.6 builds
// them (src/tcpcheck.c, proxy_parse_*_opt): same requests on the wire,
// same step numbers, statuses and texts.
func init() {
	for _, pc := range []struct{ option string }{
		{"redis-check"}, {"smtpchk"}, {"pgsql-check"}, {"mysql-check"}, {"ldap-check"},
	} {
		option := pc.option
		health.RegisterProbeType(health.ProbeType{Name: option, Option: option,
			Parse: func(spec health.ProbeSpec) (health.BuildProbe, error) {
				p, err := Protocol(option, spec.OptionArgs)
				if err != nil {
					return nil, err
				}
				return func() health.Probe { return p }, nil
			}})
	}
}

// Protocol builds the rule set of `option NAME ARGS...`.
func Protocol(name string, args []string) (*Probe, error) {
	var steps []step
	var err error
	switch name {
	case "redis-check":
		steps = redis()
	case "smtpchk":
		steps = smtp(args)
	case "pgsql-check":
		steps, err = pgsql(args)
	case "mysql-check":
		steps, err = mysql(args)
	case "ldap-check":
		steps = ldap()
	default:
		return nil, fmt.Errorf("tcpcheck: unknown protocol check %q", name)
	}
	if err != nil {
		return nil, err
	}
	p := &Probe{proto: true, steps: steps}
	if p.steps[0].Action != "connect" {
		imp := step{implicit: true}
		imp.Action, imp.Default = "connect", true
		p.steps = append([]step{imp}, p.steps...)
	}
	for i := range p.steps {
		if p.steps[i].re == nil && (p.steps[i].Match == "rstring" || p.steps[i].Match == "rbinary") {
			s, err := compileStep(p.steps[i].TCPCheckRule)
			if err != nil {
				return nil, err
			}
			p.steps[i].re = s.re
		}
	}
	return p, nil
}

func connectDefault(index int) step {
	s := step{}
	s.Action, s.Index, s.Default, s.Linger = "connect", index, true, true
	return s
}

func send(index int, data []byte) step {
	s := step{}
	s.Action, s.Index, s.Data = "send", index, string(data)
	return s
}

func expect(index int, match, pattern string, minRecv int, errStatus string) step {
	s := step{}
	s.Action, s.Index, s.Match, s.Pattern, s.MinRecv, s.ErrorStatus = "expect", index, match, pattern, minRecv, errStatus
	if match == "string" {
		s.pat = []byte(pattern)
	}
	return s
}

// firstLine is HAProxy's res.payload(off,0),cut_crlf (with ltrim(' ')
// when trim is set): the response from off up to the first CR or LF.
func firstLine(off int, trim bool) func([]byte) string {
	return func(b []byte) string {
		if off > len(b) {
			return ""
		}
		b = b[off:]
		if trim {
			b = bytes.TrimLeft(b, " ")
		}
		if i := bytes.IndexAny(b, "\r\n"); i >= 0 {
			b = b[:i]
		}
		return string(b)
	}
}

// smtpCode is res.payload(0,3) as a number: the SMTP reply code.
func smtpCode(b []byte) int {
	n := 0
	for i := 0; i < 3 && i < len(b); i++ {
		if b[i] < '0' || b[i] > '9' {
			return 0
		}
		n = n*10 + int(b[i]-'0')
	}
	return n
}

func redis() []step {
	e := expect(1, "string", "+PONG\r\n", -1, "L7STS")
	e.onErr = firstLine(0, false)
	e.OnSuccess = "Redis server is ok"
	return []step{send(0, []byte("*1\r\n$4\r\nPING\r\n")), e}
}

// smtp is HAProxy 2.6.12's smtpchk (later than 2.6.0): a multi-line
// greeting reply is accepted, and a QUIT ends the session cleanly.
func smtp(args []string) []step {
	cmd := "HELO localhost"
	if len(args) >= 2 && (args[0] == "EHLO" || args[0] == "HELO") {
		cmd = args[0] + " " + args[1]
	}
	banner := expect(1, "rstring", "^[0-9]{3}[ \r]", 4, "L7RSP")
	banner.onErr = firstLine(0, false)
	greet := expect(2, "rstring", "^2[0-9]{2}[ \r]", 4, "L7STS")
	greet.onErr, greet.code = firstLine(4, true), smtpCode
	reply := expect(4, "rstring", "^(2[0-9]{2}-[^\r]*\r\n)*2[0-9]{2}[ \r]", -1, "L7STS")
	reply.onErr, reply.onOK, reply.code = firstLine(4, true), firstLine(4, true), smtpCode
	bye := expect(6, "rstring", "^2[0-9]{2}[- \r]", 4, "L7STS")
	bye.onErr, bye.onOK, bye.code = firstLine(4, true), firstLine(4, true), smtpCode
	return []step{connectDefault(0), banner, greet, send(3, []byte(cmd+"\r\n")), reply, send(5, []byte("QUIT\r\n")), bye}
}

func pgsql(args []string) ([]step, error) {
	if len(args) < 2 || args[0] != "user" {
		return nil, fmt.Errorf("option pgsql-check expects 'user <username>'")
	}
	user := args[1]
	req := binary.BigEndian.AppendUint32(nil, uint32(15+len(user)))
	req = append(req, 0, 3, 0, 0)
	req = append(req, "user\x00"...)
	req = append(req, user...)
	req = append(req, 0, 0)
	notErr := expect(2, "rstring", "^E", 5, "L7RSP")
	notErr.Negate = true
	notErr.onErr = func(b []byte) string { // res.payload(6,0), up to a NUL
		if len(b) <= 6 {
			return ""
		}
		return string(b[6:])
	}
	auth := expect(3, "rbinary", "^52000000(08|0A|0C)000000(00|02|03|04|05|06)", 9, "L7STS")
	auth.OnSuccess, auth.OnError = "PostgreSQL server is ok", "PostgreSQL unknown error"
	return []step{connectDefault(0), send(1, req), notErr, auth}, nil
}

func ldap() []step {
	req := []byte{0x30, 0x0C, 0x02, 0x01, 0x01, 0x60, 0x07, 0x02, 0x01, 0x03, 0x04, 0x00, 0x80, 0x00}
	ber := expect(1, "rbinary", "^30", 14, "")
	ber.OnError = "Not LDAPv3 protocol"
	bind := expect(2, "", "", -1, "")
	bind.custom = ldapBindResponse
	return []step{send(0, req), ber, bind}
}
