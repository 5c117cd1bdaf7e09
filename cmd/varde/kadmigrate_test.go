package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// kadHAProxyScriptConf tracks haproxy the keepalived way: the script line
// (line 2) must draw the migration warning when varde also runs haproxy.cfg.
const kadHAProxyScriptConf = `vrrp_script chk_haproxy {
    script "/usr/bin/killall -0 haproxy"
    interval 2
    weight -30
}
vrrp_instance VI_1 {
    state BACKUP
    interface lo
    virtual_router_id 51
    priority 100
    virtual_ipaddress {
        198.18.0.10/32
    }
    track_script {
        chk_haproxy
    }
}
`

// TestCheckWarnsHAProxyScript: `varde check` (and `varde -c`) with both
// files accepts the configuration and warns at the script line with the
// track_varde replacement; with keepalived.conf alone (HAProxy still runs)
// the script is fine and nothing is said.
func TestCheckWarnsHAProxyScript(t *testing.T) {
	dir := t.TempDir()
	hcfg := filepath.Join(dir, "h.cfg")
	kconf := filepath.Join(dir, "k.conf")
	h := authorityDefaults + "frontend f\n    bind 127.0.0.1:1\n    default_backend b\nbackend b\n    server s1 127.0.0.1:1\n"
	if err := os.WriteFile(hcfg, []byte(h), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(kconf, []byte(kadHAProxyScriptConf), 0o644); err != nil {
		t.Fatal(err)
	}
	want := kconf + ":2: warning: script: vrrp_script chk_haproxy checks the haproxy process"
	tests := []struct {
		name string
		args []string
		warn bool
	}{
		{"check, both files", []string{"check", "-f", hcfg, "-f", kconf}, true},
		{"-c, both files", []string{"-c", "-f", hcfg, "-f", kconf}, true},
		{"check, keepalived.conf alone", []string{"check", "-f", kconf}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := dispatch(tt.args, &out, &errb)
			all := out.String() + errb.String()
			if code != 0 {
				t.Fatalf("exit %d, want 0:\n%s", code, all)
			}
			got := strings.Contains(all, want)
			if got != tt.warn {
				t.Fatalf("warning present=%v, want %v:\n%s", got, tt.warn, all)
			}
			if tt.warn && !strings.Contains(all, "lowers VI_1's priority by 30") || tt.warn && !strings.Contains(all, "`track_varde { listeners weight -30 }`") {
				t.Fatalf("warning lacks the effect or the replacement:\n%s", all)
			}
		})
	}
}
