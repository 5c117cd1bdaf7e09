package config

import (
	"strconv"
	"strings"
	"time"
)

// serverOptionArgs lists server options; true when the option takes a value.
var serverOptionArgs = map[string]bool{
	"weight": true, "maxconn": true, "maxqueue": true, "minconn": true, "inter": true, "fastinter": true,
	"downinter": true, "rise": true, "fall": true, "port": true, "addr": true, "cookie": true,
	"slowstart": true, "verify": true, "ca-file": true, "sni": true, "id": true, "observe": true,
	"error-limit": true, "on-error": true, "on-marked-down": true, "on-marked-up": true,
	"agent-port": true, "agent-inter": true, "agent-addr": true, "agent-send": true, "redir": true,
	"resolvers": true, "resolve-prefer": true, "resolve-net": true, "resolve-opts": true, "init-addr": true,
	"backup": false, "disabled": false, "enabled": false, "check": false, "ssl": false, "check-ssl": false,
	"send-proxy": false, "send-proxy-v2": false, "agent-check": false,
	"source": true, "socks4": true, "check-via-socks4": false, "usesrc": true, "interface": true, // dial.go
	"no-check": false, "no-backup": false, "no-ssl": false, "no-send-proxy": false, "no-send-proxy-v2": false, "no-agent-check": false, "no-sslv3": false,
}

// unsupportedServerOptions are real HAProxy server options varde refuses.
var unsupportedServerOptions = map[string]string{
	"track":             "give the server its own check",
	"proto":             "not available in varde",
	"check-send-proxy":  "health checks send the PROXY header only with send-proxy[-v2] and no addr/port; remove check-send-proxy",
	"proxy-v2-options":  "varde's send-proxy-v2 sends addresses only (no TLVs); remove proxy-v2-options",
	"send-proxy-v2-ssl": "varde's send-proxy-v2 sends addresses only (no SSL TLV)", "send-proxy-v2-ssl-cn": "varde's send-proxy-v2 sends addresses only (no SSL TLV)",
	"pool-max-conn":    "not available in varde",
	"pool-purge-delay": "not available in varde", "max-reuse": "not available in varde",
	"tfo": "not available in varde", "namespace": "not available in varde",
	"ws": "not available in varde", "check-proto": "not available in varde", "non-stick": "not available in varde: a non-stick server would be stored by stick rules",
	"redir-scheme": "not available in varde",
	"ciphersuites": "TLS 1.3 cipher suites to servers are Go's fixed set; remove the option",
}

func (p *parser) parseServer(l Line, args []Token) {
	const key = "server"
	if len(args) < 2 {
		p.d.Errorf(l.Pos, key, "server NAME ADDR:PORT [options]", "server needs a name and an address")
		return
	}
	s := &Server{Pos: l.Pos, Name: args[0].Text}
	if !validProxyName(s.Name) {
		p.d.Errorf(args[0].Pos, key, "use letters, digits, '-', '_', '.' and ':'", "invalid server name %q", s.Name)
	}
	a, err := parseServerAddress(args[1].Text)
	if err != nil {
		hint := "write IP:PORT or HOSTNAME:PORT, e.g. 10.0.0.1:80"
		if isUnixServerAddress(args[1].Text) {
			hint = "write unix@/PATH, /PATH or abns@NAME"
		}
		p.d.Errorf(args[1].Pos, key, hint, "%v", err)
		return
	}
	s.Address = a
	if p.cur.DefaultServer != nil {
		s.ServerOptions = *p.cur.DefaultServer
		if p.cur.DefaultServer.Weight != nil {
			w := *p.cur.DefaultServer.Weight
			s.Weight = &w
		}
	}
	p.parseServerOptions(&s.ServerOptions, args[2:], false)
	p.serverTLSDefaults(&s.ServerOptions)
	p.checkServerDial(s) // dial.go
	p.cur.Servers = append(p.cur.Servers, s)
}

func (p *parser) parseServerOptions(o *ServerOptions, args []Token, isDefault bool) {
	key := "server"
	if isDefault {
		key = "default-server"
	}
	for i := 0; i < len(args); i++ {
		t := args[i]
		name := t.Text
		takes, known := serverOptionArgs[name]
		if !known {
			if hint, bad := unsupportedServerOptions[name]; bad {
				p.d.Errorf(t.Pos, key+" "+name, hint, "server option %q is a HAProxy option varde does not support", name)
				if i+1 < len(args) {
					if _, isOpt := serverOptionArgs[args[i+1].Text]; !isOpt {
						i++
					}
				}
				continue
			}
			p.d.Errorf(t.Pos, key, hintNearest(name, mapKeys(serverOptionArgs), "see docs/config.md for server options"), "unknown server option %q", name)
			// Skip its probable value so one typo gives one error.
			if i+1 < len(args) {
				if _, isOpt := serverOptionArgs[args[i+1].Text]; !isOpt {
					i++
				}
			}
			continue
		}
		kw := "server " + name
		if LookupKeyword(kw) == nil {
			kw = "server " + strings.TrimPrefix(name, "no-")
		}
		if LookupKeyword(kw) != nil {
			p.use(kw, t.Pos)
		}
		var v Token
		if takes {
			if i+1 >= len(args) {
				p.d.Errorf(t.Pos, kw, name+" VALUE", "server option %s needs a value", name)
				return
			}
			i++
			v = args[i]
		}
		dur := func() time.Duration { return p.duration(v, kw) }
		num := func(min, max int64) (int, bool) { return p.intVal(v, kw, min, max) }
		switch name {
		case "weight":
			if n, ok := num(0, 256); ok {
				o.Weight = &n
			}
		case "maxconn":
			if n, ok := num(0, 1<<30); ok {
				o.MaxConn = n
			}
		case "maxqueue":
			if n, ok := num(0, 1<<30); ok {
				o.MaxQueue = n
			}
		case "minconn":
			if n, ok := num(0, 1<<30); ok {
				o.MinConn = n
			}
		case "inter":
			o.Inter = p.positiveDur(v, kw)
		case "fastinter":
			o.FastInter = p.positiveDur(v, kw)
		case "downinter":
			o.DownInter = p.positiveDur(v, kw)
		case "agent-inter":
			o.AgentInter = p.positiveDur(v, kw)
		case "slowstart":
			o.SlowStart = dur()
		case "rise":
			if n, ok := num(1, 1<<20); ok {
				o.Rise = n
			}
		case "fall":
			if n, ok := num(1, 1<<20); ok {
				o.Fall = n
			}
		case "error-limit":
			if n, ok := num(1, 1<<20); ok {
				o.ErrorLimit = n
			}
		case "id":
			if n, ok := num(1, 1<<30); ok {
				o.ID = n
			}
		case "port", "agent-port":
			n, err := strconv.ParseUint(v.Text, 10, 16)
			if err != nil || n == 0 {
				p.d.Errorf(v.Pos, kw, "a port between 1 and 65535", "invalid port %q", v.Text)
				continue
			}
			if name == "port" {
				o.Port = uint16(n)
			} else {
				o.AgentPort = uint16(n)
			}
		case "addr", "agent-addr":
			if _, err := parsePrefixOrAddr(v.Text); err != nil || strings.Contains(v.Text, "/") {
				if !validHostname(v.Text) {
					p.d.Errorf(v.Pos, kw, "an IP address", "invalid address %q", v.Text)
					continue
				}
			}
			if name == "addr" {
				o.Addr = v.Text
			} else {
				o.AgentAddr = v.Text
			}
		case "cookie":
			o.Cookie, o.CookiePos = v.Text, v.Pos
		case "verify":
			if v.Text != "none" && v.Text != "required" {
				p.d.Errorf(v.Pos, kw, "none or required", "invalid verify %q", v.Text)
				continue
			}
			o.Verify = v.Text
		case "ca-file":
			o.CAFile = p.basePath(p.cfg.Global.CABase, v.Text)
		case "sni":
			o.SNI = v.Text
		case "agent-send":
			o.AgentSend = v.Text
		case "redir":
			o.Redir = v.Text
		case "observe":
			if v.Text != "layer4" && v.Text != "layer7" {
				p.d.Errorf(v.Pos, kw, "layer4 or layer7", "invalid observe mode %q", v.Text)
				continue
			}
			o.Observe = v.Text
		case "on-error":
			vals := []string{"fastinter", "fail-check", "sudden-death", "mark-down"}
			if !contains(vals, v.Text) {
				p.d.Errorf(v.Pos, kw, hintNearest(v.Text, vals, strings.Join(vals, ", ")), "invalid on-error action %q", v.Text)
				continue
			}
			o.OnError = v.Text
		case "on-marked-down":
			if v.Text != "shutdown-sessions" {
				p.d.Errorf(v.Pos, kw, "shutdown-sessions", "invalid on-marked-down action %q", v.Text)
				continue
			}
			o.OnMarkedDown = v.Text
		case "on-marked-up":
			if v.Text != "shutdown-backup-sessions" {
				p.d.Errorf(v.Pos, kw, "shutdown-backup-sessions", "invalid on-marked-up action %q", v.Text)
				continue
			}
			o.OnMarkedUp = v.Text
		case "backup":
			o.Backup = true
		case "no-backup":
			o.Backup = false
		case "disabled":
			o.Disabled = true
		case "enabled":
			o.Disabled = false
		case "check":
			o.Check = true
		case "no-check":
			o.Check = false
		case "ssl":
			o.SSL = true
		case "no-ssl":
			o.SSL = false
		case "check-ssl":
			o.CheckSSL = true
		case "send-proxy":
			o.SendProxy = true
		case "no-send-proxy":
			o.SendProxy = false
		case "send-proxy-v2":
			o.SendProxyV2 = true
		case "no-send-proxy-v2":
			o.SendProxyV2 = false
		case "agent-check":
			o.AgentCheck = true
		case "no-agent-check":
			o.AgentCheck = false
		case "no-sslv3":
		case "resolvers", "resolve-prefer", "resolve-net", "resolve-opts", "init-addr":
			p.serverResolveOption(o, name, v, kw) // serverresolve.go
		case "source", "socks4", "check-via-socks4", "usesrc", "interface":
			p.serverDialOption(o, name, v, kw) // dial.go
		default:
			p.serverTLSOption(o, name, v, kw)
		}
	}
}

func (p *parser) positiveDur(v Token, kw string) time.Duration {
	d := p.duration(v, kw)
	if d == 0 {
		if _, err := ParseDuration(v.Text); err == nil {
			p.d.Errorf(v.Pos, kw, "use a value above 0, e.g. 2s", "%s must be greater than zero", kw)
		}
	}
	return d
}

// bindOptionArgs lists bind options; true when the option takes a value.
var bindOptionArgs = map[string]bool{
	"ssl": false, "crt": true, "ca-file": true, "verify": true, "alpn": true, "ciphers": true, "name": true,
	"interface": true, "maxconn": true, "backlog": true, "mode": true, "transparent": false, "v4v6": false,
	"v6only": false, "accept-proxy": false, "defer-accept": false, "no-sslv3": false, "no-tlsv10": false,
	"no-tlsv11": false, "user": true, "group": true, "ssl-min-ver": true, "ssl-max-ver": true,
	"prefer-client-ciphers": false, "strict-sni": false, "npn": true, "tfo": false, "process": true,
	"ciphersuites": true, "curves": true, "ecdhe": true, "crt-list": true, "no-tls-tickets": false,
	"crl-file": true, "no-tlsv12": false, "no-tlsv13": false, "force-tlsv12": false, "force-tlsv13": false,
	"proto": true,
}

var unsupportedBindOptions = map[string]string{
	"npn": "use alpn",
	"tfo": "not available in varde", "namespace": "not available in varde", "quic-cc-algo": "QUIC is not supported",
	"ca-sign-file": "not available in varde", "generate-certificates": "not available in varde",
	"id": "not available in varde", "nice": "not available in varde", "severity-output": "not available in varde",
}

func (p *parser) parseBind(l Line) {
	const key = "bind"
	w := l.Words
	if len(w) < 2 {
		p.d.Errorf(l.Pos, key, "bind ADDR:PORT [options], e.g. bind *:80", "bind needs an address")
		return
	}
	b := &Bind{Pos: l.Pos}
	p.cur.badBind = true // until the line is fully read
	at := w[1]
	switch {
	case strings.HasPrefix(at.Text, "/") || strings.HasPrefix(at.Text, "unix@"):
		b.Unix = strings.TrimPrefix(at.Text, "unix@")
	case strings.HasPrefix(at.Text, "fd@"):
		// An inherited listening socket (the parent's or systemd's).
		n, err := strconv.ParseUint(strings.TrimPrefix(at.Text, "fd@"), 10, 31)
		if err != nil {
			p.d.Errorf(at.Pos, key, "write fd@N with N the descriptor number, e.g. fd@3", "invalid inherited socket %q", at.Text)
			return
		}
		b.FD = strconv.FormatUint(n, 10)
	case strings.HasPrefix(at.Text, "abns@") || strings.HasPrefix(at.Text, "sockpair@") || strings.HasPrefix(at.Text, "quic"):
		p.d.Errorf(at.Pos, key, "use ADDR:PORT or a unix socket path", "bind address type %q is not supported by varde", at.Text)
		return
	default:
		for _, part := range strings.Split(at.Text, ",") {
			a, err := ParseAddress(part, true)
			if err != nil {
				p.d.Errorf(at.Pos, key, "write ADDR:PORT, *:PORT, :::PORT or [V6]:PORT", "%v", err)
				return
			}
			if a.Host != "" {
				p.d.Errorf(at.Pos, key, "bind an IP address, * or ::", "bind address %q is a host name", part)
				return
			}
			b.Addrs = append(b.Addrs, a)
		}
	}
	args := w[2:]
	bad := false
	for i := 0; i < len(args); i++ {
		t := args[i]
		takes, known := bindOptionArgs[t.Text]
		if hint, bad := unsupportedBindOptions[t.Text]; bad {
			p.d.Errorf(t.Pos, "bind "+t.Text, hint, "bind option %q is a HAProxy option varde does not support", t.Text)
			if takes {
				i++
			}
			continue
		}
		if !known {
			p.d.Errorf(t.Pos, key, hintNearest(t.Text, mapKeys(bindOptionArgs), "see docs/config.md for bind options"), "unknown bind option %q", t.Text)
			bad = true
			continue
		}
		kw := "bind " + t.Text
		if LookupKeyword(kw) != nil {
			p.use(kw, t.Pos)
		}
		var v Token
		if takes {
			if i+1 >= len(args) {
				p.d.Errorf(t.Pos, kw, t.Text+" VALUE", "bind option %s needs a value", t.Text)
				return
			}
			i++
			v = args[i]
		}
		switch t.Text {
		case "ssl", "crt", "ca-file", "verify", "alpn", "ciphers", "crt-list", "crl-file", "ciphersuites", "strict-sni",
			"no-tls-tickets", "no-tlsv10", "no-tlsv11", "no-tlsv12", "no-tlsv13", "force-tlsv12", "force-tlsv13",
			"ssl-min-ver", "ssl-max-ver", "curves", "ecdhe":
			p.bindTLSOption(b, t, v, kw)
		case "name":
			b.Name = v.Text
		case "interface":
			b.Interface = v.Text
		case "maxconn":
			if n, ok := p.intVal(v, kw, 0, 1<<30); ok {
				b.MaxConn = n
			}
		case "backlog":
			if n, ok := p.intVal(v, kw, 0, 1<<30); ok {
				b.Backlog = n
			}
		case "mode":
			m, err := strconv.ParseUint(v.Text, 8, 32)
			if err != nil {
				p.d.Errorf(v.Pos, kw, "an octal mode such as 600", "invalid mode %q", v.Text)
			}
			b.Mode = uint32(m)
		case "transparent":
			b.Transparent = true
		case "v4v6":
			b.V4V6 = true
		case "v6only":
			b.V6Only = true
		case "accept-proxy":
			b.AcceptProxy = true
		case "defer-accept":
			b.Defer = true
		case "process":
			p.d.Warnf(t.Pos, kw, "remove `process ...`", "accepted: 'process' on bind lines is deprecated in HAProxy 2.6 and has no effect in varde (one process)")
		case "proto":
			// HTTP/2 with prior knowledge is the one mux varde has; any
			// other name would be served as something else.
			if v.Text != "h2" {
				p.d.Errorf(v.Pos, kw, "proto h2 (HTTP/2 with prior knowledge) is the only one supported", "unsupported bind proto %q", v.Text)
			}
			b.Proto = v.Text
		default:
			opt := t.Text
			if takes {
				opt += " " + v.Text
			}
			b.Options = append(b.Options, opt)
		}
	}
	if (len(b.Crts) > 0 || len(b.CrtLists) > 0) && !b.SSL && !bad {
		p.d.Errorf(l.Pos, key, "add ssl: bind :443 ssl crt FILE", "crt without ssl")
	}
	if b.SSL && len(b.Crts) == 0 && len(b.CrtLists) == 0 && !bad {
		p.d.Errorf(l.Pos, key, "add crt /path/to/cert.pem", "ssl without crt")
	}
	p.cur.Binds = append(p.cur.Binds, b)
	p.cur.badBind = false
}

func mapKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
