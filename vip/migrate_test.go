package vip

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/varde-lb/varde/core/config/keepalived"
	"github.com/varde-lb/varde/core/diag"
)

// TestChecksHAProxy: the script lines real keepalived.conf files use to
// follow haproxy are recognised, with any wrapper; scripts that check
// other processes, haproxy's files or a user named haproxy are not.
func TestChecksHAProxy(t *testing.T) {
	tests := []struct {
		script string
		want   bool
	}{
		{"killall -0 haproxy", true},
		{"/usr/bin/killall -0 haproxy", true},
		{"killall -s 0 haproxy", true},
		{"pidof haproxy", true},
		{"/bin/pidof -s haproxy", true},
		{"pgrep haproxy", true},
		{"pgrep -x haproxy", true},
		{"/usr/bin/pgrep -f /usr/sbin/haproxy", true},
		{"pgrep -f ^haproxy$", true},
		{"pgrep -u root -x haproxy", true},
		{"pkill -0 haproxy", true},
		{"systemctl is-active haproxy", true},
		{"systemctl is-active --quiet haproxy", true},
		{"/bin/systemctl --quiet is-active haproxy.service", true},
		{"systemctl status haproxy@main", true},
		{"service haproxy status", true},
		{"/bin/sh -c 'pidof haproxy'", true},
		{"bash -c '[ -n \"$(pidof haproxy)\" ]'", true},
		{"sh -c 'ps -C haproxy'", true},
		{"sh -c 'ps aux | grep -v grep | grep haproxy'", true},
		{"sudo killall -0 haproxy", true},
		{"timeout 2 pidof haproxy", true},
		{"sh -c 'curl -sf http://127.0.0.1/ && pidof haproxy'", true},

		{"killall -0 nginx", false},
		{"pidof nginx", false},
		{"pgrep -x haproxy_exporter", false},
		{"pgrep -u haproxy nginx", false},
		{"killall -u haproxy -0 nginx", false},
		{"pidof -o haproxy nginx", false},
		{"systemctl is-active nginx", false},
		{"systemctl restart haproxy", false},
		{"systemctl is-active haproxy-exporter", false},
		{"service haproxy reload", false},
		{"/etc/keepalived/check_haproxy.sh", false},
		{"curl -sf http://127.0.0.1:8404/healthz", false},
		{"test -f /etc/haproxy/haproxy.cfg", false},
		{"grep -q haproxy /etc/passwd", false},
		{"pgrep -f /etc/haproxy/haproxy.cfg", false},
		{"killall -0 haproxyd", false},
		{"echo haproxy", false},
		{"if ! pidof haproxy >/dev/null", true},
		{"while pgrep -x haproxy", true},
		{"if [ -f /etc/haproxy/haproxy.cfg ]", false},
	}
	for _, tt := range tests {
		t.Run(tt.script, func(t *testing.T) {
			what, got := checksHAProxy(strings.Fields(tt.script))
			if got != tt.want {
				t.Fatalf("checksHAProxy(%q) = %v (%q), want %v", tt.script, got, what, tt.want)
			}
		})
	}
}

// TestWarnHAProxyScripts parses real keepalived.conf text and checks the
// warning's line, the effect on each tracking instance and the
// track_varde replacement with the same weight.
func TestWarnHAProxyScripts(t *testing.T) {
	tests := []struct {
		name     string
		conf     string
		wantLine int    // 0: no warning
		wantText string // in the message
		wantHint string
	}{
		{"fault", `vrrp_script chk_haproxy {
    script "killall -0 haproxy"
    interval 2
}
vrrp_instance VI_1 {
    interface lo
    virtual_router_id 51
    virtual_ipaddress {
        198.18.0.10
    }
    track_script {
        chk_haproxy
    }
}
`, 2, "puts VI_1 in FAULT", "`track_varde { listeners }`"},
		{"weight", `vrrp_script chk_haproxy {
    interval 2
    weight -20
    script "/usr/bin/pgrep -x haproxy"
}
vrrp_instance VI_1 {
    interface lo
    virtual_router_id 51
    virtual_ipaddress {
        198.18.0.10
    }
    track_script {
        chk_haproxy
    }
}
`, 4, "lowers VI_1's priority by 20", "`track_varde { listeners weight -20 }`"},
		{"weight overridden by the instance", `vrrp_script chk {
    script "systemctl is-active --quiet haproxy"
    weight 2
}
vrrp_instance VI_1 {
    interface lo
    virtual_router_id 51
    virtual_ipaddress {
        198.18.0.10
    }
    track_script {
        chk weight 0
    }
}
`, 2, "puts VI_1 in FAULT", "`track_script { chk }` with `track_varde { listeners }`"},
		{"other process", `vrrp_script chk_nginx {
    script "killall -0 nginx"
}
vrrp_instance VI_1 {
    interface lo
    virtual_router_id 51
    virtual_ipaddress {
        198.18.0.10
    }
    track_script {
        chk_nginx
    }
}
`, 0, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d diag.List
			kc := keepalived.Parse("k.conf", []byte(tt.conf), &d)
			kc.Validate(&d)
			if d.HasErrors() {
				t.Fatalf("parse: %v", d.Err())
			}
			d.Reset()
			warnHAProxyScripts(kc, &d)
			items := d.Items()
			if tt.wantLine == 0 {
				if len(items) != 0 {
					t.Fatalf("unexpected warning: %v", items)
				}
				return
			}
			if len(items) != 1 {
				t.Fatalf("got %d diagnostics, want 1: %v", len(items), items)
			}
			w := items[0]
			s := w.String()
			if w.Severity != diag.Warning || w.Pos.Line != tt.wantLine || !strings.Contains(s, tt.wantText) || !strings.Contains(s, tt.wantHint) {
				t.Fatalf("got %s\nwant a warning at line %d with %q and %q", s, tt.wantLine, tt.wantText, tt.wantHint)
			}
		})
	}
}

// TestWarnHAProxyScriptFile: a vrrp_script running a shell script file is
// read, and the warning names the file's line that checks haproxy; a file
// that checks something else, or a binary, draws nothing.
func TestWarnHAProxyScriptFile(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"check_haproxy.sh": "#!/bin/sh\n# is haproxy alive?\nset -e\nif ! pidof haproxy >/dev/null; then\n  exit 1\nfi\n",
		"check_nginx.sh":   "#!/bin/sh\n# haproxy was replaced by nginx here\nkillall -0 nginx\n",
		"binary":           "\x7fELF\x00\x00pidof haproxy\n",
	}
	tests := []struct {
		file string
		want string // "" = no warning
	}{
		{"check_haproxy.sh", "check_haproxy.sh:4: if ! pidof haproxy >/dev/null; then"},
		{"check_nginx.sh", ""},
		{"binary", ""},
		{"missing.sh", ""},
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			conf := "vrrp_script chk {\n    script \"" + filepath.Join(dir, tt.file) + " --quiet\"\n}\nvrrp_instance VI_1 {\n    interface lo\n    virtual_router_id 51\n    virtual_ipaddress {\n        198.18.0.10\n    }\n    track_script {\n        chk\n    }\n}\n"
			var d diag.List
			kc := keepalived.Parse("k.conf", []byte(conf), &d)
			kc.Validate(&d)
			if d.HasErrors() {
				t.Fatal(d.Err())
			}
			d.Reset()
			warnHAProxyScripts(kc, &d)
			items := d.Items()
			if tt.want == "" {
				if len(items) != 0 {
					t.Fatalf("unexpected warning: %v", items)
				}
				return
			}
			if len(items) != 1 || items[0].Pos.Line != 2 || !strings.Contains(items[0].Message, tt.want) {
				t.Fatalf("want one warning at line 2 naming %q, got %v", tt.want, items)
			}
		})
	}
}
