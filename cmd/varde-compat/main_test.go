package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/varde-lb/varde/core/testenv"
)

// TestSweepTable runs the real varde binary and the real HAProxy and
// keepalived checkers over configurations written for this test, one per
// verdict, and checks the table and blocker lists the sweep prints.
func TestSweepTable(t *testing.T) {
	varde := testenv.VardeBinary(t)
	haproxy := testenv.LookTool(t, "haproxy", "haproxy")
	keepalived := testenv.LookTool(t, "keepalived", "keepalived")
	dir := t.TempDir()
	copyDir(t, "testdata/configs", dir)
	writeKeepalived(t, dir)

	var out, errOut bytes.Buffer
	code := run([]string{"-varde", varde, "-haproxy", haproxy, "-keepalived", keepalived, "-files", dir}, &out, &errOut)
	if code != 0 {
		t.Fatalf("exit %d, stderr: %s", code, errOut.String())
	}
	got := out.String()
	for _, want := range []string{
		// 5 haproxy files; HAProxy 2.6 refuses nbproc; of the 4 left one of each verdict.
		"| haproxy | 5 | 1 | 4 | 1 | 1 | 1 | 1 |",
		"| keepalived | 1 | 0 | 1 | 1 | 0 | 0 | 0 |",
		"- server tfo: 1\n",
		"- option nolinger: 1\n",
		"| clean.cfg | haproxy | ok | clean |",
		"| advisory.cfg | haproxy | ok | advisory |",
		"| notenforced.cfg | haproxy | ok | not-enforced | option nolinger |",
		"| refused.cfg | haproxy | ok | refused | server tfo |",
		"| haproxy-refuses.cfg | haproxy | refuses: ",
		"nbproc is not supported any more",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
}

// TestSweepUsage: no directory is a usage error, a missing one a failure.
func TestSweepUsage(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run(nil, &out, &errOut); code != 2 {
		t.Errorf("no args: exit %d, want 2", code)
	}
	if code := run([]string{"-haproxy", "none", "-keepalived", "none", filepath.Join(t.TempDir(), "nope")}, &out, &errOut); code != 1 {
		t.Errorf("missing dir: exit %d, want 1", code)
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		name, out string
		code      int
		errs, ne  string
		want      Verdict
	}{
		{"clean", "configuration valid: 1 frontend; 0 warnings\n", 0, "", "", Clean},
		{"advisory", "f.cfg:2: warning: daemon: accepted but ignored: x (hint: y)\n", 0, "", "", Advisory},
		{"not enforced", "f.cfg:9: warning: parsed, not yet enforced: fullconn (f.cfg:9) (hint: z)\n", 0, "", "fullconn", NotEnforced},
		{"refused", "f.cfg:3: error: server socks4: nope (hint: h)\nf.cfg:4: error: server socks4: again\nf.cfg:5: error: peers: no\n", 1, "peers,server socks4", "", Refused},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs, ne, v := classify(tt.out, tt.code)
			if strings.Join(errs, ",") != tt.errs || strings.Join(ne, ",") != tt.ne || v != tt.want {
				t.Errorf("got %q %q %s, want %q %q %s", errs, ne, v, tt.errs, tt.ne, tt.want)
			}
		})
	}
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	entries, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(from, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// writeKeepalived writes a keepalived.conf naming this machine's first
// non-loopback interface: both keepalived and varde refuse a missing one.
func writeKeepalived(t *testing.T, dir string) {
	t.Helper()
	ifaces, _ := os.ReadDir("/sys/class/net")
	name := ""
	for _, i := range ifaces {
		if i.Name() != "lo" && !strings.HasPrefix(i.Name(), "ifb") {
			name = i.Name()
			break
		}
	}
	if name == "" {
		t.Skip("no non-loopback network interface for the keepalived sample")
	}
	conf := "vrrp_instance VI_1 {\n    state BACKUP\n    interface " + name +
		"\n    virtual_router_id 51\n    priority 100\n    advert_int 1\n    virtual_ipaddress {\n        192.0.2.10/32\n    }\n}\n"
	if err := os.WriteFile(filepath.Join(dir, "keepalived.conf"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
}

// FuzzClassify: any checker output is classified without panicking, and
// the verdict follows the exit code and the lines found.
func FuzzClassify(f *testing.F) {
	f.Add("f.cfg:3: error: server socks4: nope (hint: h)\n", 1)
	f.Add("f.cfg:9: warning: parsed, not yet enforced: fullconn (f.cfg:9) (hint: z)\n", 0)
	f.Add("f.cfg:2: warning: daemon: accepted but ignored: x\n", 0)
	f.Fuzz(func(t *testing.T, out string, code int) {
		errs, ne, v := classify(out, code)
		switch {
		case code != 0 && v != Refused:
			t.Fatalf("exit %d classified %s", code, v)
		case code == 0 && v == Refused:
			t.Fatal("exit 0 classified refused")
		case code == 0 && len(ne) > 0 && v != NotEnforced:
			t.Fatalf("not-enforced keywords %q classified %s", ne, v)
		}
		for i := 1; i < len(errs); i++ {
			if errs[i] <= errs[i-1] {
				t.Fatalf("errors not sorted and unique: %q", errs)
			}
		}
	})
}
