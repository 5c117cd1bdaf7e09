package keepalived

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/varde-lb/varde/core/diag"
)

// Route is one line of static_routes / virtual_routes, in keepalived's
// (and `ip route`'s) syntax, restricted to the options varde builds:
//
//	[blackhole|unreachable|prohibit] [to] DEST [src IP] [via|gw GW]
//	    [dev|oif IF] [table N] [metric|priority|preference N] [scope S]
//
// DEST is ADDR[/PREFIX] or `default`. Other `ip route` options keepalived
// accepts (nexthop, or, protocol, mtu, onlink, tos, ...) are refused.
type Route struct {
	Type   string       `json:"type,omitempty"` // "" (unicast), blackhole, unreachable, prohibit
	Dst    netip.Prefix `json:"dst"`
	Src    netip.Addr   `json:"src,omitzero"` // preferred source (`src`)
	Via    netip.Addr   `json:"via,omitzero"`
	Dev    string       `json:"dev,omitempty"`
	Table  int          `json:"table,omitempty"`  // 0: main
	Metric int          `json:"metric,omitempty"` // 0: none
	Scope  string       `json:"scope,omitempty"`  // "": the kernel's choice, as `ip route`
	Pos    diag.Pos     `json:"-"`
}

// Rule is one line of static_rules / virtual_rules:
//
//	[from PREFIX|all] [to PREFIX|all] [iif IF] [oif IF] table N
//	    priority|preference|pref N
//
// keepalived assigns a preference to a rule without one ("probably not
// what you want", it warns); varde asks for it instead.
type Rule struct {
	From     netip.Prefix `json:"from,omitzero"`
	To       netip.Prefix `json:"to,omitzero"`
	IIF      string       `json:"iif,omitempty"`
	OIF      string       `json:"oif,omitempty"`
	Table    int          `json:"table"`
	Priority int          `json:"priority"`
	V6       bool         `json:"v6,omitempty"`
	Pos      diag.Pos     `json:"-"`
}

const (
	routeHint = "DEST [via GW] [dev IF] [src IP] [metric N] [table N] [scope S], or blackhole|unreachable|prohibit DEST"
	ruleHint  = "[from PREFIX] [to PREFIX] [iif IF] [oif IF] table N priority N"
)

// routeWords: the options keepalived accepts on a route that varde does not
// build, refused with their name so a route is never installed half-configured.
var routeRefused = map[string]bool{
	"nexthop": true, "or": true, "protocol": true, "proto": true, "mtu": true, "onlink": true,
	"tos": true, "dsfield": true, "advmss": true, "rtt": true, "rttvar": true, "reordering": true,
	"window": true, "cwnd": true, "ssthresh": true, "realms": true, "rto_min": true, "initcwnd": true,
	"initrwnd": true, "features": true, "quickack": true, "congctl": true, "pref": true, "hoplimit": true,
	"fastopen_no_cookie": true, "ttl-propagate": true, "vrf": true, "track_group": true, "no_track": true,
	"encap": true, "expires": true, "add": true, "append": true, "inet6": true, "throw": true, "nat": true,
	"local": true, "broadcast": true, "multicast": true, "anycast": true, "unicast": true,
}

// routesBlock reads a static_routes / virtual_routes block.
func (p *parser) routesBlock(n *node) []Route {
	if !p.needBlock(n) {
		return nil
	}
	var out []Route
	for _, c := range n.children {
		r, err := parseRoute(append([]string{c.keyword}, c.args...))
		if err != nil {
			p.d.Errorf(c.pos, n.keyword, routeHint, "%v", err)
			continue
		}
		if slices.Contains(c.args, "gw") {
			p.d.Warnf(c.pos, n.keyword, "write via", "\"gw\" for routes is deprecated (keepalived's warning)")
		}
		r.Pos = c.pos
		out = append(out, r)
	}
	return out
}

// parseRoute reads one route line (its words, keyword first).
func parseRoute(w []string) (Route, error) {
	var r Route
	i := 0
	switch w[0] {
	case "blackhole", "unreachable", "prohibit":
		r.Type, i = w[0], 1
	}
	dstSet := false
	for i < len(w) {
		opt := w[i]
		if !dstSet && opt != "to" && opt != "src" && !isRouteOption(opt) {
			pfx, err := parseDest(opt)
			if err != nil {
				return r, err
			}
			r.Dst, dstSet = pfx, true
			i++
			continue
		}
		if routeRefused[opt] {
			return r, fmt.Errorf("route option %q is not supported by varde", opt)
		}
		if !isRouteOption(opt) && opt != "to" {
			return r, fmt.Errorf("unknown route option %q", opt)
		}
		if i+1 >= len(w) {
			return r, fmt.Errorf("%s needs a value", opt)
		}
		if err := r.set(opt, w[i+1], &dstSet); err != nil {
			return r, err
		}
		i += 2
	}
	if !dstSet {
		return r, fmt.Errorf("route has no destination")
	}
	return r, r.check()
}

func isRouteOption(s string) bool {
	switch s {
	case "src", "via", "gw", "dev", "oif", "table", "metric", "priority", "preference", "scope":
		return true
	}
	return routeRefused[s]
}

// set applies one `option value` pair of a route.
func (r *Route) set(opt, val string, dstSet *bool) error {
	var err error
	switch opt {
	case "to":
		if *dstSet {
			return fmt.Errorf("route has two destinations")
		}
		r.Dst, err = parseDest(val)
		*dstSet = err == nil
	case "src":
		r.Src, err = parseHost(opt, val)
	case "via", "gw":
		r.Via, err = parseHost(opt, val)
	case "dev", "oif":
		r.Dev = val
	case "table":
		r.Table, err = parseTable(val)
	case "metric", "priority", "preference":
		r.Metric, err = parseUint32(opt, val)
	case "scope":
		if _, ok := scopes[val]; !ok {
			return fmt.Errorf("unknown scope %q (global, site, link, host, nowhere)", val)
		}
		r.Scope = val
	}
	return err
}

// check refuses combinations the kernel would refuse or that mix families.
func (r *Route) check() error {
	if r.Dst.Bits() == 0 && (r.Via.Is6() || r.Src.Is6()) {
		r.Dst = netip.PrefixFrom(netip.IPv6Unspecified(), 0) // `default via fe80::1`
	}
	v6 := r.Dst.Addr().Is6()
	for _, a := range []netip.Addr{r.Src, r.Via} {
		if a.IsValid() && a.Is6() != v6 {
			return fmt.Errorf("route mixes IPv4 and IPv6 addresses")
		}
	}
	if r.Type != "" && (r.Via.IsValid() || r.Dev != "") {
		return fmt.Errorf("a %s route takes no via or dev", r.Type)
	}
	if r.Type == "" && !r.Via.IsValid() && r.Dev == "" {
		return fmt.Errorf("route needs via GW or dev IF")
	}
	return nil
}

// scopes are the rtnetlink scope names `ip route` accepts.
// keepalived refuses "universe" (ip route's synonym of global).
var scopes = map[string]uint8{"global": 0, "site": 200, "link": 253, "host": 254, "nowhere": 255}

// ScopeValue is the rtnetlink value of a scope name (Route.Scope).
func ScopeValue(s string) uint8 { return scopes[s] }

// parseDest reads ADDR, ADDR/PREFIX or `default` (0.0.0.0/0). The address
// is masked to the prefix, as the kernel stores it.
func parseDest(s string) (netip.Prefix, error) {
	if s == "default" {
		return netip.PrefixFrom(netip.IPv4Unspecified(), 0), nil
	}
	pfx, err := parseVIPAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return pfx.Masked(), nil
}

func parseHost(opt, s string) (netip.Addr, error) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("%s: bad address %q", opt, s)
	}
	return a, nil
}

// parseTable reads a routing table number or one of the names every
// system has; names from /etc/iproute2/rt_tables are refused (the number
// is unambiguous).
func parseTable(s string) (int, error) {
	switch s {
	case "main":
		return 254, nil
	case "local":
		return 255, nil
	case "default":
		return 253, nil
	}
	v, err := strconv.ParseUint(s, 10, 32)
	if err != nil || v == 0 {
		return 0, fmt.Errorf("table %q: give the table's number (1..4294967295) or main, local, default", s)
	}
	return int(v), nil
}

func parseUint32(opt, s string) (int, error) {
	v, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("%s: bad number %q", opt, s)
	}
	return int(v), nil
}

// rulesBlock reads a static_rules / virtual_rules block.
func (p *parser) rulesBlock(n *node) []Rule {
	if !p.needBlock(n) {
		return nil
	}
	var out []Rule
	for _, c := range n.children {
		r, err := parseRule(append([]string{c.keyword}, c.args...))
		if err != nil {
			p.d.Errorf(c.pos, n.keyword, ruleHint, "%v", err)
			continue
		}
		r.Pos = c.pos
		out = append(out, r)
	}
	return out
}

// parseRule reads one rule line (its words, keyword first).
func parseRule(w []string) (Rule, error) {
	var r Rule
	prioSet := false
	for i := 0; i < len(w); i += 2 {
		opt := w[i]
		if i+1 >= len(w) {
			return r, fmt.Errorf("%s needs a value", opt)
		}
		val := w[i+1]
		var err error
		switch opt {
		case "from":
			r.From, err = parseRulePrefix(val)
		case "to":
			r.To, err = parseRulePrefix(val)
		case "iif":
			r.IIF = val
		case "oif":
			r.OIF = val
		case "table", "lookup":
			r.Table, err = parseTable(val)
		case "priority", "preference":
			r.Priority, err = parseUint32(opt, val)
			prioSet = err == nil
		case "fwmark", "tos", "dsfield", "realms", "goto", "suppress_prefixlength", "suppress_ifgroup",
			"uidrange", "l3mdev", "protocol", "ip_proto", "sport", "dport", "no_track", "track_group",
			"inet6", "not", "type", "blackhole", "prohibit", "unreachable", "nop":
			err = fmt.Errorf("rule option %q is not supported by varde", opt)
		default:
			err = fmt.Errorf("unknown rule option %q (keepalived does not take ip rule's abbreviations either)", opt)
		}
		if err != nil {
			return r, err
		}
	}
	return r, r.check(prioSet)
}

// parseRulePrefix reads `all` (any address: no selector) or a prefix.
func parseRulePrefix(s string) (netip.Prefix, error) {
	if s == "all" {
		return netip.Prefix{}, nil
	}
	if s == "default" {
		return netip.Prefix{}, fmt.Errorf("write all, not default, for any address")
	}
	return parseDest(s)
}

func (r *Rule) check(prioSet bool) error {
	if r.Table == 0 {
		return fmt.Errorf("rule has no table (varde builds lookup rules only)")
	}
	if !prioSet {
		return fmt.Errorf("rule has no priority: keepalived picks one (16384, then 16383, ...), which is \"probably not what you want\"; give it explicitly")
	}
	if r.From.IsValid() && r.To.IsValid() && r.From.Addr().Is6() != r.To.Addr().Is6() {
		return fmt.Errorf("rule mixes IPv4 and IPv6 prefixes")
	}
	r.V6 = (r.From.IsValid() && r.From.Addr().Is6()) || (r.To.IsValid() && r.To.Addr().Is6())
	return nil
}

// String renders a route in `ip route` syntax, for logs.
func (r Route) String() string {
	var b strings.Builder
	if r.Type != "" {
		b.WriteString(r.Type + " ")
	}
	b.WriteString(r.Dst.String())
	if r.Via.IsValid() {
		b.WriteString(" via " + r.Via.String())
	}
	if r.Dev != "" {
		b.WriteString(" dev " + r.Dev)
	}
	if r.Table != 0 {
		fmt.Fprintf(&b, " table %d", r.Table)
	}
	return b.String()
}

// String renders a rule in `ip rule` syntax, for logs.
func (r Rule) String() string {
	from := "all"
	if r.From.IsValid() {
		from = r.From.String()
	}
	s := fmt.Sprintf("%d: from %s", r.Priority, from)
	if r.To.IsValid() {
		s += " to " + r.To.String()
	}
	return s + fmt.Sprintf(" lookup %d", r.Table)
}
