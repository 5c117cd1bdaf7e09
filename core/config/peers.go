package config

import (
	"os"
	"strconv"
	"strings"

	"github.com/varde-lb/varde/core/diag"
)

// Peers is a `peers NAME` section (HAProxy 2.6 §3.5, docs/peers.md): the
// nodes a stick table declared with `peers NAME` is replicated to. One of
// them is the local node: the peer named like the local peer name (the
// host name, `-L NAME` or the global `localpeer NAME`). The local peer is
// how a reload hands the tables to the next generation; the remote peers
// receive every update over the peers protocol (core/peers).
type Peers struct {
	Name     string   `json:"name"`
	Pos      diag.Pos `json:"pos"`
	Disabled bool     `json:"disabled,omitempty"`
	// Peers are the peer and server lines, in file order.
	Peers []*Peer `json:"peers,omitempty"`
	// Bind is the local peer's listening address from a bind line (the
	// 2.x form with server lines); "" with peer lines.
	Bind    string   `json:"bind,omitempty"`
	BindPos diag.Pos `json:"-"`
	// Tables are the `table NAME ...` lines; each table is named
	// "SECTION/NAME", as HAProxy names it.
	Tables []*StickTable `json:"tables,omitempty"`
	// LocalName is the local peer name the section was read with.
	LocalName string `json:"-"`

	sawPeer, sawBind bool // HAProxy forbids mixing peer and bind lines
}

// Peer is `peer NAME ADDR:PORT` or `server NAME [ADDR:PORT]`.
type Peer struct {
	Name  string   `json:"name"`
	Addr  string   `json:"addr,omitempty"`
	Local bool     `json:"local,omitempty"` // named like this node
	Pos   diag.Pos `json:"pos"`
}

// Local returns the section's local peer, nil when it has none.
func (s *Peers) Local() *Peer {
	for _, p := range s.Peers {
		if p.Local {
			return p
		}
	}
	return nil
}

// Remote returns the peers other than the local one.
func (s *Peers) Remote() []*Peer {
	var out []*Peer
	for _, p := range s.Peers {
		if !p.Local {
			out = append(out, p)
		}
	}
	return out
}

// Active reports whether the section takes effect: not disabled and with
// a local peer (HAProxy removes a section without one, with a warning).
func (s *Peers) Active() bool { return !s.Disabled && s.Local() != nil }

// PeersSection returns the peers section named name, nil if none.
func (c *Config) PeersSection(name string) *Peers {
	for _, s := range c.Peers {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// localPeerName is the name this node's peer has: -L, else the global
// localpeer, else the host name (HAProxy's order).
func (p *parser) localPeerName() string {
	if p.localPeer == "" {
		h, err := os.Hostname()
		if err == nil {
			p.localPeer = h
		}
	}
	return p.localPeer
}

// globalLocalPeer reads the global `localpeer NAME`.
func (p *parser) globalLocalPeer(pos diag.Pos, args []Token) {
	const kw = "localpeer"
	if len(args) != 1 {
		p.d.Errorf(pos, kw, "localpeer NAME", "'%s' expects a name as an argument", kw)
		return
	}
	switch {
	case p.localPeerCmdline:
		p.d.Warnf(pos, kw, "remove the line or the -L flag", "'%s' ignored since it is already set by using the '-L' command line option", kw)
	case len(p.cfg.Peers) > 0:
		p.d.Warnf(pos, kw, "move localpeer before the peers sections", "'%s' ignored since it is used after 'peers' section", kw)
	default:
		p.localPeer = args[0].Text
		p.cfg.Global.LocalPeer = args[0].Text
	}
}

func (p *parser) startPeers(l Line) {
	p.section, p.cur, p.peers = "peers", nil, nil
	name, ok := p.namedSection(l, "peers", "give each peers section its own name", func(n string) bool { return p.cfg.PeersSection(n) != nil })
	if !ok {
		return
	}
	p.use("peers", l.Pos)
	p.peers = &Peers{Name: name, Pos: l.Pos, LocalName: p.localPeerName()}
	p.cfg.Peers = append(p.cfg.Peers, p.peers)
}

// peersLine reads one line of a peers section.
func (p *parser) peersLine(l Line) {
	s, kw, args := p.peers, l.Keyword(), l.Args(1)
	switch kw {
	case "peer", "server":
		p.use("peers "+kw, l.Pos)
		p.peerLine(s, l, kw, args)
	case "bind":
		p.use("peers bind", l.Pos)
		p.peersBind(s, l, args)
	case "default-bind", "default-server":
		p.use("peers "+kw, l.Pos)
		p.peersDefaults(kw, args)
	case "table":
		p.use("peers table", l.Pos)
		p.peersTable(s, l)
	case "disabled":
		p.use("peers disabled", l.Pos)
		s.Disabled = true
	case "enabled":
		p.use("peers enabled", l.Pos)
		s.Disabled = false
	case "log":
		p.use("peers log", l.Pos)
	case "shards":
		p.d.Errorf(l.Pos, kw, "shards arrived in HAProxy 2.9; remove the line", "unknown keyword 'shards' in 'peers' section (HAProxy 2.6)")
	default:
		p.d.Errorf(l.Pos, kw, "a peers section holds peer, server, bind, default-bind, default-server, table, disabled, enabled and log", "unknown keyword '%s' in 'peers' section", kw)
	}
}

// peerLine reads `peer NAME ADDR:PORT` and `server NAME [ADDR:PORT]` (the
// local peer's address then comes from the bind line).
func (p *parser) peerLine(s *Peers, l Line, kw string, args []Token) {
	usage := kw + " NAME [ADDR:PORT]"
	if len(args) == 0 {
		p.d.Errorf(l.Pos, kw, usage, "'%s' expects <name> and <addr>[:<port>] as arguments", kw)
		return
	}
	if len(args) > 2 {
		p.d.Errorf(args[2].Pos, kw, usage+" (server options such as ssl apply to connections to remote peers, which varde does not open)", "peer option %q is not supported", args[2].Text)
		return
	}
	name := args[0].Text
	if !validProxyName(name) {
		p.d.Errorf(args[0].Pos, kw, "use letters, digits, '-', '_', '.' and ':'", "invalid peer name %q", name)
		return
	}
	if kw == "peer" {
		if s.sawBind {
			p.d.Errorf(l.Pos, kw, "use server lines with a bind line, or peer lines alone", "mixing \"peer\" and \"bind\" line is forbidden")
			return
		}
		s.sawPeer = true
	}
	local := name == s.LocalName
	for _, o := range s.Peers {
		if o.Name == name {
			p.d.Errorf(args[0].Pos, kw, "give each peer its own name", "'%s %s' : peer name already declared at %s", kw, name, o.Pos)
			return
		}
	}
	pr := &Peer{Name: name, Local: local, Pos: l.Pos}
	if len(args) == 2 {
		if !p.peerAddr(args[1], kw, name) {
			return
		}
		pr.Addr = args[1].Text
	}
	s.Peers = append(s.Peers, pr)
}

// peersDefaultOpts are the options of default-bind and default-server
// that change nothing for the peers listener and connections (with
// whether they take a value); any other (ssl, crt, source, ...) would be
// silently dropped, so it is refused.
var peersDefaultOpts = map[string]map[string]bool{
	"default-bind":   {"v4v6": false},
	"default-server": {"inter": true, "fastinter": true, "downinter": true, "rise": true, "fall": true},
}

func (p *parser) peersDefaults(kw string, args []Token) {
	known := peersDefaultOpts[kw]
	for i := 0; i < len(args); i++ {
		takesValue, ok := known[args[i].Text]
		if !ok {
			p.d.Errorf(args[i].Pos, kw, "remove it: peers connections are plain TCP in varde (no ssl, source or proxy options yet)", "%s option %q is not supported in a peers section", kw, args[i].Text)
			return
		}
		if takesValue {
			i++
		}
	}
}

// peersBind reads the local peer's `bind ADDR:PORT` (2.x form).
func (p *parser) peersBind(s *Peers, l Line, args []Token) {
	const kw = "bind"
	if s.sawPeer {
		p.d.Errorf(l.Pos, kw, "use server lines with a bind line, or peer lines alone", "mixing \"peer\" and \"bind\" line is forbidden")
		return
	}
	if s.sawBind {
		p.d.Errorf(l.Pos, kw, "declare one bind line per peers section", "One listener per \"peers\" section is authorized but another is already configured at %s", s.BindPos)
		return
	}
	if len(args) != 1 {
		p.d.Errorf(l.Pos, kw, "bind ADDR:PORT (bind options apply to the peers listener, which varde does not open)", "peers bind expects one address")
		return
	}
	if !p.peerAddr(args[0], kw, "") {
		return
	}
	s.sawBind, s.Bind, s.BindPos = true, args[0].Text, l.Pos
}

// peerAddr checks HOST:PORT with a port in 1..65535.
func (p *parser) peerAddr(t Token, kw, name string) bool {
	i := strings.LastIndexByte(t.Text, ':')
	if i <= 0 {
		p.d.Errorf(t.Pos, kw, "ADDR:PORT, e.g. 10.0.0.2:10000", "'%s %s' : missing port specification in '%s'", kw, name, t.Text)
		return false
	}
	n, err := strconv.Atoi(t.Text[i+1:])
	if err != nil || n < 1 || n > 65535 {
		p.d.Errorf(t.Pos, kw, "ADDR:PORT, e.g. 10.0.0.2:10000", "invalid port in peer address %q", t.Text)
		return false
	}
	return true
}

// peersTable reads `table NAME type ... size ...`: a stick table named
// "SECTION/NAME" replicated with this section.
func (p *parser) peersTable(s *Peers, l Line) {
	const kw = "table"
	if len(l.Words) < 2 || !validProxyName(l.Words[1].Text) {
		p.d.Errorf(l.Pos, kw, "table NAME type ip|ipv6|integer|string|binary size N [expire T] [store ...]", "'table' expects a table name")
		return
	}
	name := s.Name + "/" + l.Words[1].Text
	for _, t := range s.Tables {
		if t.Def.Name == name {
			p.d.Errorf(l.Words[1].Pos, kw, "give each table its own name", "stick-table name '%s' conflicts with table declared in peers '%s' at %s", l.Words[1].Text, s.Name, t.Pos)
			return
		}
	}
	st, ok := p.stickTableDef(kw, name, l.Pos, l.Words[1:])
	if !ok {
		return
	}
	if st.Peers != "" {
		p.d.Errorf(st.PeersPos, kw, "a table line is replicated with its own section; remove `peers`", "table %s: the peers option is not allowed here", name)
		return
	}
	st.Peers = s.Name
	s.Tables = append(s.Tables, st)
}

// validatePeers checks, after parsing, what HAProxy checks: every
// `stick-table ... peers NAME` names a section, and the section has a
// local peer (else, as HAProxy, it is removed with a warning); a section
// that replicates has the addresses it needs.
func (c *Config) validatePeers(d *diag.List) {
	used := map[string]bool{}
	for _, px := range c.Proxies {
		st := px.StickTable
		if st == nil || st.Peers == "" {
			continue
		}
		s := c.PeersSection(st.Peers)
		switch {
		case s == nil:
			d.Errorf(st.PeersPos, "stick-table", "declare `peers "+st.Peers+"` or fix the name", "Proxy '%s': unable to find sync peers '%s'", px.Name, st.Peers)
		case !s.Disabled && len(s.Peers) == 0 && s.Bind == "":
			d.Errorf(st.PeersPos, "stick-table", "add `peer "+s.LocalName+" ADDR:PORT` to peers "+s.Name, "Proxy '%s': unable to find local peer '%s' in peers section '%s'", px.Name, s.LocalName, s.Name)
		default:
			used[s.Name] = true
		}
	}
	for _, s := range c.Peers {
		c.validatePeersSection(s, used[s.Name] || len(s.Tables) > 0, d)
	}
}

func (c *Config) validatePeersSection(s *Peers, used bool, d *diag.List) {
	if s.Disabled {
		return
	}
	if s.Local() == nil {
		d.Warnf(s.Pos, "peers", "name this node's peer "+s.LocalName+", or start varde with -L NAME or set the global localpeer", "Removing incomplete section 'peers %s' (no peer named '%s')", s.Name, s.LocalName)
		return
	}
	if !used || len(s.Remote()) == 0 {
		return
	}
	// Replication (core/peers) listens on the local peer's address and
	// connects to every remote peer's.
	if l := s.Local(); s.Bind == "" && l.Addr == "" {
		d.Errorf(l.Pos, "peer", "give this node's peer its ADDR:PORT, or add `bind ADDR:PORT`", "peers %s: local peer %q has no address to listen on for its remote peers", s.Name, l.Name)
	}
	for _, r := range s.Remote() {
		if r.Addr == "" {
			d.Errorf(r.Pos, "peer", "peer "+r.Name+" ADDR:PORT", "peers %s: remote peer %q has no address: its tables would never reach it", s.Name, r.Name)
		}
	}
}
