package admin

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
)

// parseSetAddr reads the rest of `set server B/S addr IP [port P]` and
// `set server B/S fqdn NAME` (w[0] is "addr" or "fqdn").
func parseSetAddr(b, s string, w []string) (Command, error) {
	if w[0] == "fqdn" {
		if len(w) < 2 {
			return Command{}, errors.New("set server <b>/<s> fqdn requires a FQDN.")
		}
		return Command{Op: OpSetFQDN, Backend: b, Server: s, Value: w[1]}, nil
	}
	if len(w) < 2 {
		return Command{}, errors.New("set server <b>/<s> addr requires an address and optionally a port.")
	}
	c := Command{Op: OpSetAddr, Backend: b, Server: s, Value: w[1]}
	if len(w) >= 4 && w[2] == "port" {
		c.Key = w[3]
	}
	return c, nil
}

// runSetAddr executes OpSetAddr and OpSetFQDN; ok is false for any other
// command.
func (s *Server) runSetAddr(cmd Command) (out string, ok bool) {
	if cmd.Op != OpSetAddr && cmd.Op != OpSetFQDN {
		return "", false
	}
	sv, msg := s.find(s.rt.Source.Snapshot(), cmd.Backend, cmd.Server)
	if sv == nil {
		return msg, true
	}
	if cmd.Op == OpSetFQDN {
		return s.setFQDN(cmd), true // resolvers.go
	}
	text, ap, changed := newAddr(sv.Address(), cmd.Value, cmd.Key)
	if changed {
		sv.SetAddress(ap)
		s.log.Info("admin: set server addr", "backend", sv.Backend, "server", sv.Name, "addr", ap.String())
	}
	return text + " by 'stats socket command'\n", true
}

// newAddr applies an address and an optional port to cur as HAProxy's
// srv_update_addr_port and returns its report (without the " by ..."
// suffix): "IP changed from 'A' to 'B'", "no need to change the addr",
// ", port changed from 'P' to 'Q'", or the error.
func newAddr(cur netip.AddrPort, addr, port string) (string, netip.AddrPort, bool) {
	ip, err := netip.ParseAddr(addr)
	if err != nil || ip.Zone() != "" {
		return fmt.Sprintf("Invalid addr '%s'", addr), cur, false
	}
	ip = ip.Unmap()
	text, next, changed := "no need to change the addr", cur, false
	if ip != cur.Addr() {
		text = fmt.Sprintf("IP changed from '%s' to '%s'", cur.Addr(), addr)
		next, changed = netip.AddrPortFrom(ip, cur.Port()), true
	}
	if port == "" {
		return text, next, changed
	}
	text += ", "
	if port[0] == '+' || port[0] == '-' {
		// HAProxy's port maps (a port relative to the client's): varde's
		// servers have fixed ports only.
		return text + fmt.Sprintf("port map '%s' is not supported by varde", port), next, changed
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return text + fmt.Sprintf("problem converting port '%s' to an int", port), next, changed // the IP change stands, as HAProxy's
	}
	if uint16(p) == cur.Port() {
		return text + "no need to change the port", next, changed
	}
	text += fmt.Sprintf("port changed from '%d' to '%d'", cur.Port(), p)
	return text, netip.AddrPortFrom(next.Addr(), uint16(p)), true
}
