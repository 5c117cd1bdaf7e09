package config

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/varde-lb/varde/core/diag"
)

// How server connections are opened (HAProxy 2.6 §4.2 "source", §5.2
// "source", "socks4", "check-via-socks4"). The Unix-domain server
// addresses are read with the other address forms (serverresolve.go).

// Source is `source ADDR[:PORT]` of a backend, defaults or server line:
// the local address bound before connecting to a server, for traffic
// and health checks alike.
type Source struct {
	Pos  diag.Pos       `json:"pos"`
	Addr netip.AddrPort `json:"addr"`
	// UseSrc is `usesrc client|clientip|addr` (UseAddr): full transparent
	// proxying, traffic from the client's or another foreign address
	// (IP_TRANSPARENT); health checks keep Addr.
	UseSrc  string         `json:"usesrc,omitempty"`
	UseAddr netip.AddrPort `json:"usesrc_addr,omitzero"`
	// Interface is `interface NAME`: connections leave through it only.
	Interface string `json:"interface,omitempty"`
}

// usesrcHint is the form of `usesrc`; hdr_ip(...) is refused (not built).
const usesrcHint = "usesrc client|clientip|ADDR[:PORT] (hdr_ip is not supported by varde)"

// parseSourceLine reads a backend or defaults `source` line.
func (p *parser) parseSourceLine(l Line, args []Token) {
	const key = "source"
	if len(args) == 0 {
		p.d.Errorf(l.Pos, key, "source ADDR[:PORT]", "'source' expects <addr>[:<port>] as argument")
		return
	}
	src, ok := p.parseSourceAddr(args[0], key)
	if !ok {
		return
	}
	for i := 1; i < len(args); i++ {
		switch args[i].Text {
		case "usesrc":
			if i+1 >= len(args) {
				p.d.Errorf(args[i].Pos, key, usesrcHint, "'usesrc' expects <addr>[:<port>], 'client', 'clientip', or 'hdr_ip(name,#)' as argument")
				return
			}
			i++
			if !p.parseUseSrc(src, args[i], key) {
				return
			}
			continue
		case "interface":
			if i+1 >= len(args) || !validIfName(args[i+1].Text) {
				p.d.Errorf(args[i].Pos, key, "source ADDR interface NAME", "'interface' expects an interface name")
				return
			}
			i++
			src.Interface = args[i].Text
			continue
		default:
			p.d.Errorf(args[i].Pos, key, "source ADDR[:PORT]", "'source' only supports the 'usesrc' and 'interface' options, got %q", args[i].Text)
		}
		return
	}
	src.Pos = l.Pos
	p.cur.Source = src
}

// parseSourceAddr reads ADDR[:PORT] of a source; a port range (server
// lines in HAProxy) is refused.
func (p *parser) parseSourceAddr(t Token, key string) (*Source, bool) {
	text := t.Text
	if strings.HasPrefix(text, "unix@") || strings.HasPrefix(text, "abns@") || strings.HasPrefix(text, "/") {
		p.d.Errorf(t.Pos, key, "write an IP address", "source %q: a Unix socket cannot be a source address", text)
		return nil, false
	}
	if _, err := netip.ParseAddr(text); err != nil {
		text = strings.TrimSuffix(text, ":0") // port 0: the kernel's choice, as no port
	}
	a, err := ParseAddress(text, false)
	if err != nil {
		p.d.Errorf(t.Pos, key, "source ADDR[:PORT], e.g. 192.0.2.10", "%v", err)
		return nil, false
	}
	if a.PortEnd != 0 {
		p.d.Errorf(t.Pos, key, "write one port, or none to let the system choose", "source port ranges are not supported by varde")
		return nil, false
	}
	if !a.Addr.IsValid() {
		p.d.Errorf(t.Pos, key, "write the IP address to connect from", "source %q: a host name is not supported by varde", text)
		return nil, false
	}
	ap := netip.AddrPortFrom(a.Addr.Addr().Unmap(), a.Port)
	return &Source{Pos: t.Pos, Addr: ap}, true
}

// parseUseSrc reads the value of `usesrc` into src.
func (p *parser) parseUseSrc(src *Source, v Token, key string) bool {
	switch {
	case v.Text == "client" || v.Text == "clientip":
		src.UseSrc = v.Text
		return true
	case strings.HasPrefix(v.Text, "hdr_ip("):
		p.d.Errorf(v.Pos, key, usesrcHint, "usesrc hdr_ip(...) is not supported by varde")
		return false
	}
	a, ok := p.parseSourceAddr(v, key)
	if !ok {
		return false
	}
	src.UseSrc, src.UseAddr = "addr", a.Addr
	return true
}

// serverDialOption reads the server options of this file.
func (p *parser) serverDialOption(o *ServerOptions, name string, v Token, kw string) {
	switch name {
	case "source":
		if src, ok := p.parseSourceAddr(v, kw); ok {
			o.Source = src
		}
	case "socks4":
		ap, err := parseSOCKS4Addr(v.Text)
		if err != nil {
			p.d.Errorf(v.Pos, kw, "socks4 IP:PORT, e.g. 127.0.0.1:1080", "%v", err)
			return
		}
		o.SOCKS4 = ap
	case "check-via-socks4":
		o.CheckViaSOCKS4 = true
	case "interface":
		if o.Source == nil {
			p.d.Errorf(v.Pos, kw, "source ADDR interface "+v.Text, "'interface' only allowed after 'source'")
			return
		}
		if !validIfName(v.Text) {
			p.d.Errorf(v.Pos, kw, "an interface name", "invalid interface name %q", v.Text)
			return
		}
		s := *o.Source
		s.Interface = v.Text
		o.Source = &s
	case "usesrc":
		if o.Source == nil {
			p.d.Errorf(v.Pos, kw, "source ADDR usesrc "+v.Text, "'usesrc' only allowed after 'source'")
			return
		}
		s := *o.Source // default-server's Source is shared by its servers
		if p.parseUseSrc(&s, v, kw) {
			o.Source = &s
		}
	}
}

// parseSOCKS4Addr reads the SOCKS4 proxy's IP:PORT.
func parseSOCKS4Addr(s string) (netip.AddrPort, error) {
	a, err := ParseAddress(s, true)
	if err != nil {
		return netip.AddrPort{}, err
	}
	if !a.Addr.IsValid() || a.Addr.Addr().IsUnspecified() || a.PortEnd != 0 {
		return netip.AddrPort{}, fmt.Errorf("socks4 %q: varde needs the proxy's IP address and one port", s)
	}
	return netip.AddrPortFrom(a.Addr.Addr().Unmap(), a.Port), nil
}

// checkServerDial refuses what a server's address and dial options cannot
// do together: SOCKS4 carries IPv4 destinations only and no Unix socket.
func (p *parser) checkServerDial(s *Server) {
	if !s.SOCKS4.IsValid() {
		return
	}
	switch {
	case s.Address.Unix != "":
		p.d.Errorf(s.Pos, "server socks4", "remove socks4, or give the server an IPv4 address", "server %s: socks4 cannot reach a Unix socket", s.Name)
	case s.Address.Addr.IsValid() && !s.Address.Addr.Addr().Is4():
		p.d.Errorf(s.Pos, "server socks4", "give the server an IPv4 address", "server %s: socks4 carries IPv4 destinations only, not %s", s.Name, s.Address.Addr.Addr())
	}
}

// validIfName is a Linux interface name (IFNAMSIZ: at most 15 bytes, no
// '/', white space or NUL).
func validIfName(s string) bool {
	return s != "" && len(s) <= 15 && !strings.ContainsAny(s, "/ \t\n\x00:")
}
