package keepalived

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/varde-lb/varde/core/diag"
)

// verdicts of a route/rule line: varde runs it (ok), refuses an option
// keepalived accepts (unbuilt), or both reject it (bad).
const (
	ok      = "ok"
	unbuilt = "unbuilt"
	bad     = "bad"
)

var routeCases = []struct {
	block, line, verdict string
	want                 string // ok: the parsed value's JSON must contain it
	kaWarn               string // keepalived -t's only complaint about an accepted line
}{
	{"static_routes", "198.19.1.0/24 via 198.18.0.1 dev lo", ok, `"dst":"198.19.1.0/24","via":"198.18.0.1","dev":"lo"`, ""},
	{"static_routes", "198.19.1.7/24 gw 198.18.0.1 dev lo", ok, `"dst":"198.19.1.0/24"`, `"gw" for routes is deprecated`},
	{"static_routes", "to 198.19.1.0/24 dev lo table 100 metric 5 scope link", ok, `"table":100,"metric":5,"scope":"link"`, ""},
	{"static_routes", "src 198.18.0.9 to 198.19.1.0/24 via 198.18.0.1 dev lo", ok, `"src":"198.18.0.9"`, ""},
	{"static_routes", "blackhole 198.19.2.0/24", ok, `"type":"blackhole"`, "cannot track route"},
	{"static_routes", "unreachable 198.19.2.0/24 table main", ok, `"table":254`, "cannot track route"},
	{"static_routes", "prohibit 198.19.2.0/24", ok, `"type":"prohibit"`, "cannot track route"},
	{"static_routes", "default via 198.18.0.1 dev lo", ok, `"dst":"0.0.0.0/0"`, ""},
	{"static_routes", "default via fe80::1 dev lo", ok, `"dst":"::/0"`, ""},
	{"static_routes", "2001:db8::/64 dev lo preference 9", ok, `"metric":9`, ""},
	{"static_routes", "198.19.1.0/24 via 198.18.0.1 onlink dev lo", unbuilt, "", ""},
	{"static_routes", "198.19.1.0/24 via 198.18.0.1 dev lo protocol bird", unbuilt, "", "cannot be tracked if protocol"},
	{"static_routes", "198.19.1.0/24 dev lo scope universe", bad, "", ""},
	{"static_routes", "198.19.1.0/24 via 198.18.0.1 dev lo mtu 1400", unbuilt, "", ""},
	{"static_routes", "198.19.1.0/24 bogus", bad, "", ""},
	{"static_routes", "198.19.1.0/24 via 1.2.3", bad, "", ""},
	{"static_routes", "198.19.1.0/24 via 198.18.0.1 dev lo metric", bad, "", ""},
	{"static_rules", "from 198.19.1.0/24 table 100 priority 10", ok, `"from":"198.19.1.0/24","table":100,"priority":10`, ""},
	{"static_rules", "to 198.19.1.0/24 iif lo table 100 preference 11", ok, `"iif":"lo"`, ""},
	{"static_rules", "from all to 2001:db8::/64 oif lo lookup 7 preference 12", ok, `"v6":true`, ""},
	{"static_rules", "from 198.19.1.0/24 table 100 pref 12", bad, "", ""},
	{"static_rules", "from 198.19.1.0/24 table 100 priority 10 fwmark 3", unbuilt, "", ""},
	{"static_rules", "from 198.19.1.0/24 table 100 priority", bad, "", ""},
	{"static_rules", "from 198.19.1.0/24 table 100 bogus 1", bad, "", ""},
}

// TestRoutesAndRules parses every line shape; with keepalived installed,
// it also runs `keepalived -t` on each (differential): what varde runs
// keepalived accepts cleanly, what varde refuses as not built keepalived
// accepts, and what is malformed both reject.
func TestRoutesAndRules(t *testing.T) {
	ka, _ := exec.LookPath("keepalived")
	if ka == "" {
		ka, _ = exec.LookPath("/usr/sbin/keepalived")
	}
	for _, tc := range routeCases {
		t.Run(tc.block+" "+tc.line, func(t *testing.T) {
			src := fmt.Sprintf("%s {\n    %s\n}\n", tc.block, tc.line)
			var d diag.List
			c := Parse("r.conf", []byte(src), &d)
			c.Validate(&d)
			switch tc.verdict {
			case ok:
				if d.HasErrors() {
					t.Fatalf("refused: %v", d.Err())
				}
				b, _ := json.Marshal(c)
				if !strings.Contains(string(b), tc.want) {
					t.Fatalf("parsed %s, want it to contain %s", b, tc.want)
				}
			default:
				if !d.HasErrors() {
					t.Fatalf("accepted")
				}
				for _, it := range d.Items() {
					if it.Severity == diag.Error && (it.Pos.Line != 2 || it.Keyword != tc.block || it.Hint == "") {
						t.Errorf("error not located at r.conf:2 %s with a hint: %v", tc.block, it)
					}
				}
			}
			if ka == "" {
				return
			}
			f := filepath.Join(t.TempDir(), "k.conf")
			os.WriteFile(f, []byte(src), 0o644)
			out, err := exec.Command(ka, "-t", "-f", f).CombinedOutput()
			msg := strings.TrimSpace(string(out))
			clean := (err == nil && msg == "") || (tc.kaWarn != "" && strings.Contains(msg, tc.kaWarn) && strings.Count(msg, "\n") == 0)
			if (tc.verdict == bad) == clean {
				t.Errorf("keepalived -t: clean=%v (%v) for a %s line:\n%s", clean, err, tc.verdict, out)
			}
		})
	}
}

// TestRuleNeedsPriority: keepalived picks 16384, 16383, ... for rules
// without one ("probably not what you want"); varde asks for it.
func TestRuleNeedsPriority(t *testing.T) {
	var d diag.List
	Parse("r.conf", []byte("vrrp_instance V {\n    virtual_rules {\n        from 198.19.1.0/24 table 100\n    }\n}\n"), &d)
	if !d.HasErrors() || !strings.Contains(d.Err().Error(), "r.conf:3") || !strings.Contains(d.Err().Error(), "priority") {
		t.Fatalf("got %v", d.Err())
	}
}

// TestExcludedAndStaticAddrs: virtual_ipaddress_excluded takes
// virtual_ipaddress's syntax; static_ipaddress needs a dev.
func TestExcludedAndStaticAddrs(t *testing.T) {
	var d diag.List
	c := Parse("a.conf", []byte("static_ipaddress {\n    198.19.0.1/32 dev lo\n    198.19.0.2\n}\nvrrp_instance V {\n    virtual_ipaddress_excluded {\n        198.19.0.3/24 dev lo label lo:x\n    }\n}\n"), &d)
	if len(c.StaticAddrs) != 1 || c.StaticAddrs[0].Prefix != netip.MustParsePrefix("198.19.0.1/32") {
		t.Errorf("static: %+v", c.StaticAddrs)
	}
	if len(c.Instances) != 1 || len(c.Instances[0].ExcludedVIPs) != 1 || c.Instances[0].ExcludedVIPs[0].Label != "lo:x" {
		t.Errorf("excluded: %+v", c.Instances)
	}
	if !d.HasErrors() || !strings.Contains(d.Err().Error(), "a.conf:3") {
		t.Errorf("static address without dev: %v", d.Err())
	}
}

// FuzzRouteRule feeds arbitrary words to the route and rule parsers:
// no panic, and an accepted route renders.
func FuzzRouteRule(f *testing.F) {
	for _, tc := range routeCases {
		f.Add(tc.line)
	}
	f.Fuzz(func(t *testing.T, line string) {
		w := strings.Fields(line)
		if len(w) == 0 {
			return
		}
		if r, err := parseRoute(w); err == nil {
			_ = r.String()
		}
		if r, err := parseRule(w); err == nil {
			_ = r.String()
		}
	})
}

// TestTrackProcessParse: keepalived's defaults and meanings (quorum 1,
// unlimited quorum_max, weight 0, parameters imply full_command and an
// exact match, delay sets both delays) and the refusals, located.
func TestTrackProcessParse(t *testing.T) {
	const ref = "vrrp_instance V {\n    interface lo\n    virtual_router_id 51\n    virtual_ipaddress {\n        198.18.0.10\n    }\n    track_process {\n        p\n    }\n}\n"
	tests := []struct {
		name, block string
		want        string // JSON fragment of the process; "" = refused
		errLine     int
	}{
		{"defaults", "process haproxy", `"process":"haproxy","weight":0,"quorum":1,"quorum_max":-1`, 0},
		{"params", "process /usr/sbin/haproxy -f x.cfg", `"params":["-f","x.cfg"],"param_match":"exact","full_command":true`, 0},
		{"param_match partial", "process haproxy -W\n    param_match partial", `"param_match":"partial"`, 0},
		{"param_match alone", "process haproxy\n    param_match", `"param_match":"exact","full_command":true`, 0},
		{"quorum", "process haproxy\n    quorum 2\n    quorum_max 4\n    weight -20", `"weight":-20,"quorum":2,"quorum_max":4`, 0},
		{"quorum_max 0", "process haproxy\n    quorum_max 0", `"quorum":0,"quorum_max":0`, 0},
		{"delay", "process haproxy\n    delay 1.5", `"fork_delay":1500000000,"terminate_delay":1500000000`, 0},
		{"terminate_delay", "process haproxy\n    terminate_delay 2", `"terminate_delay":2000000000`, 0},
		{"quorum over max", "process haproxy\n    quorum 3\n    quorum_max 2", "", 1},
		{"long name", "process haproxy-something-long", "", 1},
		{"no process", "weight 3", "", 1},
		{"weight reverse", "process haproxy\n    weight 10 reverse", `"weight":10,"reverse":true`, 0},
		{"weight bad option", "process haproxy\n    weight 10 upside", "", 3},
		{"bad param_match", "process haproxy\n    param_match fuzzy", "", 3},
		{"unknown keyword", "process haproxy\n    quorm 2", "", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := "vrrp_track_process p {\n    " + tt.block + "\n}\n" + ref
			var d diag.List
			c := Parse("p.conf", []byte(src), &d)
			c.Validate(&d)
			if tt.want == "" {
				if !d.HasErrors() || !strings.Contains(d.Err().Error(), fmt.Sprintf("p.conf:%d:", tt.errLine)) {
					t.Fatalf("want an error at p.conf:%d, got %v", tt.errLine, d.Err())
				}
				return
			}
			if d.HasErrors() {
				t.Fatalf("refused: %v", d.Err())
			}
			b, _ := json.Marshal(c.Processes)
			if !strings.Contains(string(b), tt.want) {
				t.Fatalf("got %s, want %s", b, tt.want)
			}
			if c.Instances[0].TrackProcesses[0].Process == nil {
				t.Fatalf("track_process not resolved")
			}
		})
	}
}

// FuzzKeepalivedBlocks runs the whole parser on the blocks of this round
// (routes, rules, excluded and static addresses, track_process).
func FuzzKeepalivedBlocks(f *testing.F) {
	for _, s := range []string{
		"static_routes {\n 198.19.1.0/24 via 198.18.0.1 dev lo\n blackhole 198.19.2.0/24\n}\n",
		"static_rules {\n from 198.19.1.0/24 table 100 priority 10\n}\n",
		"static_ipaddress {\n 198.19.0.1/32 dev lo\n}\n",
		"vrrp_instance V {\n virtual_routes {\n src 1.2.3.4 to 198.19.0.0/24 via 1.2.3.1\n }\n virtual_rules {\n to all table 1 priority 2\n }\n virtual_ipaddress_excluded {\n 198.19.0.2\n }\n}\n",
		"vrrp_track_process p {\n process \"a b\" c\n param_match initial\n quorum 2\n quorum_max 3\n delay 0.5\n}\nvrrp_instance V {\n track_process {\n p weight 3\n }\n}\n",
		"vrrp_track_process p {\n process a\n weight 5 reverse\n}\nvrrp_instance V {\n use_vmac 02:11:22:33:44 vm1\n track_process {\n p weight -3 noreverse\n }\n}\n",
		"vrrp_instance V {\n virtual_ipaddress {\n fd00::1\n }\n use_vmac 2:1:2:3:4:5:\n}\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		var d diag.List
		c := Parse("fuzz.conf", src, &d)
		c.Validate(&d)
		if _, err := json.Marshal(c); err != nil {
			t.Fatal(err)
		}
		for _, it := range d.Items() {
			_ = it.String()
		}
	})
}

// TestVirtualServerRefused: an LVS block is one error at its line (not
// one per real_server inside), saying how to write it for varde.
func TestVirtualServerRefused(t *testing.T) {
	src := "virtual_server 198.18.0.100 80 {\n    lb_algo rr\n    real_server 198.18.0.11 80 {\n        weight 1\n    }\n    real_server 198.18.0.12 80 {\n    }\n}\n"
	var d diag.List
	Parse("lvs.conf", []byte(src), &d)
	items := d.Items()
	if len(items) != 1 || items[0].Pos.Line != 1 || items[0].Severity != diag.Error ||
		!strings.Contains(items[0].String(), "LVS") || !strings.Contains(items[0].Hint, "bind 198.18.0.100:80") {
		t.Fatalf("got %v", items)
	}
}

// TestTrackProcessReverse: an instance's `NAME weight N [reverse|noreverse]`
// overrides the block's weight and reverse; without the option the
// block's reverse holds (keepalived 2.2.7 alloc_track_process).
func TestTrackProcessReverse(t *testing.T) {
	tests := []struct {
		block, line string
		weight      int
		reverse     bool
	}{
		{"weight 10 reverse", "p", 10, true},
		{"weight 10 reverse", "p weight 5", 5, true},
		{"weight 10 reverse", "p weight 5 noreverse", 5, false},
		{"weight -10", "p weight 7 reverse", 7, true},
		{"weight -10", "p", -10, false},
	}
	for _, tt := range tests {
		t.Run(tt.block+"/"+tt.line, func(t *testing.T) {
			src := "vrrp_track_process p {\n    process haproxy\n    " + tt.block + "\n}\nvrrp_instance V {\n    interface lo\n    virtual_router_id 51\n    virtual_ipaddress {\n        198.18.0.10\n    }\n    track_process {\n        " + tt.line + "\n    }\n}\n"
			var d diag.List
			c := Parse("p.conf", []byte(src), &d)
			c.Validate(&d)
			if d.HasErrors() {
				t.Fatalf("refused: %v", d.Err())
			}
			r := c.Instances[0].TrackProcesses[0]
			if r.EffectiveWeight() != tt.weight || r.EffectiveReverse() != tt.reverse {
				t.Fatalf("weight %d reverse %v, want %d %v", r.EffectiveWeight(), r.EffectiveReverse(), tt.weight, tt.reverse)
			}
		})
	}
}
