package keepalived

import (
	"fmt"
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/varde-lb/varde/core/diag"
)

// Keyword is one entry of the keyword table: where it may appear and whether
// varde gives it behaviour (Enforced) or only parses it.
type Keyword struct {
	Section  string `json:"section"`
	Name     string `json:"name"`
	Enforced bool   `json:"enforced"`
	Note     string `json:"note,omitempty"`
}

// keywords lists every keyword varde reads. Enforced is false for keywords
// that parse but whose behaviour is not built; they produce a warning.
var keywords = []Keyword{
	{"top", "global_defs", true, ""},
	{"top", "vrrp_script", true, ""},
	{"top", "vrrp_instance", true, ""},
	{"top", "include", true, ""},
	{"top", "vrrp_sync_group", true, ""},
	{"vrrp_sync_group", "group", true, ""},
	{"vrrp_sync_group", "notify_master", true, ""},
	{"vrrp_sync_group", "notify_backup", true, ""},
	{"vrrp_sync_group", "notify_fault", true, ""},
	{"vrrp_sync_group", "notify", true, ""},
	{"top", "track_file", true, ""},
	{"top", "vrrp_track_process", true, "polled every 100 ms (keepalived: the kernel's process events)"},
	{"vrrp_track_process", "process", true, ""},
	{"vrrp_track_process", "param_match", true, ""},
	{"vrrp_track_process", "full_command", true, ""},
	{"vrrp_track_process", "weight", true, "default 0 (FAULT), as keepalived's code"},
	{"vrrp_track_process", "quorum", true, ""},
	{"vrrp_track_process", "quorum_max", true, ""},
	{"vrrp_track_process", "delay", true, ""},
	{"vrrp_track_process", "fork_delay", true, "applies to every gain of quorum"},
	{"vrrp_track_process", "terminate_delay", true, ""},
	{"top", "static_ipaddress", true, "installed at start whatever the state; dev required"},
	{"top", "static_routes", true, "installed at start whatever the state"},
	{"top", "static_rules", true, "installed at start whatever the state; priority required"},
	{"top", "vrrp_track_file", true, "keepalived's older name of track_file"},
	{"track_file", "file", true, ""},
	{"track_file", "weight", true, ""},
	{"global_defs", "router_id", true, "used in logs only"},
	{"global_defs", "vrrp_version", true, ""},
	{"global_defs", "script_user", true, ""},
	{"global_defs", "enable_script_security", true, "scripts always run without a shell"},
	{"global_defs", "vrrp_garp_master_delay", true, ""},
	{"global_defs", "vrrp_garp_master_repeat", true, ""},
	{"global_defs", "vrrp_garp_master_refresh", true, ""},
	{"global_defs", "vrrp_garp_master_refresh_repeat", true, ""},
	{"global_defs", "notification_email", false, "varde sends no e-mail; use notify scripts"},
	{"global_defs", "notification_email_from", false, "varde sends no e-mail; use notify scripts"},
	{"global_defs", "smtp_server", false, "varde sends no e-mail; use notify scripts"},
	{"global_defs", "smtp_connect_timeout", false, "varde sends no e-mail; use notify scripts"},
	{"global_defs", "vrrp_skip_check_adv_addr", false, "varde always checks the address list"},
	{"global_defs", "vrrp_strict", false, "strict RFC mode is not implemented"},
	{"global_defs", "vrrp_garp_interval", false, "GARPs of a burst are sent back to back"},
	{"global_defs", "vrrp_gna_interval", false, "NAs of a burst are sent back to back"},
	{"global_defs", "lvs_id", false, "varde has no LVS"},
	{"vrrp_script", "script", true, ""},
	{"vrrp_script", "interval", true, ""},
	{"vrrp_script", "timeout", true, ""},
	{"vrrp_script", "weight", true, ""},
	{"vrrp_script", "rise", true, ""},
	{"vrrp_script", "fall", true, ""},
	{"vrrp_script", "user", false, "scripts run as varde's user"},
	{"vrrp_instance", "state", true, ""},
	{"vrrp_instance", "interface", true, ""},
	{"vrrp_instance", "virtual_router_id", true, ""},
	{"vrrp_instance", "priority", true, ""},
	{"vrrp_instance", "advert_int", true, ""},
	{"vrrp_instance", "version", true, ""},
	{"vrrp_instance", "authentication", true, ""},
	{"vrrp_instance", "virtual_ipaddress", true, ""},
	{"vrrp_instance", "virtual_ipaddress_excluded", true, "not listed in adverts"},
	{"vrrp_instance", "virtual_routes", true, "installed while MASTER"},
	{"vrrp_instance", "virtual_rules", true, "installed while MASTER; priority required"},
	{"vrrp_instance", "track_script", true, ""},
	{"vrrp_instance", "track_interface", true, ""},
	{"vrrp_instance", "track_varde", true, "varde's built-in tracker"},
	{"vrrp_instance", "track_file", true, ""},
	{"vrrp_instance", "track_process", true, ""},
	{"vrrp_instance", "notify_master", true, ""},
	{"vrrp_instance", "notify_backup", true, ""},
	{"vrrp_instance", "notify_fault", true, ""},
	{"vrrp_instance", "notify_stop", true, ""},
	{"vrrp_instance", "notify", true, ""},
	{"vrrp_instance", "nopreempt", true, ""},
	{"vrrp_instance", "preempt_delay", true, ""},
	{"vrrp_instance", "unicast_src_ip", true, ""},
	{"vrrp_instance", "unicast_peer", true, ""},
	{"vrrp_instance", "garp_master_delay", true, ""},
	{"vrrp_instance", "garp_master_repeat", true, ""},
	{"vrrp_instance", "garp_master_refresh", true, ""},
	{"vrrp_instance", "garp_master_refresh_repeat", true, ""},
	{"vrrp_instance", "v3_checksum_as_v2", true, ""},
	{"vrrp_instance", "use_vmac", true, "IPv4 instances; macvlan 00:00:5e:00:01:VRID, mode private"},
	{"vrrp_instance", "vmac_xmit_base", true, ""},
	{"vrrp_instance", "dont_track_primary", false, "the interface is always tracked"},
	{"vrrp_instance", "smtp_alert", false, "varde sends no e-mail"},
	{"authentication", "auth_type", true, ""},
	{"authentication", "auth_pass", true, ""},
}

// Keywords returns the keyword table (a copy), for `varde check` and docs.
func Keywords() []Keyword { return append([]Keyword(nil), keywords...) }

// unsupported are real keepalived keywords varde refuses by name, so a
// configuration relying on them is never silently half-run.
var unsupported = map[string]string{
	"virtual_server":             "varde balances with haproxy.cfg syntax (frontend/backend), not LVS",
	"virtual_server_group":       "varde balances with haproxy.cfg syntax, not LVS",
	"real_server":                "varde balances with haproxy.cfg syntax, not LVS",
	"mcast_src_ip":               "varde sends from the interface's primary address",
	"use_vmac_addr":              "varde puts only IPv4 addresses on a VMAC; other families stay on the parent interface",
	"track_group":                "static track groups (a deleted static address or route moving instances) are not built",
	"track_bfd":                  "BFD is not implemented",
	"bfd_instance":               "BFD is not implemented",
	"linkbeat_use_polling":       "varde watches links through netlink",
	"accept":                     "varde always accepts traffic to its VIPs as master",
	"no_accept":                  "varde always accepts traffic to its VIPs as master",
	"lower_prio_no_advert":       "varde answers lower-priority adverts as keepalived does by default",
	"higher_prio_send_advert":    "not implemented",
	"notify_master_rx_lower_pri": "not implemented",
	"net_namespace":              "run varde inside the namespace (ip netns exec)",
	"strict_mode":                "not implemented",
	"debug":                      "use varde's log level",
	"init_file":                  "create the file before starting varde (a missing file reads as 0)",
}

func knownIn(section string) []string {
	var out []string
	for _, k := range keywords {
		if k.Section == section {
			out = append(out, k.Name)
		}
	}
	return out
}

func lookup(section, name string) (Keyword, bool) {
	for _, k := range keywords {
		if k.Section == section && k.Name == name {
			return k, true
		}
	}
	return Keyword{}, false
}

// nearest returns the known keyword closest to w by edit distance.
func nearest(w string, known []string) string {
	best, _ := diag.Nearest(w, known)
	return best
}

type parser struct {
	d     *diag.List
	cfg   *Config
	depth int
}

// Parse reads one keepalived.conf. Problems go to d; the returned Config
// holds everything that could be understood. Defaults are applied and cross
// references checked by Validate, after every file is merged.
func Parse(file string, src []byte, d *diag.List) *Config {
	p := &parser{d: d, cfg: &Config{}}
	p.file(file, src)
	return p.cfg
}

func (p *parser) file(file string, src []byte) {
	for _, n := range parseTree(file, src, p.d) {
		p.top(n)
	}
}

// noSemicolon refuses a statement with a trailing ';' (`auth_type PASS;`,
// common in tutorials). keepalived has no statement separator: it reads
// "PASS;" as the value, reports a configuration error and runs without the
// setting (here: no authentication, so its adverts and varde's would not
// match). Commands (script, notify*) keep their ';' as keepalived does.
func (p *parser) noSemicolon(n *node) bool {
	// auth_pass is an opaque password: keepalived sends "secret;" as is.
	if n.keyword == "script" || n.keyword == "auth_pass" || strings.HasPrefix(n.keyword, "notify") {
		return true
	}
	for _, a := range n.args {
		if strings.HasSuffix(a, ";") {
			p.semicolonError(n, a)
			return false
		}
	}
	return true
}

func (p *parser) semicolonError(n *node, word string) {
	p.d.Errorf(n.pos, strings.TrimSuffix(n.keyword, ";"), "remove the ';' and write one statement per line, as keepalived requires",
		"%q: keepalived has no ';' separator: it takes the ';' as part of the value, which keepalived itself then rejects (for auth_type: it runs without authentication)", word)
}

// checkSection reports n when it is unknown, refused or only parsed in
// section; it returns false when the caller should skip it.
func (p *parser) checkSection(section string, n *node) bool {
	if k, ok := lookup(section, n.keyword); ok {
		if !k.Enforced {
			p.d.Warnf(n.pos, n.keyword, k.Note, "parsed, not yet enforced by varde")
		}
		return k.Enforced && p.noSemicolon(n)
	}
	if kw := strings.TrimSuffix(n.keyword, ";"); kw != n.keyword {
		if _, ok := lookup(section, kw); ok {
			p.semicolonError(n, n.keyword)
			return false
		}
	}
	if section == "top" && (n.keyword == "virtual_server" || n.keyword == "virtual_server_group") {
		p.lvsRefusal(n)
		return false
	}
	if why, ok := unsupported[n.keyword]; ok {
		p.d.Errorf(n.pos, n.keyword, why, "keepalived keyword not supported by varde")
		return false
	}
	if section == "global_defs" {
		// global_defs has dozens of tuning knobs; refusing them all would
		// make migrations painful, and none changes what is on the wire.
		p.d.Warnf(n.pos, n.keyword, "see docs/vip.md for the global_defs varde reads", "global setting ignored by varde")
		return false
	}
	p.d.Errorf(n.pos, n.keyword, "did you mean "+strconv.Quote(nearest(n.keyword, knownIn(section)))+"?", "unknown keyword in %s", section)
	return false
}

// lvsRefusal refuses an LVS block once (not once per real_server in it)
// and says how to write the same service for varde.
func (p *parser) lvsRefusal(n *node) {
	where := strings.Join(n.args, " ")
	hint := "write the service as a haproxy.cfg frontend and backend (each real_server becomes a server line) and run varde -f haproxy.cfg -f keepalived.conf; the VRRP part of this file runs unchanged"
	if len(n.args) == 2 {
		hint = fmt.Sprintf("write it in haproxy.cfg as `frontend` with `bind %s:%s` and a `backend` with one `server` per real_server, and run varde -f haproxy.cfg -f keepalived.conf; the VRRP part of this file runs unchanged", n.args[0], n.args[1])
	}
	p.d.Errorf(n.pos, n.keyword, hint, "%s %s: LVS (IPVS) load balancing is not supported by varde, which balances in user space with haproxy.cfg's meaning", n.keyword, where)
}

func (p *parser) top(n *node) {
	if !p.checkSection("top", n) {
		return
	}
	switch n.keyword {
	case "include":
		p.include(n)
	case "global_defs":
		if !p.needBlock(n) {
			return
		}
		for _, c := range n.children {
			p.global(c)
		}
	case "vrrp_script":
		if !p.needBlock(n) || !p.needName(n) {
			return
		}
		p.script(n)
	case "vrrp_instance":
		if !p.needBlock(n) || !p.needName(n) {
			return
		}
		p.instance(n)
	case "vrrp_sync_group":
		if !p.needBlock(n) || !p.needName(n) {
			return
		}
		p.syncGroup(n)
	case "track_file", "vrrp_track_file":
		if !p.needBlock(n) || !p.needName(n) {
			return
		}
		p.trackFile(n)
	case "vrrp_track_process":
		if !p.needBlock(n) || !p.needName(n) {
			return
		}
		p.trackProcess(n)
	case "static_ipaddress":
		p.staticAddrs(n)
	case "static_routes":
		p.cfg.StaticRoutes = append(p.cfg.StaticRoutes, p.routesBlock(n)...)
	case "static_rules":
		p.cfg.StaticRules = append(p.cfg.StaticRules, p.rulesBlock(n)...)
	}
}

func (p *parser) needBlock(n *node) bool {
	if !n.block {
		p.d.Errorf(n.pos, n.keyword, n.keyword+" NAME { ... }", "expects a block in braces")
		return false
	}
	return true
}

func (p *parser) needName(n *node) bool {
	if len(n.args) != 1 {
		p.d.Errorf(n.pos, n.keyword, n.keyword+" NAME { ... }", "expects exactly one name")
		return false
	}
	return true
}

func (p *parser) include(n *node) {
	if len(n.args) != 1 {
		p.d.Errorf(n.pos, "include", "include /etc/keepalived/conf.d/*.conf", "expects one file or glob")
		return
	}
	if p.depth >= 8 {
		p.d.Errorf(n.pos, "include", "check for an include loop", "includes nested too deeply")
		return
	}
	pat := n.args[0]
	if !filepath.IsAbs(pat) {
		pat = filepath.Join(filepath.Dir(n.pos.File), pat)
	}
	files, err := filepath.Glob(pat)
	if err != nil {
		p.d.Errorf(n.pos, "include", "", "bad pattern: %v", err)
		return
	}
	if len(files) == 0 {
		p.d.Warnf(n.pos, "include", "", "no file matches %q", n.args[0])
	}
	sort.Strings(files)
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			p.d.Errorf(n.pos, "include", "", "read: %v", err)
			continue
		}
		p.depth++
		p.file(f, src)
		p.depth--
	}
}

func (p *parser) global(n *node) {
	if !p.checkSection("global_defs", n) {
		return
	}
	g := &p.cfg.Global
	switch n.keyword {
	case "router_id":
		if s, ok := p.oneArg(n); ok {
			g.RouterID = s
		}
	case "vrrp_version":
		if v, ok := p.intArg(n, 2, 3); ok {
			g.VRRPVersion = v
		}
	case "script_user":
		if len(n.args) < 1 {
			p.d.Errorf(n.pos, n.keyword, "script_user USER [GROUP]", "expects a user name")
			return
		}
		g.ScriptUser = n.args[0]
	case "enable_script_security":
		g.EnableScriptSecurity = true
	case "vrrp_garp_master_delay":
		if v, ok := p.secondsArg(n, 0, 1000, false); ok {
			g.GarpMasterDelay = &v
		}
	case "vrrp_garp_master_repeat":
		if v, ok := p.intArg(n, 0, 1000); ok {
			g.GarpMasterRepeat = &v
		}
	case "vrrp_garp_master_refresh":
		if v, ok := p.intArg(n, 0, 86400); ok {
			d := time.Duration(v) * time.Second
			g.GarpMasterRefresh = &d
		}
	case "vrrp_garp_master_refresh_repeat":
		if v, ok := p.intArg(n, 1, 1000); ok {
			g.GarpMasterRefreshRepeat = &v
		}
	}
}

func (p *parser) script(n *node) {
	s := &Script{Name: n.args[0], Pos: n.pos, CommandPos: n.pos}
	for _, c := range n.children {
		if !p.checkSection("vrrp_script", c) {
			continue
		}
		switch c.keyword {
		case "script":
			s.Command = commandArgs(c.args)
			s.CommandPos = c.pos
			if len(s.Command) == 0 {
				p.d.Errorf(c.pos, c.keyword, `script "/path/to/check arg"`, "expects a command")
			}
		case "interval":
			if v, ok := p.secondsArg(c, 0.001, 86400, false); ok {
				s.Interval = v
			}
		case "timeout":
			if v, ok := p.secondsArg(c, 0.001, 86400, false); ok {
				s.Timeout = v
			}
		case "weight":
			if len(c.args) == 2 && c.args[1] == "reverse" {
				p.d.Errorf(c.pos, c.keyword, "use a negative weight", "weight reverse is not supported by varde")
				continue
			}
			if v, ok := p.intArg(c, -254, 254); ok {
				s.Weight = v
			}
		case "rise":
			if v, ok := p.intArg(c, 1, 1000); ok {
				s.Rise = v
			}
		case "fall":
			if v, ok := p.intArg(c, 1, 1000); ok {
				s.Fall = v
			}
		}
	}
	p.cfg.Scripts = append(p.cfg.Scripts, s)
}

// commandArgs turns `script "killall -0 haproxy"` or `notify_master /x.sh
// master` into an argv; keepalived splits a quoted command on spaces too.
func commandArgs(args []string) []string {
	var out []string
	for _, a := range args {
		out = append(out, strings.Fields(a)...)
	}
	return out
}

func (p *parser) instance(n *node) {
	in := &Instance{Name: n.args[0], Pos: n.pos, lines: map[string]int{}, set: map[string]bool{}}
	for _, c := range n.children {
		if !p.checkSection("vrrp_instance", c) {
			continue
		}
		if _, dup := in.lines[c.keyword]; dup && !c.block && c.keyword != "notify" {
			p.d.Warnf(c.pos, c.keyword, "remove one of them", "given twice, the last one wins")
		}
		in.lines[c.keyword] = c.pos.Line
		switch c.keyword {
		case "state":
			if s, ok := p.oneArg(c); ok {
				switch strings.ToUpper(s) {
				case "MASTER", "BACKUP":
					in.State = strings.ToUpper(s)
				default:
					p.d.Errorf(c.pos, c.keyword, "state MASTER or state BACKUP", "unknown state %q", s)
				}
			}
		case "interface":
			if s, ok := p.oneArg(c); ok {
				in.Interface = s
			}
		case "virtual_router_id":
			if v, ok := p.intArg(c, 1, 255); ok {
				in.VRID = v
			}
		case "priority":
			if v, ok := p.intArg(c, 1, 255); ok {
				in.Priority = v
				in.set["priority"] = true
			}
		case "advert_int":
			if v, ok := p.secondsArg(c, 0.01, 255, false); ok {
				in.AdvertInt = v
				in.set["advert_int"] = true
			}
		case "version":
			if v, ok := p.intArg(c, 2, 3); ok {
				in.Version = v
			}
		case "authentication":
			p.auth(in, c)
		case "virtual_ipaddress":
			in.VIPs = append(in.VIPs, p.vips(c)...)
		case "virtual_ipaddress_excluded":
			in.ExcludedVIPs = append(in.ExcludedVIPs, p.vips(c)...)
		case "virtual_routes":
			in.Routes = append(in.Routes, p.routesBlock(c)...)
		case "virtual_rules":
			in.Rules = append(in.Rules, p.rulesBlock(c)...)
		case "track_script", "track_interface":
			p.tracks(in, c)
		case "track_file":
			p.trackFileRefs(in, c)
		case "track_process":
			p.trackProcessRefs(in, c)
		case "track_varde":
			p.trackVarde(in, c)
		case "notify_master", "notify_backup", "notify_fault", "notify_stop", "notify":
			argv, ok := p.notifyScript(c)
			if !ok {
				continue
			}
			switch c.keyword {
			case "notify_master":
				in.NotifyMaster = argv
			case "notify_backup":
				in.NotifyBackup = argv
			case "notify_fault":
				in.NotifyFault = argv
			case "notify_stop":
				in.NotifyStop = argv
			case "notify":
				in.Notify = argv
			}
		case "nopreempt":
			in.NoPreempt = true
		case "preempt_delay":
			if v, ok := p.secondsArg(c, 0, 1000, false); ok {
				in.PreemptDelay = v
			}
		case "unicast_src_ip":
			if s, ok := p.oneArg(c); ok {
				a, err := netip.ParseAddr(s)
				if err != nil {
					p.d.Errorf(c.pos, c.keyword, "unicast_src_ip 198.18.0.1", "bad address %q", s)
					continue
				}
				in.UnicastSrc = a
			}
		case "unicast_peer":
			p.peers(in, c)
		case "garp_master_delay":
			if v, ok := p.secondsArg(c, 0, 1000, false); ok {
				in.GarpMasterDelay = v
				in.set["garp_master_delay"] = true
			}
		case "garp_master_repeat":
			if v, ok := p.intArg(c, 0, 1000); ok {
				in.GarpMasterRepeat = v
				in.set["garp_master_repeat"] = true
			}
		case "garp_master_refresh":
			// keepalived reads whole seconds; 0 = no refresh.
			if v, ok := p.intArg(c, 0, 86400); ok {
				in.GarpMasterRefresh = time.Duration(v) * time.Second
				in.set["garp_master_refresh"] = true
			}
		case "garp_master_refresh_repeat":
			if v, ok := p.intArg(c, 1, 1000); ok {
				in.GarpMasterRefreshRepeat = v
				in.set["garp_master_refresh_repeat"] = true
			}
		case "v3_checksum_as_v2":
			in.V3ChecksumAsV2 = true
		case "use_vmac":
			p.useVMAC(in, c)
		case "vmac_xmit_base":
			in.VMACXmitBase = true
		}
	}
	p.cfg.Instances = append(p.cfg.Instances, in)
}

func (p *parser) auth(in *Instance, n *node) {
	if !p.needBlock(n) {
		return
	}
	for _, c := range n.children {
		if !p.checkSection("authentication", c) {
			continue
		}
		in.lines[c.keyword] = c.pos.Line
		s, ok := p.oneArg(c)
		if !ok {
			continue
		}
		switch c.keyword {
		case "auth_type":
			switch strings.ToUpper(s) {
			case "PASS":
				in.AuthType = "PASS"
			case "AH":
				in.AuthType = "AH"
			default:
				p.d.Errorf(c.pos, c.keyword, "auth_type PASS", "unknown authentication type %q", s)
			}
		case "auth_pass":
			in.AuthPass = s
		}
	}
}

func (p *parser) vips(n *node) []VIP {
	if !p.needBlock(n) {
		return nil
	}
	var out []VIP
	for _, c := range n.children {
		words := append([]string{c.keyword}, c.args...)
		v := VIP{Pos: c.pos}
		pfx, err := parseVIPAddr(words[0])
		if err != nil {
			p.d.Errorf(c.pos, n.keyword, "ADDR[/PREFIX] [dev IF] [label NAME] [brd ADDR]", "%v", err)
			continue
		}
		v.Prefix = pfx
		ok := true
		for i := 1; i < len(words); i += 2 {
			if i+1 >= len(words) {
				p.d.Errorf(c.pos, n.keyword, "ADDR[/PREFIX] [dev IF] [label NAME] [brd ADDR]", "%s needs a value", words[i])
				ok = false
				break
			}
			val := words[i+1]
			switch words[i] {
			case "dev":
				v.Dev = val
			case "label":
				v.Label = val
			case "brd", "broadcast":
				b, err := netip.ParseAddr(val)
				if err != nil || !b.Is4() {
					p.d.Errorf(c.pos, n.keyword, "brd 198.18.0.255", "bad broadcast address %q", val)
					ok = false
				}
				v.Brd = b
			case "scope":
				p.d.Warnf(c.pos, n.keyword, "", "scope is parsed, not yet enforced by varde (addresses are added with scope global)")
			default:
				p.d.Errorf(c.pos, n.keyword, "supported options: dev, label, brd", "option %q not supported by varde", words[i])
				ok = false
			}
		}
		if ok {
			out = append(out, v)
		}
	}
	return out
}

// staticAddrs reads static_ipaddress: virtual_ipaddress's syntax, with a
// dev on every line (keepalived's default_interface, eth0 unless set, is
// not guessed).
func (p *parser) staticAddrs(n *node) {
	for _, v := range p.vips(n) {
		if v.Dev == "" {
			p.d.Errorf(v.Pos, "static_ipaddress", v.Prefix.String()+" dev IF", "static address needs dev IF (keepalived would use default_interface)")
			continue
		}
		p.cfg.StaticAddrs = append(p.cfg.StaticAddrs, v)
	}
}

// parseVIPAddr reads `198.18.0.100` (a /32) or `198.18.0.100/24` keeping the
// host address, as keepalived does (prefixes only size the secondary address).
func parseVIPAddr(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		pfx, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("bad address %q", s)
		}
		return pfx, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("bad address %q", s)
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

func (p *parser) tracks(in *Instance, n *node) {
	if !p.needBlock(n) {
		return
	}
	for _, c := range n.children {
		t := Track{Name: c.keyword, Line: c.pos.Line}
		switch {
		case len(c.args) == 0:
		case len(c.args) == 2 && c.args[0] == "weight":
			w, err := strconv.Atoi(c.args[1])
			if err != nil || w < -254 || w > 254 {
				p.d.Errorf(c.pos, n.keyword, "weight between -254 and 254", "bad weight %q", c.args[1])
				continue
			}
			t.Weight = &w
		default:
			p.d.Errorf(c.pos, n.keyword, "NAME [weight N]", "unexpected %q", strings.Join(c.args, " "))
			continue
		}
		if n.keyword == "track_script" {
			in.TrackScripts = append(in.TrackScripts, t)
		} else {
			in.TrackInterfaces = append(in.TrackInterfaces, t)
		}
	}
}

func (p *parser) trackVarde(in *Instance, n *node) {
	if !p.needBlock(n) {
		return
	}
	const hint = "backend NAME [weight N] | listeners [weight N]"
	for _, c := range n.children {
		t := TrackVarde{Line: c.pos.Line}
		rest := c.args
		switch c.keyword {
		case "backend":
			if len(rest) == 0 {
				p.d.Errorf(c.pos, "track_varde", hint, "backend needs a name")
				continue
			}
			t.Backend, rest = rest[0], rest[1:]
		case "listeners":
			t.Listeners = true
		default:
			p.d.Errorf(c.pos, "track_varde", hint, "unknown tracker %q", c.keyword)
			continue
		}
		if len(rest) == 2 && rest[0] == "weight" {
			w, err := strconv.Atoi(rest[1])
			if err != nil || w < -254 || w > 254 {
				p.d.Errorf(c.pos, "track_varde", "weight between -254 and 254", "bad weight %q", rest[1])
				continue
			}
			t.Weight = w
		} else if len(rest) != 0 {
			p.d.Errorf(c.pos, "track_varde", hint, "unexpected %q", strings.Join(rest, " "))
			continue
		}
		in.TrackVarde = append(in.TrackVarde, t)
	}
}

func (p *parser) peers(in *Instance, n *node) {
	if !p.needBlock(n) {
		return
	}
	for _, c := range n.children {
		a, err := netip.ParseAddr(c.keyword)
		if err != nil {
			p.d.Errorf(c.pos, "unicast_peer", "one address per line", "bad address %q", c.keyword)
			continue
		}
		if len(c.args) > 0 {
			p.d.Errorf(c.pos, "unicast_peer", "one address per line", "peer options %q not supported by varde", strings.Join(c.args, " "))
		}
		in.UnicastPeers = append(in.UnicastPeers, a)
	}
}

func (p *parser) oneArg(n *node) (string, bool) {
	if len(n.args) != 1 {
		p.d.Errorf(n.pos, n.keyword, "", "expects exactly one value, got %d", len(n.args))
		return "", false
	}
	if n.block {
		p.d.Errorf(n.pos, n.keyword, "", "does not take a block")
		return "", false
	}
	return n.args[0], true
}

func (p *parser) intArg(n *node, lo, hi int) (int, bool) {
	s, ok := p.oneArg(n)
	if !ok {
		return 0, false
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < lo || v > hi {
		p.d.Errorf(n.pos, n.keyword, fmt.Sprintf("an integer from %d to %d", lo, hi), "bad value %q", s)
		return 0, false
	}
	return v, true
}

// secondsArg reads keepalived's durations: seconds, fractions allowed.
func (p *parser) secondsArg(n *node, lo, hi float64, _ bool) (time.Duration, bool) {
	s, ok := p.oneArg(n)
	if !ok {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || f < lo || f > hi {
		p.d.Errorf(n.pos, n.keyword, fmt.Sprintf("seconds from %g to %g", lo, hi), "bad value %q", s)
		return 0, false
	}
	return time.Duration(math.Round(f * float64(time.Second))), true
}

// trackFile reads a `track_file NAME { file PATH weight N [reverse] }` block.
func (p *parser) trackFile(n *node) {
	tf := &TrackFile{Name: n.args[0], Pos: n.pos, Weight: 1}
	for _, c := range n.children {
		if !p.checkSection("track_file", c) {
			continue
		}
		switch c.keyword {
		case "file":
			if s, ok := p.oneArg(c); ok {
				tf.Path = s
			}
		case "weight":
			w, rev, ok := p.fileWeight(c, c.args)
			if ok {
				tf.Weight, tf.Reverse = w, rev
			}
		}
	}
	if tf.Path == "" {
		p.d.Errorf(n.pos, n.keyword, "add: file /path/to/file", "track_file %s has no file", tf.Name)
		return
	}
	p.cfg.TrackFiles = append(p.cfg.TrackFiles, tf)
}

// fileWeight reads `N [reverse|noreverse]` (args after the weight keyword).
func (p *parser) fileWeight(c *node, args []string) (w int, reverse, ok bool) {
	if len(args) < 1 || len(args) > 2 {
		p.d.Errorf(c.pos, "weight", "weight N [reverse]", "expects a weight between -254 and 254")
		return 0, false, false
	}
	w, err := strconv.Atoi(args[0])
	if err != nil || w < -254 || w > 254 {
		p.d.Errorf(c.pos, "weight", "weight between -254 and 254", "bad weight %q", args[0])
		return 0, false, false
	}
	if len(args) == 2 {
		switch args[1] {
		case "reverse":
			reverse = true
		case "noreverse":
		default:
			p.d.Errorf(c.pos, "weight", "weight N [reverse|noreverse]", "unknown weight option %q", args[1])
			return 0, false, false
		}
	}
	return w, reverse, true
}

// trackFileRefs reads an instance's `track_file { NAME [weight N [reverse]] }`.
func (p *parser) trackFileRefs(in *Instance, n *node) {
	if !p.needBlock(n) {
		return
	}
	for _, c := range n.children {
		t := TrackFileRef{Name: c.keyword, Line: c.pos.Line}
		switch {
		case len(c.args) == 0:
		case c.args[0] == "weight":
			w, rev, ok := p.fileWeight(c, c.args[1:])
			if !ok {
				continue
			}
			t.Weight, t.weightSet = w, true
			if len(c.args) == 3 {
				t.Reverse, t.reverseSet = rev, true
			}
		default:
			p.d.Errorf(c.pos, "track_file", "NAME [weight N [reverse]]", "unexpected %q", strings.Join(c.args, " "))
			continue
		}
		in.TrackFiles = append(in.TrackFiles, t)
	}
}

// syncGroup reads `vrrp_sync_group NAME { group { I1 I2 } notify_* }`.
func (p *parser) syncGroup(n *node) {
	g := &SyncGroup{Name: n.args[0], Pos: n.pos}
	for _, c := range n.children {
		if !p.checkSection("vrrp_sync_group", c) {
			continue
		}
		if c.keyword == "group" {
			if !p.needBlock(c) {
				continue
			}
			for _, m := range c.children {
				g.Members = append(g.Members, m.keyword)
				g.Members = append(g.Members, m.args...)
			}
			continue
		}
		argv, ok := p.notifyScript(c)
		if !ok {
			continue
		}
		switch c.keyword {
		case "notify_master":
			g.NotifyMaster = argv
		case "notify_backup":
			g.NotifyBackup = argv
		case "notify_fault":
			g.NotifyFault = argv
		case "notify":
			g.Notify = argv
		}
	}
	p.cfg.SyncGroups = append(p.cfg.SyncGroups, g)
}

// notifyScript reads a notify script line's command and arguments (an
// instance's or a sync group's); an empty one is an error.
func (p *parser) notifyScript(c *node) ([]string, bool) {
	argv := commandArgs(c.args)
	if len(argv) == 0 {
		p.d.Errorf(c.pos, c.keyword, c.keyword+" /path/to/script [ARGS]", "expects a script")
		return nil, false
	}
	return argv, true
}
