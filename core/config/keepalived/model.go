package keepalived

import (
	"net/netip"
	"time"

	"github.com/varde-lb/varde/core/diag"
)

// Config is one or more keepalived.conf files, merged in -f order.
type Config struct {
	Global     Global       `json:"global"`
	Scripts    []*Script    `json:"scripts,omitempty"`
	SyncGroups []*SyncGroup `json:"sync_groups,omitempty"`
	// TrackFiles are the track_file / vrrp_track_file blocks.
	TrackFiles []*TrackFile `json:"track_files,omitempty"`
	// Processes are the vrrp_track_process blocks.
	Processes []*Process  `json:"track_processes,omitempty"`
	Instances []*Instance `json:"instances,omitempty"`
	// StaticAddrs, StaticRoutes, StaticRules are static_ipaddress,
	// static_routes and static_rules: installed when VRRP starts, whatever
	// the instances' states, removed when it stops (not on a handover).
	StaticAddrs  []VIP   `json:"static_ipaddress,omitempty"`
	StaticRoutes []Route `json:"static_routes,omitempty"`
	StaticRules  []Rule  `json:"static_rules,omitempty"`
}

// Global holds the global_defs varde uses; the rest is accepted with a warning.
type Global struct {
	RouterID             string `json:"router_id,omitempty"`
	VRRPVersion          int    `json:"vrrp_version,omitempty"` // 0 = keepalived's default, 2
	ScriptUser           string `json:"script_user,omitempty"`
	EnableScriptSecurity bool   `json:"enable_script_security,omitempty"`
	// GarpMasterDelay / GarpMasterRepeat are the vrrp_garp_master_* defaults
	// for instances that do not set their own; nil = keepalived's default.
	GarpMasterDelay  *time.Duration `json:"garp_master_delay,omitempty"`
	GarpMasterRepeat *int           `json:"garp_master_repeat,omitempty"`
	// GarpMasterRefresh / GarpMasterRefreshRepeat are the
	// vrrp_garp_master_refresh* defaults; nil = keepalived's (0 = never, 1).
	GarpMasterRefresh       *time.Duration `json:"garp_master_refresh,omitempty"`
	GarpMasterRefreshRepeat *int           `json:"garp_master_refresh_repeat,omitempty"`
}

// Script is a vrrp_script block: a command run every Interval whose exit
// status, after Rise successes or Fall failures, changes the priority of the
// instances tracking it by Weight (weight 0: failure puts them in FAULT).
type Script struct {
	Name    string   `json:"name"`
	Pos     diag.Pos `json:"pos"`
	Command []string `json:"command"`
	// CommandPos is where the `script` line was written (Pos when it was not).
	CommandPos diag.Pos      `json:"-"`
	Interval   time.Duration `json:"interval"`
	Timeout    time.Duration `json:"timeout"`
	Weight     int           `json:"weight"`
	Rise       int           `json:"rise"`
	Fall       int           `json:"fall"`
}

// SyncGroup is a vrrp_sync_group block: instances that change state
// together (one in FAULT puts all in FAULT, one stepping down to BACKUP
// takes the others with it, and they become MASTER only when all of them
// want to), with notify scripts for the group's state.
type SyncGroup struct {
	Name         string   `json:"name"`
	Pos          diag.Pos `json:"pos"`
	Members      []string `json:"group"`
	NotifyMaster []string `json:"notify_master,omitempty"`
	NotifyBackup []string `json:"notify_backup,omitempty"`
	NotifyFault  []string `json:"notify_fault,omitempty"`
	Notify       []string `json:"notify,omitempty"`
}

// TrackFile is a `track_file NAME { file PATH weight N [reverse] }` block
// (vrrp_track_file is keepalived's older name): the integer in the file,
// times the weight, moves the priority of the instances tracking it.
type TrackFile struct {
	Name    string   `json:"name"`
	Pos     diag.Pos `json:"pos"`
	Path    string   `json:"file"`
	Weight  int      `json:"weight"` // keepalived's default 1
	Reverse bool     `json:"reverse,omitempty"`
}

// TrackFileRef is one line of an instance's track_file block, resolved by
// Validate: the file's path and the weight and direction that apply.
//
// keepalived's meaning: the file holds an integer V (strtol, base 0; a
// missing, empty or unreadable file is 0). Weight 0: V != 0 is FAULT (with
// reverse: V == 0 is). Otherwise V x weight (negated with reverse) is added
// to the priority; a product of -254 or less is FAULT.
type TrackFileRef struct {
	Name    string `json:"name"`
	Path    string `json:"file,omitempty"`
	Weight  int    `json:"weight"`
	Reverse bool   `json:"reverse,omitempty"`
	Line    int    `json:"-"`
	// weightSet/reverseSet: given on the instance's line (else the block's).
	weightSet, reverseSet bool
}

// VIP is one virtual_ipaddress line: `ADDR[/PREFIX] [dev IF] [label L] [brd B]`.
type VIP struct {
	Prefix netip.Prefix `json:"prefix"`
	Dev    string       `json:"dev,omitempty"`
	Label  string       `json:"label,omitempty"`
	Brd    netip.Addr   `json:"brd,omitzero"`
	Pos    diag.Pos     `json:"-"`
}

// Track is one entry of track_script / track_interface: a name and an
// optional weight overriding the script's own (nil = use the default).
type Track struct {
	Name   string `json:"name"`
	Weight *int   `json:"weight,omitempty"`
	Line   int    `json:"-"`
}

// TrackVarde is one line of varde's built-in tracker block:
//
//	track_varde {
//	    backend NAME [weight N]   # every server of backend NAME down
//	    listeners [weight N]      # a frontend listener cannot accept
//	}
//
// Weight 0 (the default) puts the instance in FAULT, as for vrrp_script.
type TrackVarde struct {
	Backend   string `json:"backend,omitempty"`
	Listeners bool   `json:"listeners,omitempty"`
	Weight    int    `json:"weight"`
	Line      int    `json:"-"`
}

// Instance is a vrrp_instance block with keepalived's defaults applied by
// Validate (Priority, AdvertInt, Version, GARP settings).
type Instance struct {
	Name      string   `json:"name"`
	Pos       diag.Pos `json:"pos"`
	State     string   `json:"state,omitempty"` // MASTER, BACKUP or "" (derived)
	Interface string   `json:"interface"`
	VRID      int      `json:"virtual_router_id"`
	Priority  int      `json:"priority"`
	// AdvertInt is the advertisement interval (v2: whole seconds, v3: centiseconds).
	AdvertInt time.Duration `json:"advert_int"`
	Version   int           `json:"version"`
	AuthType  string        `json:"auth_type,omitempty"` // "", PASS, AH
	AuthPass  string        `json:"auth_pass,omitempty"` // as written; the wire uses the first 8 bytes

	VIPs []VIP `json:"virtual_ipaddress"`
	// ExcludedVIPs (virtual_ipaddress_excluded) move with the state like
	// VIPs but are not listed in adverts; Routes and Rules
	// (virtual_routes, virtual_rules) are installed while MASTER.
	ExcludedVIPs    []VIP             `json:"virtual_ipaddress_excluded,omitempty"`
	Routes          []Route           `json:"virtual_routes,omitempty"`
	Rules           []Rule            `json:"virtual_rules,omitempty"`
	TrackScripts    []Track           `json:"track_script,omitempty"`
	TrackInterfaces []Track           `json:"track_interface,omitempty"`
	TrackVarde      []TrackVarde      `json:"track_varde,omitempty"`
	TrackFiles      []TrackFileRef    `json:"track_file,omitempty"`
	TrackProcesses  []TrackProcessRef `json:"track_process,omitempty"`

	NotifyMaster []string `json:"notify_master,omitempty"`
	NotifyBackup []string `json:"notify_backup,omitempty"`
	NotifyFault  []string `json:"notify_fault,omitempty"`
	NotifyStop   []string `json:"notify_stop,omitempty"`
	Notify       []string `json:"notify,omitempty"`

	NoPreempt    bool          `json:"nopreempt,omitempty"`
	PreemptDelay time.Duration `json:"preempt_delay,omitempty"`

	UnicastSrc   netip.Addr   `json:"unicast_src_ip,omitzero"`
	UnicastPeers []netip.Addr `json:"unicast_peer,omitempty"`

	GarpMasterDelay  time.Duration `json:"garp_master_delay"`
	GarpMasterRepeat int           `json:"garp_master_repeat"`
	// GarpMasterRefresh is the minimum interval between the GARP bursts a
	// master keeps sending (0 = none after the first); each refresh sends
	// GarpMasterRefreshRepeat GARPs per VIP (keepalived's default 1).
	GarpMasterRefresh       time.Duration `json:"garp_master_refresh,omitempty"`
	GarpMasterRefreshRepeat int           `json:"garp_master_refresh_repeat,omitempty"`
	// V3ChecksumAsV2 computes the VRRPv3/IPv4 checksum without the
	// pseudo-header (RFC 9568, Cisco, Juniper); keepalived's default includes it.
	V3ChecksumAsV2 bool `json:"v3_checksum_as_v2,omitempty"`
	// VMAC is the use_vmac interface's name ("" without use_vmac;
	// keepalived's default name vrrp.VRID is filled in by the parser);
	// VMACXmitBase sends and receives adverts on the base interface.
	VMAC         string `json:"use_vmac,omitempty"`
	VMACXmitBase bool   `json:"vmac_xmit_base,omitempty"`
	// VMACAddr is use_vmac's MAC argument ("" = keepalived's
	// 00:00:5e:00:01:VRID, 00:00:5e:00:02:VRID for IPv6); a MAC of five
	// octets is completed with the VRID by Validate, as keepalived does.
	VMACAddr string `json:"use_vmac_mac,omitempty"`
	// SyncGroup names the vrrp_sync_group the instance belongs to (Validate).
	SyncGroup string `json:"sync_group,omitempty"`

	// lines remembers where each keyword was written, for Validate.
	lines map[string]int
	// set records which defaultable keywords were written explicitly.
	set map[string]bool
}

// Password returns the 8 authentication bytes sent on the wire: keepalived
// silently truncates longer passwords and zero-pads shorter ones.
func (in *Instance) Password() [8]byte {
	var b [8]byte
	copy(b[:], in.AuthPass)
	return b
}

// AllVIPs is VIPs then ExcludedVIPs: every address the instance holds as master.
func (in *Instance) AllVIPs() []VIP {
	return append(append([]VIP(nil), in.VIPs...), in.ExcludedVIPs...)
}

// IsIPv6 reports whether the instance carries IPv6 VIPs (always VRRPv3).
func (in *Instance) IsIPv6() bool {
	return len(in.VIPs) > 0 && in.VIPs[0].Prefix.Addr().Is6()
}

// At is where keyword kw of the instance was written (the block's line
// when it was not).
func (in *Instance) At(kw string) diag.Pos { return in.at(kw) }

func (in *Instance) at(kw string) diag.Pos {
	p := in.Pos
	if l, ok := in.lines[kw]; ok {
		p.Line = l
	}
	return p
}

// TrackFile returns the track_file block with that name (the last one), or nil.
func (c *Config) TrackFile(name string) *TrackFile {
	var found *TrackFile
	for _, f := range c.TrackFiles {
		if f.Name == name {
			found = f
		}
	}
	return found
}

// Script returns the vrrp_script with that name, or nil.
func (c *Config) Script(name string) *Script {
	for _, s := range c.Scripts {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// Merge appends o's scripts and instances and overrides global settings that
// o sets, in the order the -f files were given.
func (c *Config) Merge(o *Config) {
	if o == nil {
		return
	}
	g := &c.Global
	if o.Global.RouterID != "" {
		g.RouterID = o.Global.RouterID
	}
	if o.Global.VRRPVersion != 0 {
		g.VRRPVersion = o.Global.VRRPVersion
	}
	if o.Global.ScriptUser != "" {
		g.ScriptUser = o.Global.ScriptUser
	}
	g.EnableScriptSecurity = g.EnableScriptSecurity || o.Global.EnableScriptSecurity
	if o.Global.GarpMasterDelay != nil {
		g.GarpMasterDelay = o.Global.GarpMasterDelay
	}
	if o.Global.GarpMasterRepeat != nil {
		g.GarpMasterRepeat = o.Global.GarpMasterRepeat
	}
	if o.Global.GarpMasterRefresh != nil {
		g.GarpMasterRefresh = o.Global.GarpMasterRefresh
	}
	if o.Global.GarpMasterRefreshRepeat != nil {
		g.GarpMasterRefreshRepeat = o.Global.GarpMasterRefreshRepeat
	}
	c.StaticAddrs = append(c.StaticAddrs, o.StaticAddrs...)
	c.StaticRoutes = append(c.StaticRoutes, o.StaticRoutes...)
	c.StaticRules = append(c.StaticRules, o.StaticRules...)
	c.Scripts = append(c.Scripts, o.Scripts...)
	c.TrackFiles = append(c.TrackFiles, o.TrackFiles...)
	c.Processes = append(c.Processes, o.Processes...)
	c.SyncGroups = append(c.SyncGroups, o.SyncGroups...)
	c.Instances = append(c.Instances, o.Instances...)
}
