package keepalived

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/varde-lb/varde/core/diag"
)

// TestTrailingSemicolonKeepalived is the evidence behind refusing a
// trailing ';': keepalived 2.2.7's own configuration test (`keepalived -t`)
// reads the ';' as part of each value and rejects every such line, at the
// lines where varde refuses them (and exits 5, a configuration error).
// Recorded output, keepalived 2.2.7 (Debian 12):
//
//	(k.conf: Line 2) (VI_1) unknown state 'MASTER;', defaulting to BACKUP
//	(k.conf: Line 4) invalid number '51;'
//	(k.conf: Line 5) invalid number '100;'
//	(k.conf: Line 8) (VI_1) unknown authentication type 'PASS;'
//	(k.conf: Line 12) Invalid address prefix len 32; for address 198.18.0.100/32; - using 32
func TestTrailingSemicolonKeepalived(t *testing.T) {
	const conf = `vrrp_instance VI_1 {
    state MASTER;
    interface eth0
    virtual_router_id 51;
    priority 100;
    advert_int 1
    authentication {
        auth_type PASS;
        auth_pass secret;
    }
    virtual_ipaddress {
        198.18.0.100/32;
    }
}
`
	// keepalived and varde both object to these lines (varde: one error
	// per statement; the address line is a bad address for varde).
	lines := map[int]string{2: "MASTER;", 4: "51;", 5: "100;", 8: "PASS;", 12: "32;"}
	var d diag.List
	c := Parse("k.conf", []byte(conf), &d)
	c.Validate(&d)
	for l := range lines {
		found := false
		for _, it := range d.Items() {
			found = found || (it.Severity == diag.Error && it.Pos.Line == l)
		}
		if !found {
			t.Errorf("varde: no error at k.conf:%d", l)
		}
	}
	ka, err := exec.LookPath("keepalived")
	if err != nil {
		if ka, err = exec.LookPath("/usr/sbin/keepalived"); err != nil {
			t.Skip("keepalived not installed (.ci/install-deps installs it)")
		}
	}
	f := filepath.Join(t.TempDir(), "k.conf")
	if err := os.WriteFile(f, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(ka, "-t", "-f", f).CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() == 0 {
		t.Errorf("keepalived -t accepted the file (%v):\n%s", err, out)
	}
	for l, word := range lines {
		want := "Line " + itoa(l) + ")"
		ok := false
		for _, o := range strings.Split(string(out), "\n") {
			ok = ok || (strings.Contains(o, want) && strings.Contains(o, word))
		}
		if !ok {
			t.Errorf("keepalived -t did not reject line %d (%q):\n%s", l, word, out)
		}
	}
	// auth_pass keeps its ';' in both: keepalived says nothing about line 9.
	if strings.Contains(string(out), "Line 9)") {
		t.Errorf("keepalived objected to auth_pass secret;:\n%s", out)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
