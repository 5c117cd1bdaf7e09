package vip

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"github.com/varde-lb/varde/core/config/keepalived"
	"github.com/varde-lb/varde/core/diag"
)

// warnHAProxyScripts warns at every vrrp_script whose command checks that
// an haproxy process runs (`killall -0 haproxy`, `pidof haproxy`, ...).
// It is called only when varde also runs the haproxy.cfg: then no haproxy
// process exists, the script fails forever and its instances go to FAULT
// (or lose their weight) the moment the migration starts. The hint gives
// the track_varde line that checks the same thing without forking.
func warnHAProxyScripts(kc *keepalived.Config, d *diag.List) {
	for _, s := range kc.Scripts {
		what, ok := checksHAProxy(s.Command)
		if !ok && len(s.Command) > 0 {
			what, ok = scriptFileChecksHAProxy(s.Command[0])
		}
		if !ok {
			continue
		}
		effect, hint := haproxyScriptAdvice(kc, s)
		d.Warnf(s.CommandPos, "script", hint,
			"vrrp_script %s checks the haproxy process (%q); no haproxy process runs once varde replaces HAProxy, so this check fails and %s",
			s.Name, what, effect)
	}
}

// haproxyScriptAdvice says what the failing script does to the instances
// tracking it and which track_varde line replaces it (same weight, same
// meaning: weight 0 = FAULT, negative = lower the priority on failure).
func haproxyScriptAdvice(kc *keepalived.Config, s *keepalived.Script) (effect, hint string) {
	var effects []string
	weight, tracked := s.Weight, false
	for _, in := range kc.Instances {
		for _, t := range in.TrackScripts {
			if t.Name != s.Name {
				continue
			}
			w := s.Weight
			if t.Weight != nil {
				w = *t.Weight
			}
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
	effect = "would put the instances tracking it in FAULT (none does yet)"
	if len(effects) > 0 {
		effect = strings.Join(effects, ", ")
	}
	line := "listeners"
	if weight != 0 {
		line += fmt.Sprintf(" weight %d", weight)
	}
	hint = fmt.Sprintf("in the vrrp_instance replace `track_script { %s }` with `track_varde { %s }` (or `backend NAME` to follow a backend's servers), see docs/vip.md", s.Name, line)
	return effect, hint
}

// maxScriptFile bounds how much of a check script file is read.
const maxScriptFile = 64 << 10

// scriptFileChecksHAProxy reads a script file the vrrp_script runs
// (`/etc/keepalived/check_haproxy.sh`) and reports the first line that
// checks the haproxy process, as "FILE:LINE: text". Binaries, unreadable
// and large files are skipped: this is a warning, never a refusal.
func scriptFileChecksHAProxy(path string) (string, bool) {
	f, err := os.Open(path)
	if err != nil {
		return "", false
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxScriptFile+1))
	if err != nil || len(b) > maxScriptFile || bytes.IndexByte(b, 0) >= 0 {
		return "", false
	}
	for i, line := range strings.Split(string(b), "\n") {
		if j := strings.IndexByte(line, '#'); j >= 0 {
			line = line[:j]
		}
		if _, ok := checksHAProxy(strings.Fields(line)); ok {
			return fmt.Sprintf("%s:%d: %s", path, i+1, strings.TrimSpace(line)), true
		}
	}
	return "", false
}

// checksHAProxy reports whether a vrrp_script command checks for a running
// haproxy process, and the part of the command that does. The command runs
// without a shell, but `sh -c '...'` wrappers are common, so it is read as
// shell text: split at ; | & ( ) ` $ [ ] { } and newlines, quotes dropped.
func checksHAProxy(argv []string) (string, bool) {
	text := strings.Join(argv, " ")
	segs := strings.FieldsFunc(text, func(r rune) bool {
		return strings.ContainsRune(";|&()`$[]{}\n", r)
	})
	sawPS := false
	for _, seg := range segs {
		f := strings.Fields(strings.NewReplacer(`"`, " ", `'`, " ").Replace(seg))
		f = unwrapCommand(f)
		if len(f) == 0 {
			continue
		}
		cmd := path.Base(f[0])
		if cmd == "ps" {
			sawPS = true
		}
		if commandChecksHAProxy(cmd, f[1:], sawPS) {
			return strings.Join(f, " "), true
		}
	}
	return "", false
}

// unwrapCommand drops the wrappers in front of the real command: shells
// (`sh -c`), `sudo`, `exec`, `env VAR=x`, `timeout 2`, `!`, `busybox`, and
// the shell keywords a script file puts before a command (`if ! pidof ...`).
func unwrapCommand(f []string) []string {
	for len(f) > 0 {
		switch path.Base(f[0]) {
		case "sh", "bash", "dash", "ash", "zsh", "sudo", "exec", "env", "nice", "nohup", "command", "!", "busybox",
			"if", "then", "elif", "else", "while", "until", "do":
			f = dropFlags(f[1:])
			for len(f) > 0 && strings.Contains(f[0], "=") { // env VAR=value
				f = f[1:]
			}
		case "timeout":
			f = dropFlags(f[1:])
			if len(f) > 0 {
				f = f[1:] // the duration
			}
		default:
			return f
		}
	}
	return f
}

func dropFlags(f []string) []string {
	for len(f) > 0 && strings.HasPrefix(f[0], "-") {
		f = f[1:]
	}
	return f
}

// valueFlags are the options of the process finders that take a value, so
// that `pgrep -u haproxy nginx` (user haproxy) is not read as a check of
// haproxy.
var valueFlags = map[string]map[string]bool{
	"killall": flagSet("-s", "--signal", "-u", "--user", "-o", "--older-than", "-y", "--younger-than", "-n", "--ns", "-Z", "--context"),
	"pgrep":   flagSet("-d", "--delimiter", "-g", "--pgroup", "-G", "--group", "-P", "--parent", "-s", "--session", "-t", "--terminal", "-u", "--euid", "-U", "--uid", "--signal", "-F", "--pidfile", "--ns", "--nslist", "-r", "--runstates"),
	"pidof":   flagSet("-o", "--omit-pid"),
	"ps":      flagSet("-u", "-U", "-g", "-G", "-p", "-t", "-o", "--user", "--pid", "--format", "--sort"),
	"grep":    flagSet("-e", "-f", "-m", "-A", "-B", "-C", "--regexp", "--file", "--max-count"),
}

func init() { valueFlags["pkill"] = valueFlags["pgrep"] }

func flagSet(xs ...string) map[string]bool {
	m := make(map[string]bool, len(xs))
	for _, x := range xs {
		m[x] = true
	}
	return m
}

// commandChecksHAProxy reads one simple command: cmd and its arguments.
func commandChecksHAProxy(cmd string, args []string, afterPS bool) bool {
	switch cmd {
	case "killall", "pidof", "pgrep", "pkill":
		return anyName(operands(cmd, args), isHAProxyProcess)
	case "ps":
		// ps -C haproxy: -C takes the process name.
		for i, a := range args {
			if (a == "-C" || a == "--command") && i+1 < len(args) && isHAProxyProcess(args[i+1]) {
				return true
			}
		}
	case "grep", "egrep", "fgrep":
		// ps aux | grep haproxy
		return afterPS && anyName(operands(cmd, args), isHAProxyProcess)
	case "systemctl":
		ops := operands(cmd, args)
		return len(ops) >= 2 && isStatusVerb(ops[0]) && anyName(ops[1:], isHAProxyUnit)
	case "service":
		ops := operands(cmd, args)
		return len(ops) >= 2 && isHAProxyUnit(ops[0]) && ops[1] == "status"
	case "rc-service":
		ops := operands(cmd, args)
		return len(ops) >= 2 && isHAProxyUnit(ops[0]) && ops[1] == "status"
	}
	return false
}

// operands are the arguments that are not options nor option values.
func operands(cmd string, args []string) []string {
	var out []string
	vf := valueFlags[cmd]
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case vf[a]:
			i++ // skip the option's value
		case strings.HasPrefix(a, "-") && len(a) > 1:
		default:
			out = append(out, a)
		}
	}
	return out
}

func anyName(xs []string, f func(string) bool) bool {
	for _, x := range xs {
		if f(x) {
			return true
		}
	}
	return false
}

func isStatusVerb(v string) bool {
	return v == "is-active" || v == "status" || v == "is-failed"
}

// isHAProxyProcess matches a process name or pattern for haproxy itself:
// haproxy, /usr/sbin/haproxy, ^haproxy$; not haproxy_exporter or
// /etc/haproxy/haproxy.cfg.
func isHAProxyProcess(s string) bool {
	s = strings.TrimSuffix(strings.TrimPrefix(s, "^"), "$")
	return path.Base(s) == "haproxy"
}

// isHAProxyUnit matches haproxy, haproxy.service and haproxy@NAME units.
func isHAProxyUnit(s string) bool {
	s = strings.TrimSuffix(s, ".service")
	return s == "haproxy" || strings.HasPrefix(s, "haproxy@")
}
