package keepalived

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/varde-lb/varde/core/diag"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestGolden parses every testdata/*.conf (the seed articles' snippets among
// them) and compares the validated model, as JSON, and its diagnostics with
// the .json golden beside it.
func TestGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.conf")
	if len(files) == 0 {
		t.Fatal("no testdata")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var d diag.List
			c := Parse(filepath.Base(f), src, &d)
			if d.HasErrors() {
				t.Fatalf("parse errors:\n%v", d.Err())
			}
			// Fragments (an instance with "... other config ...") parse
			// cleanly but cannot validate on their own.
			if !strings.Contains(f, "fragment") {
				c.Validate(&d)
				if d.HasErrors() {
					t.Fatalf("validate errors:\n%v", d.Err())
				}
			}
			var lines []string
			for _, it := range d.Items() {
				lines = append(lines, it.String())
			}
			got, err := json.MarshalIndent(struct {
				Config      *Config  `json:"config"`
				Diagnostics []string `json:"diagnostics"`
			}{c, lines}, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			golden := strings.TrimSuffix(f, ".conf") + ".json"
			if *update {
				if err := os.WriteFile(golden, append(got, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if diff := cmp.Diff(strings.TrimSpace(string(want)), string(got)); diff != "" {
				t.Errorf("golden mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func check(src string) (*Config, []string) {
	var d diag.List
	c := Parse("k.conf", []byte(src), &d)
	if !d.HasErrors() {
		c.Validate(&d)
	}
	var out []string
	for _, it := range d.Items() {
		out = append(out, it.String())
	}
	return c, out
}

const base = `vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    priority 150
    virtual_ipaddress {
        198.18.0.100/24 dev eth0 label eth0:vip
    }
%s
}
`

func TestDiagnostics(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		want      []string
	}{
		{"clean", strings.Replace(base, "%s", "", 1), nil},
		{"unknown keyword", strings.Replace(base, "%s", "    priorty 3", 1),
			[]string{`k.conf:8: error: priorty: unknown keyword in vrrp_instance (hint: did you mean "priority"?)`}},
		{"keepalived keyword refused", strings.Replace(base, "%s", "    mcast_src_ip 198.18.0.1", 1),
			[]string{`k.conf:8: error: mcast_src_ip: keepalived keyword not supported by varde (hint: varde sends from the interface's primary address)`}},
		{"vrid range", strings.Replace(strings.Replace(base, "%s", "", 1), "router_id 51", "router_id 256", 1),
			[]string{`k.conf:3: error: virtual_router_id: bad value "256" (hint: an integer from 1 to 255)`}},
		{"priority range", strings.Replace(strings.Replace(base, "%s", "", 1), "priority 150", "priority 0", 1),
			[]string{`k.conf:4: error: priority: bad value "0" (hint: an integer from 1 to 255)`}},
		{"AH refused", strings.Replace(base, "%s", "    authentication {\n auth_type AH\n auth_pass x\n }", 1),
			[]string{`k.conf:9: error: auth_type: IPsec AH authentication is not supported by varde (hint: use auth_type PASS, or better no authentication with a firewall rule for protocol 112)`}},
		{"long password", strings.Replace(base, "%s", "    authentication {\n auth_type PASS\n auth_pass secret123\n }", 1),
			[]string{`k.conf:10: warning: auth_pass: password longer than 8 characters: only "secret12" is used, as keepalived does (hint: write auth_pass secret12)`}},
		{"v3 auth", strings.Replace(base, "%s", "    version 3\n    authentication {\n auth_type PASS\n auth_pass s\n }", 1),
			[]string{`k.conf:10: warning: authentication: VRRP version 3 does not support authentication, ignoring it (as keepalived does) (hint: remove the authentication block)`}},
		{"v2 fractional advert", strings.Replace(base, "%s", "    advert_int 0.5", 1),
			[]string{`k.conf:8: warning: advert_int: VRRPv2 advert_int must be whole seconds, rounding to 1s (hint: use version 3 for sub-second adverts)`}},
		{"bad vip", strings.Replace(strings.Replace(base, "%s", "", 1), "198.18.0.100/24", "198.18.0.300", 1),
			[]string{`k.conf:6: error: virtual_ipaddress: bad address "198.18.0.300" (hint: ADDR[/PREFIX] [dev IF] [label NAME] [brd ADDR])`,
				`k.conf:1: warning: virtual_ipaddress: vrrp_instance VI_1 has no virtual address (hint: add a virtual_ipaddress block)`}[:1]},
		{"missing interface and vrid", "vrrp_instance X {\n virtual_ipaddress {\n 198.18.0.1\n }\n}\n",
			[]string{`k.conf:1: error: interface: vrrp_instance X has no interface (hint: add: interface eth0)`,
				`k.conf:1: error: virtual_router_id: vrrp_instance X has no virtual_router_id (hint: add: virtual_router_id 51 (1-255, the same on every node))`}},
		{"unknown track script", strings.Replace(base, "%s", "    track_script {\n  chk_x\n }", 1),
			[]string{`k.conf:9: error: track_script: unknown vrrp_script chk_x (hint: define it with vrrp_script chk_x { ... })`}},
		{"unclosed", "vrrp_instance X {\n interface eth0\n",
			[]string{`k.conf:1: error: vrrp_instance: block is never closed (hint: add a closing brace '}')`}},
		{"unmatched", "}\n", []string{`k.conf:1: error: }: unmatched closing brace (hint: remove it or add the matching opening brace)`}},
		{"top unknown", "vrrp_instanse X {\n}\n", []string{`k.conf:1: error: vrrp_instanse: unknown keyword in top (hint: did you mean "vrrp_instance"?)`}},
		{"nopreempt owner", strings.Replace(strings.Replace(base, "%s", "    nopreempt", 1), "priority 150", "priority 255", 1),
			[]string{`k.conf:8: error: nopreempt: an address owner (priority 255) always preempts (hint: lower the priority below 255)`}},
		{"global email warned", "global_defs {\n notification_email {\n a@b\n }\n router_id X\n vrrp_strict\n}\n",
			[]string{`k.conf:2: warning: notification_email: parsed, not yet enforced by varde (hint: varde sends no e-mail; use notify scripts)`,
				`k.conf:6: warning: vrrp_strict: parsed, not yet enforced by varde (hint: strict RFC mode is not implemented)`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, got := check(tc.src)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestModel(t *testing.T) {
	c, diags := check(`global_defs { vrrp_version 3 }
vrrp_script chk { script "/bin/true x"
 interval 0.5
 fall 2 }
vrrp_instance VI_2
{
  state BACKUP
  interface veth0
  virtual_router_id 7
  advert_int 0.1
  nopreempt
  preempt_delay 2
  unicast_src_ip 198.18.0.1
  unicast_peer {
    198.18.0.2
  }
  track_script {
    chk weight -20
  }
  track_interface {
    veth1
  }
  track_varde {
    backend web weight -60
    listeners
  }
  notify "/etc/n.sh arg"
  garp_master_repeat 2
  virtual_ipaddress {
    198.18.0.100 dev veth0 label veth0:1 brd 198.18.0.255 ! comment
  }
}
`)
	if len(diags) != 0 {
		t.Fatalf("diags: %v", diags)
	}
	in := c.Instances[0]
	if in.Version != 3 || in.AdvertInt.Milliseconds() != 100 || in.Priority != 100 || !in.NoPreempt ||
		in.PreemptDelay.Seconds() != 2 || in.GarpMasterRepeat != 2 || in.GarpMasterDelay.Seconds() != 5 {
		t.Errorf("instance %+v", in)
	}
	if *in.TrackScripts[0].Weight != -20 || in.TrackInterfaces[0].Name != "veth1" {
		t.Errorf("tracks %+v %+v", in.TrackScripts, in.TrackInterfaces)
	}
	if diff := cmp.Diff([]TrackVarde{{Backend: "web", Weight: -60, Line: 24}, {Listeners: true, Line: 25}}, in.TrackVarde); diff != "" {
		t.Error(diff)
	}
	if diff := cmp.Diff([]string{"/etc/n.sh", "arg"}, in.Notify); diff != "" {
		t.Error(diff)
	}
	v := in.VIPs[0]
	if v.Prefix.String() != "198.18.0.100/32" || v.Dev != "veth0" || v.Label != "veth0:1" || v.Brd.String() != "198.18.0.255" {
		t.Errorf("vip %+v", v)
	}
	s := c.Scripts[0]
	if diff := cmp.Diff([]string{"/bin/true", "x"}, s.Command); diff != "" || s.Fall != 2 || s.Rise != 1 || s.Interval.Milliseconds() != 500 {
		t.Errorf("script %+v %s", s, diff)
	}
}

func TestIncludeAndMerge(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.conf"), []byte("vrrp_script s {\n script /bin/true\n}\n"), 0o644)
	main := filepath.Join(dir, "k.conf")
	var d diag.List
	c := Parse(main, []byte("include *.conf_part\ninclude a.conf\n"), &d)
	c2 := Parse("two.conf", []byte(strings.Replace(base, "%s", "track_script {\n s\n}", 1)), &d)
	c.Merge(c2)
	c.Validate(&d)
	got := []string{}
	for _, it := range d.Items() {
		got = append(got, it.String())
	}
	want := []string{main + `:1: warning: include: no file matches "*.conf_part"`}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Error(diff)
	}
	if len(c.Scripts) != 1 || len(c.Instances) != 1 {
		t.Errorf("merged %+v", c)
	}
}

func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.conf")
	for _, fn := range files {
		b, _ := os.ReadFile(fn)
		f.Add(b)
	}
	f.Add([]byte("vrrp_instance { { } } }"))
	f.Fuzz(func(t *testing.T, src []byte) {
		var d diag.List
		c := Parse("fuzz.conf", src, &d)
		c.Validate(&d)
		if _, err := json.Marshal(c); err != nil {
			t.Fatal(err)
		}
	})
}

// TestTrailingSemicolon: `auth_type PASS;` and the like are refused with
// the ';' named (keepalived reads it as part of the value and rejects it,
// running without authentication); commands and passwords keep theirs,
// as in keepalived.
func TestTrailingSemicolon(t *testing.T) {
	const inst = "vrrp_instance VI_1 {\n    interface lo\n    virtual_router_id 51\n%s    virtual_ipaddress {\n        198.18.0.10\n    }\n}\n"
	tests := []struct {
		name, body string
		wantLine   int // 0: accepted
		wantKW     string
	}{
		{"auth_type PASS;", "    authentication {\n        auth_type PASS;\n        auth_pass secret\n    }\n", 5, "auth_type"},
		{"priority 100;", "    priority 100;\n", 4, "priority"},
		{"nopreempt;", "    state BACKUP\n    nopreempt;\n", 5, "nopreempt"},
		{"password with a ;", "    authentication {\n        auth_type PASS\n        auth_pass secret;\n    }\n", 0, ""},
		{"notify command with a ;", "    notify_master \"/bin/true;\"\n", 0, ""},
		{"no semicolon", "    priority 100\n", 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d diag.List
			c := Parse("k.conf", []byte(fmt.Sprintf(inst, tt.body)), &d)
			c.Validate(&d)
			if tt.wantLine == 0 {
				if d.HasErrors() {
					t.Fatalf("refused: %v", d.Err())
				}
				return
			}
			var found bool
			for _, it := range d.Items() {
				if it.Severity == diag.Error && it.Pos.Line == tt.wantLine && it.Keyword == tt.wantKW && strings.Contains(it.Message, "';'") {
					found = true
				}
			}
			if !found {
				t.Fatalf("want an error at line %d on %s naming the ';', got %v", tt.wantLine, tt.wantKW, d.Items())
			}
		})
	}
	var d diag.List
	c := Parse("k.conf", []byte(fmt.Sprintf(inst, "    authentication {\n        auth_type PASS\n        auth_pass secret;\n    }\n")), &d)
	if got := c.Instances[0].AuthPass; got != "secret;" {
		t.Fatalf("auth_pass %q, want %q as keepalived sends it", got, "secret;")
	}
}
