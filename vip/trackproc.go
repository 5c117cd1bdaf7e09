package vip

import (
	"bytes"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/varde-lb/varde/core/config/keepalived"
)

// ProcScanInterval is how often vrrp_track_process scans /proc. keepalived
// follows the kernel's process events (the proc connector) and sees an
// exit at once; varde polls, so a process's death is seen within this
// interval plus the instances' 10 ms tracking poll (then terminate_delay,
// if set). A scan reads /proc/PID/stat of every process into a reused
// buffer; /proc/PID/cmdline only when a full_command match needs it and
// the process is new since the last scan (procscan.go).
const ProcScanInterval = 100 * time.Millisecond

// proc is one live (not zombie) process of a scan.
type proc struct {
	comm    string
	cmdline []byte // NUL-separated argv, read only when needed
}

// procScanner scans /proc in its own goroutine while at least one
// instance tracks a process; instances read the latest scan without
// blocking their VRRP loop.
type procScanner struct {
	mu      sync.Mutex
	users   int
	cmdline int // users that need cmdline
	stop    chan struct{}
	last    atomic.Pointer[[]proc]
}

var procScan procScanner

// register starts scanning (the first user) and makes sure a scan exists
// before the caller's first tracking poll.
func (s *procScanner) register(needCmdline bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users++
	if needCmdline {
		s.cmdline++
	}
	if s.users == 1 || needCmdline {
		list := scanProcs(s.cmdline > 0)
		s.last.Store(&list)
	}
	if s.users == 1 {
		s.stop = make(chan struct{})
		go s.loop(s.stop)
	}
}

func (s *procScanner) unregister(needCmdline bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users--
	if needCmdline {
		s.cmdline--
	}
	if s.users == 0 {
		close(s.stop)
		s.last.Store(nil)
	}
}

func (s *procScanner) loop(stop chan struct{}) {
	t := time.NewTicker(ProcScanInterval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		s.mu.Lock()
		need := s.cmdline > 0
		s.mu.Unlock()
		list := scanProcs(need)
		s.publish(stop, list)
	}
}

// publish stores a scan made by the loop owning stop, unless that loop was
// unregistered meanwhile: deciding and storing under s.mu means an
// unregister cannot slip in between and leave a stale list behind.
func (s *procScanner) publish(stop chan struct{}, list []proc) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stop != stop || s.users == 0 {
		return false
	}
	s.last.Store(&list)
	return true
}

// scanProcs lists the live processes: comm from /proc/PID/stat (the
// state after it: zombies are skipped, as keepalived), cmdline if asked.
func scanProcs(withCmdline bool) []proc {
	return scanCache.scan(withCmdline)
}

// matches applies keepalived's comparison (track_process.c).
func matches(tp *keepalived.Process, p proc) bool {
	if !tp.FullCommand {
		return p.comm == tp.Path
	}
	argv0, rest, _ := bytes.Cut(p.cmdline, []byte{0})
	if string(argv0) != tp.Path || len(p.cmdline) == 0 {
		return false
	}
	if tp.ParamMatch == "" {
		return true
	}
	return paramsMatch(tp, rest)
}

// paramsMatch is keepalived's check_params on the NUL-terminated
// arguments after argv[0].
func paramsMatch(tp *keepalived.Process, params []byte) bool {
	var want []byte
	for _, a := range tp.Params {
		want = append(append(want, a...), 0)
	}
	switch tp.ParamMatch {
	case "exact":
		return bytes.Equal(params, want)
	case "partial":
		return bytes.HasPrefix(params, want)
	default: // initial: the last parameter may be longer
		if len(want) == 0 {
			return true
		}
		return len(params) >= len(want) && bytes.HasPrefix(params, want[:len(want)-1])
	}
}

func countProcs(tp *keepalived.Process, list []proc) int {
	n := 0
	for _, p := range list {
		if matches(tp, p) {
			n++
		}
	}
	return n
}

// procState is one tracked process's verdict in one instance, with the
// fork/terminate delays: a change of the raw verdict must last the delay
// before it counts. keepalived applies fork_delay only when a fork (not
// an exec) brings the quorum; polling cannot tell them apart, so varde
// applies it to every gain.
type procState struct {
	up, known bool
	since     time.Time // when the raw verdict started to differ from up
}

func (s *procState) observe(raw bool, now time.Time, tp *keepalived.Process) {
	if !s.known {
		s.up, s.known = raw, true // keepalived decides from its first scan at once
		return
	}
	if raw == s.up {
		s.since = time.Time{}
		return
	}
	if s.since.IsZero() {
		s.since = now
	}
	delay := tp.TermDelay
	if raw {
		delay = tp.ForkDelay
	}
	if now.Sub(s.since) >= delay {
		s.up, s.since = raw, time.Time{}
	}
}

// processTracking returns the track_process part of the instance's
// priority change and fault; known is false before the first scan.
func (r *runner) processTracking() (delta int, fault bool) {
	if len(r.cfg.TrackProcesses) == 0 {
		return 0, false
	}
	now := r.now()
	list := procScan.last.Load()
	if list == nil {
		return 0, false
	}
	if r.procStates == nil {
		r.procStates = map[string]*procState{}
	}
	for _, t := range r.cfg.TrackProcesses {
		if t.Process == nil {
			continue
		}
		key := procKey(t.Process)
		st := r.procStates[key]
		if st == nil {
			st = &procState{}
			r.procStates[key] = st
		}
		before := st.up
		st.observe(t.Process.Up(countProcs(t.Process, *list)), now, t.Process)
		if st.up != before {
			r.logf("Track process %s %s", t.Process.Name, map[bool]string{true: "now running", false: "quorum lost"}[st.up])
		}
		d, f := procEffect(st.up, t.EffectiveWeight(), t.EffectiveReverse())
		delta += d
		fault = fault || f

	}
	return delta, fault
}

// procEffect is keepalived 2.2.7's (vrrp_track.c): weight 0 faults the
// instance while the quorum is lost (with reverse: while it is held); a
// positive weight counts while the quorum is held, a negative one while it
// is lost, and reverse negates what is added: `weight 10 reverse` lowers
// the priority by 10 while the process runs, `weight -10 reverse` raises
// it by 10 while it does not.
func procEffect(up bool, w int, reverse bool) (delta int, fault bool) {
	m := 1
	if reverse {
		m = -1
	}
	switch {
	case w == 0:
		return 0, up == reverse
	case w > 0 && up, w < 0 && !up:
		return w * m, false
	}
	return 0, false
}

// procKey identifies a process definition: a reload that keeps it keeps
// its state (and delays); a changed one starts afresh.
func procKey(tp *keepalived.Process) string {
	return tp.Name + "\x00" + posFree(tp.Params) + tp.Path + tp.ParamMatch + strconv.FormatBool(tp.FullCommand) +
		strconv.Itoa(tp.Quorum) + "/" + strconv.Itoa(tp.QuorumMax) + tp.ForkDelay.String() + tp.TermDelay.String()
}

// needsCmdline reports whether the instance tracks a process by its
// command line (register/unregister with the scanner).
func needsCmdline(in *keepalived.Instance) bool {
	for _, t := range in.TrackProcesses {
		if t.Process != nil && t.Process.FullCommand {
			return true
		}
	}
	return false
}

// procRegistration is an instance's use of the scanner: taken when its
// loop starts or a reload brings process tracking, given back when it ends.
type procRegistration struct {
	on, cmdline bool
}

func registerProcs(in *keepalived.Instance) procRegistration {
	if len(in.TrackProcesses) == 0 {
		return procRegistration{}
	}
	reg := procRegistration{on: true, cmdline: needsCmdline(in)}
	procScan.register(reg.cmdline)
	return reg
}

func (reg procRegistration) release() {
	if reg.on {
		procScan.unregister(reg.cmdline)
	}
}
