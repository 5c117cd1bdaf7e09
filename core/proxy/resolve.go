package proxy

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/core/config"
)

// Servers whose address is a host name: init-addr picks the address they
// start with, and with `resolvers NAME` core/resolve resolves the name
// again at run time and moves the server through Server.SetAddress and
// Server.SetResolveMaint (HAProxy 2.6's RMAINT).

// ResolveConfig is a server's name resolution settings.
type ResolveConfig struct {
	FQDN      string
	Port      uint16 // the configured port (0 with a port map)
	Resolvers string // the resolvers section; "" when resolved at start-up only
	PreferV4  bool   // resolve-prefer ipv4 (HAProxy prefers IPv6)
	Nets      []netip.Prefix
	AllowDup  bool     // resolve-opts allow-dup-ip
	InitAddr  []string // libc, none or IPs, in order; empty: HAProxy's default
}

// resolveConfigOf is s's resolution settings, nil for an IP address.
func resolveConfigOf(s *config.Server) *ResolveConfig {
	if s.Address.Host == "" {
		return nil // an IP
	}
	return &ResolveConfig{FQDN: s.Address.Host, Port: s.Address.Port, Resolvers: s.Resolvers,
		PreferV4: s.PreferIPv4(), Nets: s.ResolveNets, AllowDup: s.AllowDupIP(), InitAddr: s.InitAddr}
}

// libcTimeout bounds a start-up lookup.
const libcTimeout = 10 * time.Second

// initialAddr is the address a server starts with and whether it starts
// in resolution maintenance, by HAProxy's srv_iterate_initaddr: the
// methods in order, by default libc (HAProxy's "last,libc" without a
// state file) then none when run-time resolution is configured.
func initialAddr(sc ServerConfig) (netip.AddrPort, bool, error) {
	if sc.Via.IsUnix() {
		return netip.AddrPort{}, false, nil // no IP address: the Unix socket (dial_via.go)
	}
	r := sc.Resolve
	if r == nil || (r.Resolvers == "" && len(r.InitAddr) == 0) {
		ap, err := resolve(sc.Addr) // an IP, or a name resolved once as ever
		return ap, false, err
	}
	methods := r.InitAddr
	if len(methods) == 0 {
		methods = []string{"libc"}
		if r.Resolvers != "" {
			methods = append(methods, "none")
		}
	}
	var lastErr error
	for _, m := range methods {
		switch m {
		case "libc":
			ip, err := libcLookup(r.FQDN)
			if err == nil {
				return netip.AddrPortFrom(ip, r.Port), false, nil
			}
			lastErr = err
		case "none":
			return netip.AddrPortFrom(netip.Addr{}, r.Port), true, nil // no address, the port kept
		default:
			if ip, err := netip.ParseAddr(m); err == nil {
				return netip.AddrPortFrom(ip.Unmap(), r.Port), false, nil
			}
		}
	}
	if lastErr != nil {
		return netip.AddrPort{}, false, fmt.Errorf("could not resolve address '%s': %w", r.FQDN, lastErr)
	}
	return netip.AddrPort{}, false, fmt.Errorf("no method found to resolve address '%s'", r.FQDN)
}

// libcLookup resolves host with the system resolver: its first address.
// (HAProxy 2.6's libc method ignores resolve-prefer too: `localhost` with
// resolve-prefer ipv6 starts on 127.0.0.1.)
func libcLookup(host string) (netip.Addr, error) {
	ctx, cancel := context.WithTimeout(context.Background(), libcTimeout)
	defer cancel()
	ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return netip.Addr{}, err
	}
	if len(ips) == 0 {
		return netip.Addr{}, fmt.Errorf("%s: no address", host)
	}
	return ips[0].Unmap(), nil
}

// Resolvable is a server of a backend resolved at run time.
type Resolvable struct {
	Server *core.Server
	Config *ResolveConfig
}

// Resolvables lists b's servers with a resolvers section, in order.
func (b *Backend) Resolvables() []Resolvable {
	var out []Resolvable
	for _, s := range b.srvs() {
		if s.res != nil && s.res.Resolvers != "" {
			out = append(out, Resolvable{Server: s.Server, Config: s.res})
		}
	}
	return out
}
