package config

import (
	"bufio"
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/varde-lb/varde/core/diag"
)

// Resolvers is a `resolvers NAME` section (HAProxy 2.6 §5.3): the DNS
// servers that servers with `resolvers NAME` are resolved with at run
// time, and how long answers and failures are held. Defaults are
// HAProxy's (resolvers_new in src/resolvers.c).
type Resolvers struct {
	Name        string        `json:"name"`
	Pos         diag.Pos      `json:"pos"`
	Nameservers []*Nameserver `json:"nameservers,omitempty"`
	// ResolvConf is parse-resolv-conf: the nameserver lines of
	// /etc/resolv.conf, read when the section is parsed (as HAProxy).
	ResolvConf bool `json:"resolv_conf,omitempty"`
	// FromResolvConf are the nameservers parse-resolv-conf found (kept
	// apart so dumps do not depend on the machine).
	FromResolvConf []*Nameserver `json:"-"`
	Retries        int           `json:"resolve_retries"`       // resolve_retries, 3
	Resolve        time.Duration `json:"timeout_resolve"`       // timeout resolve, 1s: the period between resolutions
	Retry          time.Duration `json:"timeout_retry"`         // timeout retry, 1s: wait for an answer before the next try
	HoldNX         time.Duration `json:"hold_nx"`               // 30s
	HoldOther      time.Duration `json:"hold_other"`            // 30s
	HoldRefused    time.Duration `json:"hold_refused"`          // 30s
	HoldTimeout    time.Duration `json:"hold_timeout"`          // 30s
	HoldValid      time.Duration `json:"hold_valid"`            // 10s
	HoldObs        time.Duration `json:"hold_obsolete"`         // 0
	PayloadSize    int           `json:"accepted_payload_size"` // 512
	badNS          bool          // a nameserver line was refused: no "has no nameserver" cascade
}

// Nameserver is `nameserver ID [udp@|tcp@]IP[:PORT]`.
type Nameserver struct {
	ID   string         `json:"id"`
	Addr netip.AddrPort `json:"addr"`
	TCP  bool           `json:"tcp,omitempty"` // tcp@: DNS over TCP
	Pos  diag.Pos       `json:"pos"`
}

// AllNameservers are the nameserver lines then those of resolv.conf.
func (r *Resolvers) AllNameservers() []*Nameserver {
	return append(append([]*Nameserver(nil), r.Nameservers...), r.FromResolvConf...)
}

// ResolverSection returns the resolvers section named name, nil if none.
func (c *Config) ResolverSection(name string) *Resolvers {
	for _, r := range c.AllResolvers() {
		if r.Name == name {
			return r
		}
	}
	return nil
}

// AllResolvers are the declared sections, then the implicit default one.
func (c *Config) AllResolvers() []*Resolvers {
	if c.DefaultResolvers == nil {
		return c.Resolvers
	}
	return append(append([]*Resolvers(nil), c.Resolvers...), c.DefaultResolvers)
}

// resolvConfPath is read by parse-resolv-conf (a variable for tests).
var resolvConfPath = "/etc/resolv.conf"

func (p *parser) startResolvers(l Line) {
	p.section, p.cur, p.res = "resolvers", nil, nil
	name, ok := p.namedSection(l, "resolvers", "give each resolvers section its own name", func(n string) bool { return p.cfg.ResolverSection(n) != nil })
	if !ok {
		return
	}
	p.use("resolvers", l.Pos)
	p.res = newResolvers(name, l.Pos)
	p.cfg.Resolvers = append(p.cfg.Resolvers, p.res)
}

// resolversLine reads one line of a resolvers section.
func (p *parser) resolversLine(l Line) {
	r, kw, args := p.res, l.Keyword(), l.Args(1)
	switch kw {
	case "nameserver":
		p.use(kw, l.Pos)
		p.nameserver(r, l, args)
	case "parse-resolv-conf":
		p.use(kw, l.Pos)
		p.parseResolvConf(r, l)
	case "resolve_retries":
		p.use(kw, l.Pos)
		if len(args) != 1 {
			p.d.Errorf(l.Pos, kw, "resolve_retries N", "'%s' expects <nb> as argument", kw)
			return
		}
		if n, ok := p.intVal(args[0], kw, 1, 1<<20); ok {
			r.Retries = n
		}
	case "accepted_payload_size":
		p.use(kw, l.Pos)
		if len(args) != 1 {
			p.d.Errorf(l.Pos, kw, "accepted_payload_size 512..65535", "'%s' expects <nb> as argument", kw)
			return
		}
		if n, ok := p.intVal(args[0], kw, 512, 65535); ok {
			r.PayloadSize = n
		}
	case "timeout":
		p.resolversTimeout(r, l, args)
	case "hold":
		p.resolversHold(r, l, args)
	default:
		p.d.Errorf(l.Pos, kw, "a resolvers section holds nameserver, parse-resolv-conf, resolve_retries, timeout resolve|retry, hold and accepted_payload_size", "unknown keyword %q in resolvers section", kw)
	}
}

func (p *parser) nameserver(r *Resolvers, l Line, args []Token) {
	const kw = "nameserver"
	r.badNS = true // until the line is read
	if len(args) != 2 {
		p.d.Errorf(l.Pos, kw, "nameserver ID IP:PORT", "'nameserver' expects <name> and <addr>[:<port>] as arguments")
		return
	}
	if !validProxyName(args[0].Text) {
		p.d.Errorf(args[0].Pos, kw, "use letters, digits, '-', '_', '.' and ':'", "invalid nameserver name %q", args[0].Text)
		return
	}
	for _, o := range r.Nameservers {
		if o.ID == args[0].Text {
			p.d.Errorf(args[0].Pos, kw, "give each nameserver its own name", "nameserver %q has same name as another nameserver (declared at %s)", o.ID, o.Pos)
			return
		}
	}
	ap, tcp, err := parseNameserverAddr(args[1].Text)
	if err != nil {
		p.d.Errorf(args[1].Pos, kw, "write an IP address and a port, e.g. 10.0.0.53:53, udp@[::1]:53 or tcp@10.0.0.53:53", "%v", err)
		return
	}
	r.Nameservers = append(r.Nameservers, &Nameserver{ID: args[0].Text, Addr: ap, TCP: tcp, Pos: l.Pos})
	r.badNS = false
}

// parseNameserverAddr reads IP[:PORT] with an optional udp@, tcp@ or
// ipv4@/ipv6@ prefix; the port defaults to 53 as in HAProxy. tcp is set
// for DNS over TCP. A name is refused.
func parseNameserverAddr(s string) (ap netip.AddrPort, tcp bool, err error) {
	rest := s
	for _, pre := range []string{"udp@", "udp4@", "udp6@", "tcp@", "tcp4@", "tcp6@", "ipv4@", "ipv6@"} {
		if t, ok := strings.CutPrefix(rest, pre); ok {
			rest, tcp = t, strings.HasPrefix(pre, "tcp")
			break
		}
	}
	if ip, err := netip.ParseAddr(rest); err == nil && ip.Zone() == "" && !ip.IsUnspecified() {
		return netip.AddrPortFrom(ip.Unmap(), 53), tcp, nil
	}
	ap, err = netip.ParseAddrPort(rest)
	if err != nil || ap.Addr().Zone() != "" || ap.Port() == 0 || ap.Addr().IsUnspecified() {
		return netip.AddrPort{}, false, fmt.Errorf("invalid nameserver address %q", s)
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), tcp, nil
}

// parseResolvConf adds the nameserver lines of resolv.conf.
func (p *parser) parseResolvConf(r *Resolvers, l Line) {
	const kw = "parse-resolv-conf"
	r.ResolvConf = true
	ns, bad, err := readResolvConf(l.Pos)
	if err != nil {
		p.d.Errorf(l.Pos, kw, "declare nameserver lines instead", "failed to open %s: %v", resolvConfPath, err)
		return
	}
	for _, b := range bad {
		p.d.Warnf(l.Pos, kw, "fix "+resolvConfPath, "%s: ignoring invalid nameserver %q", resolvConfPath, b)
	}
	for _, n := range ns {
		if !slices.ContainsFunc(r.AllNameservers(), func(o *Nameserver) bool { return o.ID == n.ID }) {
			r.FromResolvConf = append(r.FromResolvConf, n)
		}
	}
}

// readResolvConf reads resolv.conf's nameserver lines, named as HAProxy
// names them (by their address), and the invalid ones.
func readResolvConf(pos diag.Pos) (ns []*Nameserver, bad []string, err error) {
	data, err := os.ReadFile(resolvConfPath)
	if err != nil {
		return nil, nil, err
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 || f[0] != "nameserver" {
			continue
		}
		ip, err := netip.ParseAddr(f[1])
		if err != nil || ip.Zone() != "" {
			bad = append(bad, f[1])
			continue
		}
		if slices.ContainsFunc(ns, func(n *Nameserver) bool { return n.ID == f[1] }) {
			continue // HAProxy: a duplicate, excluded
		}
		ns = append(ns, &Nameserver{ID: f[1], Addr: netip.AddrPortFrom(ip.Unmap(), 53), Pos: pos})
	}
	return ns, bad, nil
}

// newResolvers is a section with HAProxy's defaults.
func newResolvers(name string, pos diag.Pos) *Resolvers {
	return &Resolvers{Name: name, Pos: pos, Retries: 3, Resolve: time.Second, Retry: time.Second,
		HoldNX: 30 * time.Second, HoldOther: 30 * time.Second, HoldRefused: 30 * time.Second,
		HoldTimeout: 30 * time.Second, HoldValid: 10 * time.Second, PayloadSize: 512}
}

// defaultResolvers is HAProxy 2.6's implicit `resolvers default`: the
// nameservers of resolv.conf, when it has some and no section of that
// name is declared (resolvers_create_default). It is kept apart from the
// declared sections (Config.DefaultResolvers) so that dumps do not depend
// on the machine.
func defaultResolvers(pos diag.Pos) *Resolvers {
	ns, _, err := readResolvConf(pos)
	if err != nil || len(ns) == 0 {
		return nil
	}
	r := newResolvers("default", pos)
	r.ResolvConf, r.FromResolvConf = true, ns
	return r
}

func (p *parser) resolversTimeout(r *Resolvers, l Line, args []Token) {
	if len(args) != 2 || (args[0].Text != "resolve" && args[0].Text != "retry") {
		p.d.Errorf(l.Pos, "timeout", "timeout resolve|retry TIME", "'timeout' expects 'retry' or 'resolve' and <time> as arguments")
		return
	}
	kw := "timeout " + args[0].Text
	p.use(kw, l.Pos)
	d := p.positiveDur(args[1], kw)
	if d == 0 {
		return
	}
	if args[0].Text == "resolve" {
		r.Resolve = d
	} else {
		r.Retry = d
	}
}

func (p *parser) resolversHold(r *Resolvers, l Line, args []Token) {
	if len(args) != 2 {
		p.d.Errorf(l.Pos, "hold", "hold nx|other|refused|timeout|valid|obsolete TIME", "'hold' expects an <event> and a <time> as arguments")
		return
	}
	dst := map[string]*time.Duration{"nx": &r.HoldNX, "other": &r.HoldOther, "refused": &r.HoldRefused,
		"timeout": &r.HoldTimeout, "valid": &r.HoldValid, "obsolete": &r.HoldObs}[args[0].Text]
	if dst == nil {
		p.d.Errorf(args[0].Pos, "hold", "nx, other, refused, timeout, valid or obsolete", "'hold' unknown <event>: %q", args[0].Text)
		return
	}
	kw := "hold " + args[0].Text
	p.use(kw, l.Pos)
	*dst = p.duration(args[1], kw)
}

// checkResolvers refuses, as HAProxy does, a resolvers section without a
// nameserver and a server naming a resolvers section that does not exist.
func checkResolvers(c *Config, d *diag.List) {
	for _, r := range c.Resolvers {
		if len(r.AllNameservers()) == 0 && !r.badNS {
			d.Errorf(r.Pos, "resolvers", "add nameserver ID IP:PORT or parse-resolv-conf", "resolvers %q has no nameserver", r.Name)
		}
	}
	c.DefaultResolvers = nil
	if c.ResolverSection("default") == nil {
		c.DefaultResolvers = defaultResolvers(c.Global.Pos)
	}
	for _, px := range c.Proxies {
		for _, s := range px.Servers {
			if s.Resolvers != "" && c.ResolverSection(s.Resolvers) == nil {
				d.Errorf(s.ResolversPos, "server resolvers", "declare `resolvers "+s.Resolvers+"` with its nameservers", "server %s/%s: unable to find required resolvers %q", px.Name, s.Name, s.Resolvers)
			}
		}
	}
}
