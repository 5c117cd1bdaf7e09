package vip

import (
	"fmt"
	"path"
	"strings"

	"github.com/varde-lb/varde/core/config/keepalived"
	"github.com/varde-lb/varde/core/diag"
)

// warnHAProxyProcesses is warnHAProxyScripts for vrrp_track_process: a
// block following the haproxy process (`process haproxy`, or its path
// with full_command) never finds it once varde replaces HAProxy (varde's
// process is named varde), so its instances go to FAULT or lose the
// weight the moment the migration starts. Called only when varde also
// runs the haproxy.cfg.
func warnHAProxyProcesses(kc *keepalived.Config, d *diag.List) {
	for _, p := range kc.Processes {
		if path.Base(p.Path) != "haproxy" {
			continue
		}
		effect, weight := haproxyProcessEffect(kc, p)
		line := "listeners"
		if weight != 0 {
			line += fmt.Sprintf(" weight %d", weight)
		}
		pos := p.PathPos
		if pos.File == "" {
			pos = p.Pos
		}
		d.Warnf(pos, "process", fmt.Sprintf("in the vrrp_instance replace `track_process { %s }` with `track_varde { %s }` (or `backend NAME` to follow a backend's servers), see docs/vip.md", p.Name, line),
			"vrrp_track_process %s follows the haproxy process; no haproxy process runs once varde replaces HAProxy (varde's process is named varde), so this tracker fails and %s",
			p.Name, effect)
	}
}

// haproxyProcessEffect says what the lost process does to the instances
// tracking it, and the weight the first of them uses.
func haproxyProcessEffect(kc *keepalived.Config, p *keepalived.Process) (string, int) {
	var effects []string
	weight, tracked := p.Weight, false
	for _, in := range kc.Instances {
		for _, t := range in.TrackProcesses {
			if t.Name != p.Name {
				continue
			}
			w := t.EffectiveWeight()
			if !tracked {
				weight, tracked = w, true
			}
			switch {
			case w == 0:
				effects = append(effects, fmt.Sprintf("puts %s in FAULT", in.Name))
			case w < 0:
				effects = append(effects, fmt.Sprintf("lowers %s's priority by %d", in.Name, -w))
			default:
				effects = append(effects, fmt.Sprintf("%s never gets its +%d", in.Name, w))
			}
		}
	}
	if len(effects) == 0 {
		return "would put the instances tracking it in FAULT (none does yet)", weight
	}
	return strings.Join(effects, ", "), weight
}
