package admin

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/core/config"
	"github.com/varde-lb/varde/core/diag"
	"github.com/varde-lb/varde/core/health"
	"github.com/varde-lb/varde/core/proxy"
)

// HAProxy's server-state file (server-state-file, server-state-base,
// load-server-state-from-file, server-state-file-name): the output of
// `show servers state`, version 1, read when a generation is prepared (so
// `varde check` gives HAProxy's warnings, as `haproxy -c` does) and
// applied when it starts, before the first health check, as HAProxy's
// apply_server_state does at start-up and on each reload. Every problem is
// a warning and the process continues, as in HAProxy.

// HAProxy's limits and flags (include/haproxy/server-t.h, check-t.h).
const (
	stateLineMax    = 2000 // SRV_STATE_LINE_MAXLEN, newline included
	stateMinFields  = 20
	stateMaxFields  = 25
	admFMaint       = 0x01
	admIMaint       = 0x02
	admCMaint       = 0x04
	admFDrain       = 0x08
	admIDrain       = 0x10
	admRMaint       = 0x20
	admHMaint       = 0x40
	chkConfigured   = 0x02
	chkEnabled      = 0x04
	chkStateMask    = 0x1f
	hchkStatusSize  = 25 // HCHK_STATUS_SIZE in 2.6
	maxStateWeight  = 256
	checkResultLast = 4 // CHK_RES_CONDPASS
)

// stateLine is one server line of a state file: the fields and where.
type stateLine struct {
	f   []string
	pos diag.Pos
}

// stateApply is one server's recorded state, found at Prepare and applied
// at Start.
type stateApply struct {
	srv  *core.Server
	conf *config.Server
	line stateLine
}

// planServerState reads the state files the backends name and pairs each
// line with its server. Problems are warnings on d, located in the state
// file or at the line that names it.
func planServerState(c *config.Config, e *proxy.Engine, d *diag.List) []stateApply {
	var global map[string]stateLine
	if c.Global.ServerState.File != "" { // read (and warned about) even when no backend loads it, as HAProxy
		path := c.ServerStateFile(&config.Proxy{LoadServerState: config.StateFromGlobal})
		global = readStateFile(path, c.Global.ServerState.FilePos, "config: ", "global ", nil, 0, d)
	}
	ids := proxyIDs(c)
	idOf := map[*config.Proxy]int{}
	for i, p := range c.Proxies {
		idOf[p] = ids[i]
	}
	var plan []stateApply
	for _, p := range c.Backends {
		b := e.Backend(p.Name)
		if b == nil || p.Disabled || len(b.Servers()) == 0 {
			continue
		}
		lines := global
		switch p.LoadServerState {
		case config.StateFromGlobal:
		case config.StateFromLocal:
			lines = readStateFile(c.ServerStateFile(p), p.LoadServerStatePos, "Proxy '"+p.Name+"': ", "", p, idOf[p], d)
		default:
			continue
		}
		plan = append(plan, matchServers(p, b.Servers(), lines, p.LoadServerState == config.StateFromLocal, d)...)
	}
	return plan
}

// matchServers pairs a backend's servers with their lines; with a local
// file, lines naming no server are warned about, as HAProxy does.
func matchServers(p *config.Proxy, servers []*core.Server, lines map[string]stateLine, local bool, d *diag.List) []stateApply {
	var plan []stateApply
	seen := map[string]bool{}
	for _, s := range servers {
		k := p.Name + " " + s.Name
		l, ok := lines[k]
		if !ok {
			continue
		}
		seen[k] = true
		if msg := validStateLine(l.f); msg != "" {
			d.Warnf(l.pos, "server-state-file", "regenerate the file with `show servers state`", "server-state application failed for server '%s/%s'%s", p.Name, s.Name, msg)
			continue
		}
		plan = append(plan, stateApply{srv: s, conf: serverConf(p, s.Name), line: l})
	}
	if local {
		for k, l := range lines {
			if !seen[k] {
				d.Warnf(l.pos, "load-server-state-from-file", "remove the line or add the server", "Proxy '%s': can't find server '%s' in backend '%s'", p.Name, l.f[3], p.Name)
			}
		}
	}
	return plan
}

// readStateFile reads one state file into lines keyed "backend server".
// For a local file (px set) a line of another backend is skipped, and a
// backend id or name mismatch is warned about as HAProxy does. Any
// problem that makes HAProxy drop the file drops it here, with its warning.
func readStateFile(path string, at diag.Pos, who, kind string, px *config.Proxy, pxID int, d *diag.List) map[string]stateLine {
	f, err := os.Open(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		d.Warnf(at, "server-state-file", "write it with `show servers state` on the stats socket before a reload", "%sCan't open %sserver state file '%s': %s", who, kind, path, strerror(err))
		return nil
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, stateLineMax)
	first, err := readStateRow(r)
	if !stateVersionOK(first, err) {
		d.Warnf(at, "server-state-file", "the first line must be the version, 1", "%sCan't get version of the %sserver state file '%s'.", who, kind, path)
		return nil
	}
	out := map[string]stateLine{}
	for n := 2; ; n++ {
		row, err := readStateRow(r)
		if row == "" && err != nil {
			return out
		}
		pos := diag.Pos{File: path, Line: n}
		fields, ok := splitStateRow(row)
		if !ok {
			d.Warnf(pos, "server-state-file", "regenerate it with `show servers state`", "%scorrupted %sserver state file '%s' at line %d.", who, kind, path, n-1)
			return nil
		}
		if fields == nil {
			continue
		}
		be := fields[1]
		if px != nil {
			if be = localBackend(fields, px, pxID, pos, d); be == "" {
				continue
			}
		}
		k := be + " " + fields[3]
		if _, dup := out[k]; !dup { // HAProxy keeps the first of a hand-made duplicate
			out[k] = stateLine{f: fields, pos: pos}
		}
	}
}

// stateVersionOK tells whether the first row is HAProxy's version line:
// a number (strtol) followed directly by the newline, and that number 1.
func stateVersionOK(first string, err error) bool {
	body, ok := strings.CutSuffix(first, "\n")
	if err != nil || !ok {
		return false
	}
	v, ok := strtol(body)
	digits := strings.TrimLeft(strings.TrimLeft(body, " \t"), "+-")
	return ok && v == 1 && strings.TrimLeft(digits, "0123456789") == ""
}

// strerror spells an error as C's strerror does (capitalised).
func strerror(err error) string {
	m := err.Error()
	if m == "" {
		return m
	}
	return strings.ToUpper(m[:1]) + m[1:]
}

// readStateRow reads one line as HAProxy's fgets into a 2000-byte buffer
// does: a longer line comes back cut, without its newline.
func readStateRow(r *bufio.Reader) (string, error) {
	var b strings.Builder
	for b.Len() < stateLineMax-1 {
		c, err := r.ReadByte()
		if err != nil {
			if err == io.EOF && b.Len() > 0 {
				return b.String(), nil
			}
			return b.String(), err
		}
		b.WriteByte(c)
		if c == '\n' {
			break
		}
	}
	return b.String(), nil
}

// splitStateRow splits a row into its fields (blanks and tabs); nil for a
// blank or comment row; false for a row HAProxy calls corrupted (cut, or
// a field count outside version 1's 20..25).
func splitStateRow(row string) ([]string, bool) {
	if row == "" || row[len(row)-1] != '\n' {
		return nil, false
	}
	body := strings.TrimLeft(row[:len(row)-1], " \t")
	if body == "" || body[0] == '#' {
		return nil, true
	}
	fields := strings.FieldsFunc(body, func(r rune) bool { return r == ' ' || r == '\t' })
	if len(fields) > stateMaxFields {
		fields = fields[:stateMaxFields]
	}
	if len(fields) < stateMinFields {
		return nil, false
	}
	return fields, true
}

// localBackend checks a local file's line against the backend: the name
// its line is filed under, or "" to skip it.
func localBackend(fields []string, px *config.Proxy, pxID int, pos diag.Pos, d *diag.List) string {
	idOK := atoi(fields[0]) == pxID
	nameOK := fields[1] == px.Name
	switch {
	case !idOK && !nameOK:
		return ""
	case !idOK:
		d.Warnf(pos, "server-state-file", "", "Proxy '%s': backend ID mismatch: from server state file: '%s', from running config '%d'", px.Name, fields[0], pxID)
	case !nameOK:
		d.Warnf(pos, "server-state-file", "", "Proxy '%s': backend name mismatch: from server state file: '%s', from running config '%s'", px.Name, fields[1], px.Name)
		if atoi(fields[15])&1 == 0 { // the id was not forced: another backend's line
			return ""
		}
	}
	return px.Name
}

// atoi is C's atoi: leading digits, 0 when none.
func atoi(s string) int {
	n, _ := strtol(s)
	return int(n)
}

// strtol reads an optionally signed decimal prefix as C's strtol; false
// when there is no digit (HAProxy's "p == params[i]" test). Trailing
// characters are ignored, as there.
func strtol(s string) (int64, bool) {
	s = strings.TrimLeft(s, " \t")
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	j := i
	for j < len(s) && s[j] >= '0' && s[j] <= '9' {
		j++
	}
	if j == i {
		return 0, false
	}
	n, err := strconv.ParseInt(s[:j], 10, 64)
	return n, err == nil
}

// validStateLine checks a server's fields as HAProxy does before applying
// any; it returns the reasons (", invalid X value 'V'") or "".
func validStateLine(f []string) string {
	var msg strings.Builder
	bad := func(name string, i int) { fmt.Fprintf(&msg, ", invalid %s value '%s'", name, f[i]) }
	num := func(i int) (int64, bool) { return strtol(f[i]) }
	if v, ok := num(5); !ok || v < 0 || v > 3 {
		bad("srv_op_state", 5)
	}
	if v, ok := num(6); !ok || !validAdmin(v) {
		bad("srv_admin_state", 6)
	}
	for _, w := range []struct {
		name string
		i    int
	}{{"srv_uweight", 7}, {"srv_iweight", 8}} {
		if v, ok := num(w.i); !ok || v < 0 || v > maxStateWeight {
			bad(w.name, w.i)
		}
	}
	if _, ok := num(9); !ok {
		bad("srv_last_time_change", 9)
	}
	if v, ok := num(10); !ok || v >= hchkStatusSize {
		bad("srv_check_status", 10)
	}
	if v, ok := num(11); !ok || v < 0 || v > checkResultLast {
		bad("srv_check_result", 11)
	}
	if _, ok := num(12); !ok {
		bad("srv_check_health", 12)
	}
	for _, c := range []struct {
		name string
		i    int
	}{{"srv_check_state", 13}, {"srv_agent_state", 14}} {
		if v, ok := num(c.i); !ok || v&^chkStateMask != 0 {
			bad(c.name, c.i)
		}
	}
	for _, c := range []struct {
		name string
		i    int
	}{{"bk_f_forced_id", 15}, {"srv_f_forced_id", 16}} {
		if v, ok := num(c.i); !ok || (v != 0 && v != 1) {
			bad(c.name, c.i)
		}
	}
	if p, _ := strtol(f[18]); p > 65535 || p < 0 {
		bad("srv_port", 18)
	}
	return msg.String()
}

// validAdmin accepts the admin states HAProxy restores, once the inherited
// and resolution flags are dropped.
func validAdmin(v int64) bool {
	v &^= admIDrain | admIMaint | admHMaint | admRMaint
	switch v {
	case 0, admFMaint, admCMaint, admCMaint | admFMaint, admCMaint | admFDrain, admFDrain:
		return true
	}
	return false
}

// applyServerState applies the planned lines (Start, before the checks).
func applyServerState(plan []stateApply, mgr *health.Manager, log *slog.Logger) {
	for _, a := range plan {
		applyOne(a, mgr)
	}
	if len(plan) > 0 {
		log.Info("server-state file applied", "servers", len(plan))
	}
}

// applyOne is HAProxy's srv_state_srv_update for one valid line.
func applyOne(a stateApply, mgr *health.Manager) {
	f, s := a.line.f, a.srv
	n := func(i int) int64 { v, _ := strtol(f[i]); return v }
	op, adm, uw, iw := int(n(5)), n(6), int(n(7)), int(n(8))
	adm &^= admIDrain | admIMaint | admHMaint | admRMaint
	mgr.RestoreState(s, op, int(n(12)))
	confMaint := a.conf != nil && a.conf.Disabled
	// A configuration change wins; otherwise the saved forced state does.
	switch {
	case (adm&admCMaint != 0) != confMaint:
		if confMaint {
			mgr.SetAdmin(s, core.AdminMaint)
		} else {
			mgr.SetAdmin(s, core.AdminReady)
		}
	case adm&admFMaint != 0 && !confMaint:
		mgr.SetAdmin(s, core.AdminMaint)
	case adm&admFMaint == 0 && confMaint:
		mgr.SetAdmin(s, core.AdminReady)
	}
	// Drain is restored unless it came from a zero weight the
	// configuration since raised.
	if s.OperatorAdmin() != core.AdminMaint && adm&admFDrain != 0 && (iw > 0 || s.ConfigWeight == 0) {
		mgr.SetAdmin(s, core.AdminDrain)
	}
	if st := n(13); st&chkConfigured != 0 && st&chkEnabled == 0 {
		mgr.SetChecks(s, false) // `disable health` before the reload
	}
	if iw == s.ConfigWeight { // a weight changed in the configuration wins
		mgr.SetWeight(s, uw)
	}
	restoreAddr(a, f)
	// Seconds since the last change; clamped so a huge value cannot
	// overflow into a time in the future (negative ones are HAProxy's).
	since := min(n(9), int64(time.Now().Unix()))
	s.LastChange.Store(time.Now().Add(-time.Duration(since) * time.Second).UnixNano())
}

// restoreAddr applies the saved address to a server named by a host name
// (HAProxy's init-addr `last`, first of the default last,libc) and the
// saved port to every server, as HAProxy does.
func restoreAddr(a stateApply, f []string) {
	s := a.srv
	ap := s.Address()
	if f[4] != "-" && s.Host != "" && a.conf != nil && len(a.conf.InitAddr) == 0 {
		if ip, err := netip.ParseAddr(f[4]); err == nil {
			ap = netip.AddrPortFrom(ip, ap.Port())
		}
	}
	if p, ok := strtol(f[18]); ok && p > 0 && ap.Port() != 0 {
		ap = netip.AddrPortFrom(ap.Addr(), uint16(p))
	}
	if ap.IsValid() && ap != s.Address() {
		s.SetAddress(ap)
	}
}
