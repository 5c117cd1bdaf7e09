package keepalived

import (
	"fmt"
	"time"

	"github.com/varde-lb/varde/core/diag"
)

// Defaults from keepalived 2.2.7 (core/global_data.c, vrrp_data.c).
const (
	DefaultPriority         = 100
	DefaultAdvertInt        = time.Second
	DefaultGarpMasterDelay  = 5 * time.Second
	DefaultGarpMasterRepeat = 5
	DefaultScriptInterval   = time.Second
	DefaultRise             = 1
	DefaultFall             = 1
)

// Validate applies keepalived's defaults and reports every inconsistency:
// ranges that depend on the version, missing mandatory keywords, unknown
// track_script names, duplicate instances.
func (c *Config) Validate(d *diag.List) {
	for _, s := range c.Scripts {
		if len(s.Command) == 0 {
			d.Errorf(s.Pos, "vrrp_script", `add script "/path/to/check"`, "%s has no script", s.Name)
		}
		if s.Interval == 0 {
			s.Interval = DefaultScriptInterval
		}
		if s.Timeout == 0 {
			s.Timeout = s.Interval // keepalived: a run may last up to its interval
		}
		if s.Rise == 0 {
			s.Rise = DefaultRise
		}
		if s.Fall == 0 {
			s.Fall = DefaultFall
		}
	}
	seenScript := map[string]bool{}
	for _, s := range c.Scripts {
		if seenScript[s.Name] {
			d.Errorf(s.Pos, "vrrp_script", "rename one of them", "duplicate vrrp_script %s", s.Name)
		}
		seenScript[s.Name] = true
	}
	names := map[string]bool{}
	type vrKey struct {
		ifc  string
		vrid int
		v6   bool
	}
	vrids := map[vrKey]string{}
	for _, in := range c.Instances {
		c.validateInstance(in, d)
		if names[in.Name] {
			d.Errorf(in.Pos, "vrrp_instance", "rename one of them", "duplicate vrrp_instance %s", in.Name)
		}
		names[in.Name] = true
		if in.Interface != "" && in.VRID != 0 {
			k := vrKey{in.Interface, in.VRID, in.IsIPv6()}
			if other, ok := vrids[k]; ok {
				d.Errorf(in.at("virtual_router_id"), "virtual_router_id", "give each instance on an interface its own VRID", "VRID %d on %s already used by %s", in.VRID, in.Interface, other)
			}
			vrids[k] = in.Name
		}
	}
	c.validateSyncGroups(d)
}

// validateSyncGroups resolves each vrrp_sync_group's members. keepalived
// ignores weighted trackers in a sync group (a priority change in one
// member would split the group) unless sync_group_tracking_weight is set,
// which varde does not read: rather than silently dropping a tracker,
// such a member is an error asking for weight 0 (a failure is then FAULT
// for the whole group, keepalived's behaviour). An address owner (priority
// 255) becomes master without waiting for the group, as in keepalived,
// and is refused too.
func (c *Config) validateSyncGroups(d *diag.List) {
	byName := map[string]*Instance{}
	for _, in := range c.Instances {
		byName[in.Name] = in
	}
	for _, g := range c.SyncGroups {
		if len(g.Members) == 0 {
			d.Errorf(g.Pos, "vrrp_sync_group", "group { VI_1 VI_2 }", "vrrp_sync_group %s has no group block", g.Name)
		}
		if len(g.Members) == 1 {
			d.Warnf(g.Pos, "vrrp_sync_group", "add the other instances or remove the group", "sync group %s has only 1 virtual router: this probably isn't what you want (as keepalived says)", g.Name)
		}
		for _, name := range g.Members {
			in := byName[name]
			switch {
			case in == nil:
				d.Errorf(g.Pos, "vrrp_sync_group", "name a vrrp_instance", "sync group %s: unknown vrrp_instance %s", g.Name, name)
			case in.SyncGroup != "":
				d.Errorf(g.Pos, "vrrp_sync_group", "put each instance in one group", "vrrp_instance %s is already in sync group %s", name, in.SyncGroup)
			default:
				in.SyncGroup = g.Name
				c.checkSyncMember(g, in, d)
			}
		}
	}
}

func (c *Config) checkSyncMember(g *SyncGroup, in *Instance, d *diag.List) {
	const hint = "use weight 0 (a failure puts the whole group in FAULT); keepalived ignores weighted trackers in a sync group"
	bad := func(line int, what string) {
		p := in.Pos
		if line > 0 {
			p.Line = line
		}
		d.Errorf(p, what, hint, "vrrp_instance %s is in sync group %s: a weighted %s is not supported there", in.Name, g.Name, what)
	}
	for _, t := range in.TrackScripts {
		w := 0
		if s := c.Script(t.Name); s != nil {
			w = s.Weight
		}
		if t.Weight != nil {
			w = *t.Weight
		}
		if w != 0 {
			bad(t.Line, "track_script")
		}
	}
	for _, t := range in.TrackInterfaces {
		if t.Weight != nil && *t.Weight != 0 {
			bad(t.Line, "track_interface")
		}
	}
	for _, t := range in.TrackFiles {
		if t.Weight != 0 {
			bad(t.Line, "track_file")
		}
	}
	for _, t := range in.TrackVarde {
		if t.Weight != 0 {
			bad(t.Line, "track_varde")
		}
	}
	for _, t := range in.TrackProcesses {
		if t.EffectiveWeight() != 0 {
			bad(t.Line, "track_process")
		}
	}
	if in.Priority == 255 {
		d.Errorf(in.at("priority"), "priority", "use a priority below 255", "vrrp_instance %s is in sync group %s: an address owner (priority 255) does not wait for its group", in.Name, g.Name)
	}
}

func (c *Config) validateInstance(in *Instance, d *diag.List) {
	if in.lines == nil {
		in.lines, in.set = map[string]int{}, map[string]bool{}
	}
	if in.Interface == "" {
		d.Errorf(in.Pos, "interface", "add: interface eth0", "vrrp_instance %s has no interface", in.Name)
	}
	if in.VRID == 0 {
		d.Errorf(in.Pos, "virtual_router_id", "add: virtual_router_id 51 (1-255, the same on every node)", "vrrp_instance %s has no virtual_router_id", in.Name)
	}
	if len(in.VIPs) == 0 {
		d.Warnf(in.Pos, "virtual_ipaddress", "add a virtual_ipaddress block", "vrrp_instance %s has no virtual address", in.Name)
	}
	// Version: instance, then global, then 2; IPv6 is always v3.
	if in.Version == 0 {
		in.Version = c.Global.VRRPVersion
	}
	if in.Version == 0 {
		in.Version = 2
	}
	v6 := in.IsIPv6()
	for _, v := range in.VIPs {
		if v.Prefix.Addr().Is6() != v6 {
			d.Errorf(v.Pos, "virtual_ipaddress", "use one instance per address family", "mixes IPv4 and IPv6 addresses")
		}
		if v.Dev != "" && in.Interface != "" && v.Dev != in.Interface {
			d.Warnf(v.Pos, "virtual_ipaddress", "", "address on %s while adverts go out on %s", v.Dev, in.Interface)
		}
	}
	if v6 && in.Version == 2 {
		if in.lines["version"] != 0 {
			d.Warnf(in.at("version"), "version", "remove it or write version 3", "IPv6 needs VRRPv3, using version 3")
		}
		in.Version = 3
	}
	// Priority: keepalived makes `state MASTER` without priority the owner.
	if !in.set["priority"] {
		if in.State == "MASTER" {
			in.Priority = 255
			d.Warnf(in.at("state"), "state", "set a priority below 255 unless this node owns the addresses", "state MASTER without priority means priority 255 (address owner), as in keepalived")
		} else {
			in.Priority = DefaultPriority
		}
	}
	if in.Priority == 255 && in.NoPreempt {
		d.Errorf(in.at("nopreempt"), "nopreempt", "lower the priority below 255", "an address owner (priority 255) always preempts")
	}
	if in.NoPreempt && in.State == "MASTER" {
		d.Warnf(in.at("nopreempt"), "nopreempt", "use state BACKUP on every node", "nopreempt does not prevent an initial MASTER from taking over")
	}
	// Advert interval per version.
	if !in.set["advert_int"] {
		in.AdvertInt = DefaultAdvertInt
	}
	if in.Version == 2 {
		if r := in.AdvertInt.Round(time.Second); r != in.AdvertInt {
			if r < time.Second {
				r = time.Second
			}
			d.Warnf(in.at("advert_int"), "advert_int", "use version 3 for sub-second adverts", "VRRPv2 advert_int must be whole seconds, rounding to %v", r)
			in.AdvertInt = r
		}
	} else {
		if r := in.AdvertInt.Round(10 * time.Millisecond); r != in.AdvertInt {
			d.Warnf(in.at("advert_int"), "advert_int", "", "VRRPv3 advert_int is in hundredths of a second, rounding to %v", r)
			in.AdvertInt = r
		}
		if in.AdvertInt > 40950*time.Millisecond {
			d.Errorf(in.at("advert_int"), "advert_int", "at most 40.95 with version 3", "advert_int too large for VRRPv3")
		}
	}
	// Authentication.
	switch in.AuthType {
	case "AH":
		d.Errorf(in.at("auth_type"), "auth_type", "use auth_type PASS, or better no authentication with a firewall rule for protocol 112", "IPsec AH authentication is not supported by varde")
	case "PASS":
		if in.AuthPass == "" {
			d.Errorf(in.at("auth_type"), "auth_pass", "add: auth_pass SECRET (at most 8 characters)", "auth_type PASS without auth_pass")
		} else if len(in.AuthPass) > 8 {
			d.Warnf(in.at("auth_pass"), "auth_pass", fmt.Sprintf("write auth_pass %s", in.AuthPass[:8]), "password longer than 8 characters: only %q is used, as keepalived does", in.AuthPass[:8])
		}
		if in.Version == 3 {
			d.Warnf(in.at("auth_type"), "authentication", "remove the authentication block", "VRRP version 3 does not support authentication, ignoring it (as keepalived does)")
			in.AuthType, in.AuthPass = "", ""
		}
	case "":
		if in.AuthPass != "" {
			d.Errorf(in.at("auth_pass"), "auth_type", "add: auth_type PASS", "auth_pass without auth_type")
		}
	}
	// Tracking.
	c.resolveProcesses(in, d)
	c.validateVMAC(in, d)
	for _, t := range in.TrackScripts {
		if c.Script(t.Name) == nil {
			p := in.Pos
			p.Line = t.Line
			d.Errorf(p, "track_script", "define it with vrrp_script "+t.Name+" { ... }", "unknown vrrp_script %s", t.Name)
		}
	}
	for i := range in.TrackFiles {
		t := &in.TrackFiles[i]
		tf := c.TrackFile(t.Name)
		if tf == nil {
			p := in.Pos
			p.Line = t.Line
			d.Errorf(p, "track_file", "define it with track_file "+t.Name+" { file PATH }", "unknown track_file %s", t.Name)
			continue
		}
		t.Path = tf.Path
		if !t.weightSet {
			t.Weight = tf.Weight
		}
		if !t.reverseSet {
			t.Reverse = tf.Reverse
		}
	}
	// Unicast.
	if in.UnicastSrc.IsValid() && len(in.UnicastPeers) == 0 {
		d.Warnf(in.at("unicast_src_ip"), "unicast_src_ip", "add a unicast_peer block", "unicast_src_ip without unicast_peer: adverts go to the multicast group")
	}
	for _, a := range in.UnicastPeers {
		if a.Is6() != v6 && len(in.VIPs) > 0 {
			d.Errorf(in.at("unicast_peer"), "unicast_peer", "", "peer %s is not of the instance's address family", a)
		}
	}
	// GARP settings: instance, then global, then keepalived's defaults.
	if !in.set["garp_master_delay"] {
		in.GarpMasterDelay = DefaultGarpMasterDelay
		if c.Global.GarpMasterDelay != nil {
			in.GarpMasterDelay = *c.Global.GarpMasterDelay
		}
	}
	if !in.set["garp_master_repeat"] {
		in.GarpMasterRepeat = DefaultGarpMasterRepeat
		if c.Global.GarpMasterRepeat != nil {
			in.GarpMasterRepeat = *c.Global.GarpMasterRepeat
		}
	}
	if !in.set["garp_master_refresh"] && c.Global.GarpMasterRefresh != nil {
		in.GarpMasterRefresh = *c.Global.GarpMasterRefresh
	}
	if !in.set["garp_master_refresh_repeat"] {
		in.GarpMasterRefreshRepeat = 1
		if c.Global.GarpMasterRefreshRepeat != nil {
			in.GarpMasterRefreshRepeat = *c.Global.GarpMasterRefreshRepeat
		}
	}
}
