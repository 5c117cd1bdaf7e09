package vip

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/varde-lb/varde/core/config/keepalived"
	"github.com/varde-lb/varde/core/diag"
)

func TestStrtol(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true}, {"1\n", 1, true}, {"  -20\n", -20, true}, {"+7", 7, true},
		{"0x1f", 31, true}, {"0X10", 16, true}, {"010", 8, true}, {"09", 0, true},
		{"12abc", 12, true}, {"abc", 0, true}, {"", 0, true}, {"0x", 0, true},
		{"2147483648", 2147483648, true}, {"2147483649", 0, false}, {"-2147483648", -2147483648, true},
		{"-2147483649", 0, false}, {"99999999999999999999999", 0, false},
	}
	for _, tt := range tests {
		if got, ok := strtol(tt.in); got != tt.want || ok != tt.ok {
			t.Errorf("strtol(%q) = %d %v, want %d %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func FuzzStrtol(f *testing.F) {
	for _, s := range []string{"0", "-5", "0x1f", "017", " 3\n", "2147483648"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, ok := strtol(s)
		if ok && (v < -2147483648 || v > 2147483648) {
			t.Fatalf("strtol(%q) = %d accepted out of range", s, v)
		}
	})
}

func TestTrackFileEffect(t *testing.T) {
	tests := []struct {
		v       int64
		w       int
		reverse bool
		delta   int
		fault   bool
	}{
		{0, 0, false, 0, false},
		{1, 0, false, 0, true},
		{-3, 0, false, 0, true},
		{0, 0, true, 0, true},
		{5, 0, true, 0, false},
		{2, -10, false, -20, false},
		{2, 10, false, 20, false},
		{2, 10, true, -20, false},
		{100, 10, false, 253, false},
		{26, -10, false, 0, true}, // -260: FAULT
		{-254, 1, false, 0, true},
		{-253, 1, false, -253, false},
	}
	for _, tt := range tests {
		d, f := trackFileEffect(tt.v, tt.w, tt.reverse)
		if d != tt.delta || f != tt.fault {
			t.Errorf("trackFileEffect(%d, %d, %v) = %d %v, want %d %v", tt.v, tt.w, tt.reverse, d, f, tt.delta, tt.fault)
		}
	}
}

// TestTrackFile parses a keepalived.conf with track_file blocks and drives
// the instance's tracking through real files: the value times the weight
// moves the priority, weight 0 turns a non-zero value into FAULT, a
// missing file reads as 0, and a value keepalived would ignore keeps the
// previous one.
func TestTrackFile(t *testing.T) {
	dir := t.TempDir()
	prio := filepath.Join(dir, "prio")
	maint := filepath.Join(dir, "maint")
	conf := `track_file prio {
    file "` + prio + `"
    weight -10
}
vrrp_track_file maint {
    file ` + maint + `
}
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    priority 100
    virtual_ipaddress {
        198.18.0.10
    }
    track_file {
        prio
        maint weight 0
    }
}
`
	var d diag.List
	c := keepalived.Parse("k.conf", []byte(conf), &d)
	c.Validate(&d)
	if d.HasErrors() {
		t.Fatal(d.Err())
	}
	in := c.Instances[0]
	r := &runner{cfg: in, links: &linkWatch{state: map[string]bool{"eth0": true}}}
	write := func(p, s string) {
		t.Helper()
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	steps := []struct {
		prio, maint string // "" = remove the file
		wantP       uint8
		wantFault   bool
	}{
		{"", "", 100, false},
		{"3\n", "0\n", 70, false},
		{"-2", "0", 120, false},
		{"-2", "1", 120, true},
		{"99999999999", "0", 120, false}, // ignored: keeps -2
		{"20", "0", 1, false},            // 100-200, floored at 1
		{"26", "0", 100, true},           // -260: FAULT, as keepalived
		{"", "", 100, false},
	}
	for i, s := range steps {
		for p, v := range map[string]string{prio: s.prio, maint: s.maint} {
			if v == "" {
				os.Remove(p)
			} else {
				write(p, v)
			}
		}
		if p, f := r.tracking(); p != s.wantP || f != s.wantFault {
			t.Fatalf("step %d (prio %q, maint %q): tracking = %d %v, want %d %v", i, s.prio, s.maint, p, f, s.wantP, s.wantFault)
		}
	}
}

// TestTrackFileConfig: an unknown track_file name, a block without file
// and init_file are errors.
func TestTrackFileConfig(t *testing.T) {
	tests := []struct{ name, conf, want string }{
		{"unknown name", "vrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id 51\n    virtual_ipaddress {\n        198.18.0.10\n    }\n    track_file {\n        nosuch\n    }\n}\n", "k.conf:8: error: track_file"},
		{"no file", "track_file f {\n    weight 2\n}\n", "k.conf:1: error: track_file"},
		{"init_file", "track_file f {\n    file /tmp/x\n    init_file 0 overwrite\n}\n", "k.conf:3: error: init_file"},
		{"bad weight option", "track_file f {\n    file /tmp/x\n    weight 2 sideways\n}\n", "k.conf:3: error: weight"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d diag.List
			c := keepalived.Parse("k.conf", []byte(tt.conf), &d)
			c.Validate(&d)
			found := false
			for _, it := range d.Items() {
				if len(it.String()) >= len(tt.want) && it.String()[:len(tt.want)] == tt.want {
					found = true
				}
			}
			if !found {
				t.Fatalf("want %q, got %v", tt.want, d.Items())
			}
		})
	}
}
