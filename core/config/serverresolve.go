package config

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Server address forms and the run-time resolution options of server
// and default-server lines (HAProxy 2.6 §5.2: resolvers, resolve-prefer,
// resolve-net, resolve-opts, init-addr).

// parseServerAddress reads a server's address as HAProxy's str2sa_range
// does for a server: IP:PORT, HOST:PORT, and the forms without a fixed
// port, which connect to the client's destination port (no port, port 0)
// or to it plus an offset (+N, -N). An address 0.0.0.0 or :: connects to
// the client's destination address (a transparent forward).
func parseServerAddress(s string) (Address, error) {
	a := Address{Raw: s}
	if isUnixServerAddress(s) {
		return parseUnixServerAddress(s)
	}
	rest := s
	if t, ok := strings.CutPrefix(rest, "ipv4@"); ok {
		rest = t
	} else if t, ok := strings.CutPrefix(rest, "ipv6@"); ok {
		rest = t
	}
	host, port := rest, ""
	switch {
	case strings.HasPrefix(rest, "["):
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			return a, fmt.Errorf("invalid address %q: missing ']'", s)
		}
		host, port = rest[1:end], rest[end+1:]
		if port != "" {
			if port[0] != ':' {
				return a, fmt.Errorf("invalid address %q", s)
			}
			port = port[1:]
		}
	default:
		// The last colon splits, as in HAProxy: a bare "::" is refused.
		if i := strings.LastIndexByte(rest, ':'); i >= 0 {
			host, port = rest[:i], rest[i+1:]
		}
	}
	if err := a.setServerPort(s, port); err != nil {
		return a, err
	}
	if host == "" || host == "*" {
		host = "0.0.0.0" // HAProxy's any address: the client's destination
	}
	if ip, err := netip.ParseAddr(host); err == nil && ip.Zone() == "" {
		a.Addr = netip.AddrPortFrom(ip.Unmap(), a.Port)
		return a, nil
	}
	if !validHostname(host) {
		return a, fmt.Errorf("invalid address %q: %q is neither an IP address nor a host name", s, host)
	}
	if strings.HasPrefix(host, "_") {
		// HAProxy resolves _service._proto.name as SRV records; varde
		// does not, and an A query for it would silently find nothing.
		return a, fmt.Errorf("address %q: SRV record resolution (_service._proto.name) is not supported by varde", s)
	}
	a.Host = host
	return a, nil
}

// setServerPort reads the port part: "", "0", "+N" and "-N" map the
// client's destination port (PortMap, PortOffset), N is fixed.
func (a *Address) setServerPort(s, port string) error {
	if port == "" {
		a.PortMap = true
		return nil
	}
	if port[0] == '+' || port[0] == '-' {
		n, err := strconv.ParseUint(port[1:], 10, 16)
		if err != nil {
			return fmt.Errorf("invalid port offset %q in %q (+N or -N, N up to 65535)", port, s)
		}
		a.PortMap, a.PortOffset = true, int(n)
		if port[0] == '-' {
			a.PortOffset = -int(n)
		}
		return nil
	}
	n, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return fmt.Errorf("invalid port %q in %q (0..65535, +N or -N)", port, s)
	}
	a.Port, a.PortMap = uint16(n), n == 0
	return nil
}

// serverResolveOption reads one run-time resolution option.
func (p *parser) serverResolveOption(o *ServerOptions, name string, v Token, kw string) {
	switch name {
	case "resolvers":
		o.Resolvers, o.ResolversPos = v.Text, v.Pos
	case "resolve-prefer":
		if v.Text != "ipv4" && v.Text != "ipv6" {
			p.d.Errorf(v.Pos, kw, "ipv4 or ipv6", "'resolve-prefer' expects 'ipv4' or 'ipv6', got %q", v.Text)
			return
		}
		o.ResolvePrefer = v.Text
	case "resolve-net":
		o.ResolveNets = nil
		for _, n := range strings.Split(v.Text, ",") {
			pf, err := netip.ParsePrefix(n)
			if err != nil {
				p.d.Errorf(v.Pos, kw, "networks in CIDR notation, comma separated: 10.0.0.0/8,fd00::/8", "invalid network %q", n)
				return
			}
			o.ResolveNets = append(o.ResolveNets, pf.Masked())
		}
	case "resolve-opts":
		o.ResolveOpts = nil
		for _, opt := range strings.Split(v.Text, ",") {
			switch opt {
			case "allow-dup-ip", "ignore-weight", "prevent-dup-ip":
				o.ResolveOpts = append(o.ResolveOpts, opt)
			default:
				p.d.Errorf(v.Pos, kw, "allow-dup-ip, ignore-weight, prevent-dup-ip", "'resolve-opts' unknown option %q", opt)
				return
			}
		}
	case "init-addr":
		p.initAddr(o, v, kw)
	}
}

// initAddr reads init-addr METHOD[,METHOD...]: last, libc, none or an IP.
// `last` (the server-state file's address, in the order written) is not
// built: refused rather than silently skipped. Without init-addr, the
// file's address applies (core/admin/serverstate.go), as HAProxy's default
// last,libc.
func (p *parser) initAddr(o *ServerOptions, v Token, kw string) {
	o.InitAddr, o.InitAddrPos = nil, v.Pos
	for _, m := range strings.Split(v.Text, ",") {
		switch m {
		case "libc", "none":
		case "last":
			p.d.Errorf(v.Pos, kw, "use libc, none or an IP; without init-addr, the server-state file's address still applies (HAProxy's default last,libc)", "init-addr method 'last' is not built yet: the address would not be taken from the server-state file in the order written")
			return
		default:
			if ip, err := netip.ParseAddr(m); err != nil || ip.Zone() != "" {
				p.d.Errorf(v.Pos, kw, "last, libc, none or an IP address, comma separated", "'init-addr' unknown method %q", m)
				return
			}
		}
		o.InitAddr = append(o.InitAddr, m)
	}
}

// PreferIPv4 reports resolve-prefer ipv4 (HAProxy prefers IPv6 by default).
func (o *ServerOptions) PreferIPv4() bool { return o.ResolvePrefer == "ipv4" }

// AllowDupIP reports resolve-opts allow-dup-ip (the last of allow/prevent wins).
func (o *ServerOptions) AllowDupIP() bool {
	allow := false
	for _, x := range o.ResolveOpts {
		switch x {
		case "allow-dup-ip":
			allow = true
		case "prevent-dup-ip":
			allow = false
		}
	}
	return allow
}

// maxTemplate bounds the servers one server-template line makes.
const maxTemplate = 4096

// parseServerTemplate reads `server-template PREFIX NUM|LOW-HIGH
// FQDN[:PORT] [options]`: servers PREFIX<LOW>..PREFIX<HIGH> (NUM is
// 1-NUM), each a server line with that address, filled at run time from
// the name's answer by its resolvers (HAProxy 2.6 §5.2).
func (p *parser) parseServerTemplate(l Line, args []Token) {
	const key = "server-template"
	const usage = "server-template PREFIX NUM|LOW-HIGH FQDN[:PORT] [options]"
	if len(args) < 3 {
		p.d.Errorf(l.Pos, key, usage, "'server-template' expects <prefix> <nb | range> <addr>[:<port>] as arguments")
		return
	}
	low, high, ok := templateRange(args[1].Text)
	if !ok {
		p.d.Errorf(args[1].Pos, key, "a count such as 5 or a range such as 1-5 (at most 4096 servers)", "Wrong server-template number or range arg '%s'", args[1].Text)
		return
	}
	if !validProxyName(args[0].Text) {
		p.d.Errorf(args[0].Pos, key, "use letters, digits, '-', '_', '.' and ':'", "invalid server-template prefix %q", args[0].Text)
		return
	}
	n := len(p.cur.Servers)
	name := args[0]
	name.Text = args[0].Text + strconv.Itoa(low)
	p.parseServer(l, append([]Token{name}, args[2:]...))
	if len(p.cur.Servers) == n {
		return // refused, already reported
	}
	first := p.cur.Servers[n]
	for i := low + 1; i <= high; i++ {
		s := *first
		s.Name = args[0].Text + strconv.Itoa(i)
		if first.Weight != nil {
			w := *first.Weight
			s.Weight = &w
		}
		s.ID = 0 // the next free id, as HAProxy numbers template servers
		p.cur.Servers = append(p.cur.Servers, &s)
	}
}

// templateRange reads NUM (1..NUM) or LOW-HIGH.
func templateRange(s string) (low, high int, ok bool) {
	lo, hi, isRange := strings.Cut(s, "-")
	a, err := strconv.Atoi(lo)
	if err != nil {
		return 0, 0, false
	}
	if !isRange {
		low, high = 1, a
	} else {
		b, err := strconv.Atoi(hi)
		if err != nil {
			return 0, 0, false
		}
		low, high = a, b
	}
	if low < 0 || high < low || high < 1 || high-low >= maxTemplate {
		return 0, 0, false
	}
	return low, high, true
}

// Unix-domain server addresses, with HAProxy's limits (str2sa_range):
// a path leaves room for the ".PID.tmp" suffix HAProxy's own sockets
// take, an abstract name fills the whole sun_path.
const (
	maxUnixPath = 97
	maxAbnsName = 107
)

// parseUnixServerAddress reads unix@PATH, /PATH and abns@NAME.
func parseUnixServerAddress(s string) (Address, error) {
	a := Address{Raw: s}
	name, max := s, maxUnixPath
	if t, ok := strings.CutPrefix(s, "unix@"); ok {
		name = t
	} else if t, ok := strings.CutPrefix(s, "abns@"); ok {
		name, max, a.Abstract = t, maxAbnsName, true
	}
	switch {
	case name == "":
		return a, fmt.Errorf("server address %q: empty socket path", s)
	case len(name) > max:
		return a, fmt.Errorf("socket path '%s' too long (max %d)", s, max)
	case strings.IndexByte(name, 0) >= 0:
		return a, fmt.Errorf("server address %q: NUL in socket path", s)
	}
	a.Unix = name
	return a, nil
}

func isUnixServerAddress(s string) bool {
	return strings.HasPrefix(s, "/") || strings.HasPrefix(s, "unix@") || strings.HasPrefix(s, "abns@")
}
