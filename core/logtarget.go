package core

import (
	"sort"
	"strconv"
	"strings"
	"sync"
)

// The syslog tables, once for the whole program: core/config judges `log`
// lines with them and logpipe encodes priorities with the same indexes.
var (
	facilityNames = [...]string{
		"kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news",
		"uucp", "cron", "auth2", "ftp", "ntp", "audit", "alert", "cron2",
		"local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
	}
	levelNames = [...]string{"emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"}
	// formatNames are HAProxy 2.6's `log ... format` values, in the order of
	// logpipe's SyslogFormat constants.
	formatNames = [...]string{"raw", "local", "rfc3164", "rfc5424", "short", "priority", "timed", "iso"}
)

func indexOf(table []string, s string) int {
	for i, v := range table {
		if v == s {
			return i
		}
	}
	return -1
}

// SyslogFacility returns the code of a facility name (local0 is 16), or -1.
func SyslogFacility(name string) int { return indexOf(facilityNames[:], name) }

// SyslogLevel returns the severity of a level name (info is 6), or -1.
func SyslogLevel(name string) int { return indexOf(levelNames[:], name) }

// LogFormat returns the index of a `format` name in LogFormats, or -1.
func LogFormat(name string) int { return indexOf(formatNames[:], name) }

// SyslogFacilities lists the 24 facility names in code order.
func SyslogFacilities() []string { return append([]string(nil), facilityNames[:]...) }

// SyslogLevels lists the eight level names in severity order.
func SyslogLevels() []string { return append([]string(nil), levelNames[:]...) }

// LogFormats lists the `format` names.
func LogFormats() []string { return append([]string(nil), formatNames[:]...) }

// LogTarget is where a `log` line sends records.
type LogTarget struct {
	Scheme  string // the sink's registered name: udp, tcp, unix, file, stdout, stderr
	Address string // after the prefix: host[:port] (port not defaulted) or a path; "" for stdout/stderr
	Raw     string // as written
}

// SinkScheme is a log sink's target syntax, registered by the sink plugin
// so that one parser (ParseLogTarget) serves core/config and logpipe.
type SinkScheme struct {
	// Name is the target prefix ("file" for file@PATH) and the name the
	// sink's factory is registered under in logpipe.
	Name string
	// Aliases are other prefixes meaning the same (udp4, ipv4 for udp).
	Aliases []string
	// HostPort is set when the address is HOST[:PORT] (port 514 when
	// omitted); otherwise it is a path, or nothing (NoAddress).
	HostPort  bool
	NoAddress bool
	// Options are the `log` options only this sink understands (file@'s
	// rotate, keep...); the configuration refuses them on other targets.
	Options []string
	// Format is the default `format` for the target ("" = rfc3164).
	Format string
	// Len is the default message length limit (`len`); 0 means 1024.
	Len int
	// Stores is set when records are kept at rest (files): the
	// configuration warns when client addresses are not anonymized.
	Stores bool
	// Parse judges the address's syntax (nil: anything non-empty).
	Parse func(t LogTarget) error
	// Check judges, when the configuration is checked, what the sink
	// would refuse when it opens (file@: the directory must exist), so
	// that `varde check` refuses it with file:line. nil: nothing to check.
	Check func(t LogTarget) error
}

var (
	sinkMu      sync.RWMutex
	sinkSchemes = map[string]*SinkScheme{} // by name and by alias
	sinkNames   []string
)

// RegisterSinkScheme makes a target syntax known. Sink plugins call it from
// init() (through logpipe.RegisterTarget); a prefix taken twice panics.
func RegisterSinkScheme(s SinkScheme) {
	sinkMu.Lock()
	defer sinkMu.Unlock()
	for _, p := range append([]string{s.Name}, s.Aliases...) {
		if _, dup := sinkSchemes[p]; dup || p == "" {
			panic("core: log target prefix registered twice or empty: " + p)
		}
		sinkSchemes[p] = &s
	}
	sinkNames = append(sinkNames, s.Name)
	sort.Strings(sinkNames)
}

// LookupSinkScheme returns the scheme registered under name or alias.
func LookupSinkScheme(name string) (SinkScheme, bool) {
	sinkMu.RLock()
	defer sinkMu.RUnlock()
	s, ok := sinkSchemes[name]
	if !ok {
		return SinkScheme{}, false
	}
	return *s, true
}

// SinkSchemeNames lists the registered schemes, sorted.
func SinkSchemeNames() []string {
	sinkMu.RLock()
	defer sinkMu.RUnlock()
	return append([]string(nil), sinkNames...)
}

// haproxyPrefixes are address prefixes HAProxy 2.6 knows that no sink
// implements: they get "not supported by varde yet", not "unknown".
var haproxyPrefixes = []string{"ring", "fd", "sockpair", "abns", "uxst", "quic4", "quic6"}

// ParseLogTarget reads the target word of a `log` line as HAProxy 2.6 does:
// "stdout" and "stderr" (aliases of fd@1 and fd@2), PREFIX@ADDRESS for a
// registered prefix, a bare path (a UNIX datagram socket) or a bare
// HOST[:PORT] (UDP). Errors are *ArgError with a hint.
func ParseLogTarget(s string) (LogTarget, error) {
	t := LogTarget{Raw: s}
	switch s {
	case "stdout", "fd@1":
		t.Scheme = "stdout"
	case "stderr", "fd@2":
		t.Scheme = "stderr"
	default:
		prefix, addr, ok := strings.Cut(s, "@")
		switch {
		case ok:
			t.Scheme, t.Address = prefix, addr
		case strings.HasPrefix(s, "/"):
			t.Scheme, t.Address = "unix", s
		default:
			t.Scheme, t.Address = "udp", s
		}
	}
	sc, ok := LookupSinkScheme(t.Scheme)
	if !ok {
		return t, unknownTarget(t)
	}
	t.Scheme = sc.Name
	if sc.NoAddress != (t.Address == "") {
		if sc.NoAddress {
			return t, ArgErrorf(-1, "write "+sc.Name, "log target %s takes no address", sc.Name)
		}
		return t, ArgErrorf(-1, "write "+sc.Name+"@ADDRESS", "log target %q has no address", s)
	}
	if sc.Parse != nil {
		if err := sc.Parse(t); err != nil {
			return t, err
		}
	}
	return t, nil
}

func unknownTarget(t LogTarget) error {
	known := targetForms()
	if indexOf(haproxyPrefixes, t.Scheme) >= 0 {
		return ArgErrorf(-1, "varde has "+known, "log target %s@ is not supported by varde yet", t.Scheme)
	}
	if t.Scheme == "udp" || t.Scheme == "unix" || t.Scheme == "stdout" || t.Scheme == "stderr" {
		return ArgErrorf(-1, "varde has "+known, "no %s log sink in this build", t.Scheme)
	}
	return ArgErrorf(-1, "varde has "+known, "unknown log target type %q", t.Scheme+"@")
}

// targetForms renders the registered schemes as a user writes them.
func targetForms() string {
	var out []string
	for _, n := range SinkSchemeNames() {
		if sc, _ := LookupSinkScheme(n); sc.NoAddress {
			out = append(out, n)
		} else {
			out = append(out, n+"@")
		}
	}
	return strings.Join(out, ", ")
}

// CheckLogTarget runs the sink's configuration-time check on t.
func CheckLogTarget(t LogTarget) error {
	sc, ok := LookupSinkScheme(t.Scheme)
	if !ok {
		return unknownTarget(t)
	}
	if sc.Check == nil {
		return nil
	}
	return sc.Check(t)
}

// ParseLogSample reads HAProxy's `sample RANGES:SIZE` ("1-3,5:10"): of
// every SIZE records only the positions in RANGES (1-based) are kept. It
// returns one flag per position. core/config judges the option with it
// and logpipe's sampler is built from it.
func ParseLogSample(s string) ([]bool, error) {
	const hint = "sample RANGES:SIZE, e.g. 1:2 or 1-3,5:10"
	ranges, sizeStr, ok := strings.Cut(s, ":")
	size, err := strconv.Atoi(sizeStr)
	if !ok || err != nil || size < 1 || size > 1<<16 {
		return nil, ArgErrorf(-1, hint, "sample %q: want RANGES:SIZE with SIZE 1..65536", s)
	}
	keep := make([]bool, size)
	for _, r := range strings.Split(ranges, ",") {
		lo, hi, isRange := strings.Cut(r, "-")
		a, err1 := strconv.Atoi(lo)
		b := a
		var err2 error
		if isRange {
			b, err2 = strconv.Atoi(hi)
		}
		if err1 != nil || err2 != nil || a < 1 || b < a || b > size {
			return nil, ArgErrorf(-1, hint, "sample %q: range %q must be within 1..%d", s, r, size)
		}
		for i := a; i <= b; i++ {
			keep[i-1] = true
		}
	}
	return keep, nil
}
