package keepalived

import (
	"fmt"
	"strings"
	"time"

	"github.com/varde-lb/varde/core/diag"
)

// Process is a vrrp_track_process block, with keepalived 2.2.7's meaning
// (vrrp_parser.c, track_process.c):
//
//   - without parameters or full_command, Path is compared with the
//     process name (comm, /proc/PID/stat: at most 15 characters);
//   - with parameters, param_match or full_command, with argv[0] of
//     /proc/PID/cmdline, exactly; parameters then match exactly (the
//     default), as a prefix of the arguments (partial), or so with the
//     last one a prefix of its argument (initial);
//   - zombies do not count; the process is up while Quorum <= count <=
//     QuorumMax (keepalived: quorum 1, quorum_max unlimited; quorum_max 0
//     means up while no such process runs);
//   - Weight defaults to 0 (the manual says 1; the code allocates 0):
//     losing the quorum puts the instances in FAULT.
type Process struct {
	Name        string        `json:"name"`
	Pos         diag.Pos      `json:"pos"`
	Path        string        `json:"process"`
	PathPos     diag.Pos      `json:"-"` // the `process` line
	Params      []string      `json:"params,omitempty"`
	ParamMatch  string        `json:"param_match,omitempty"` // "", exact, partial, initial
	FullCommand bool          `json:"full_command,omitempty"`
	Weight      int           `json:"weight"`
	Reverse     bool          `json:"reverse,omitempty"` // `weight N reverse`
	Quorum      int           `json:"quorum"`
	QuorumMax   int           `json:"quorum_max"` // -1: unlimited
	ForkDelay   time.Duration `json:"fork_delay,omitempty"`
	TermDelay   time.Duration `json:"terminate_delay,omitempty"`
}

// Up reports whether n matching processes satisfy the quorum.
func (p *Process) Up(n int) bool {
	return n >= p.Quorum && (p.QuorumMax < 0 || n <= p.QuorumMax)
}

// TrackProcessRef is one line of an instance's track_process block,
// resolved by Validate.
type TrackProcessRef struct {
	Name    string   `json:"name"`
	Weight  *int     `json:"weight,omitempty"`  // nil: the process's
	Reverse *bool    `json:"reverse,omitempty"` // nil: the process's
	Line    int      `json:"-"`
	Process *Process `json:"-"`
}

// EffectiveReverse is the line's reverse option, or the process's.
func (t TrackProcessRef) EffectiveReverse() bool {
	if t.Reverse != nil {
		return *t.Reverse
	}
	return t.Process != nil && t.Process.Reverse
}

// EffectiveWeight is the line's weight, or the process's.
func (t TrackProcessRef) EffectiveWeight() int {
	if t.Weight != nil {
		return *t.Weight
	}
	if t.Process != nil {
		return t.Process.Weight
	}
	return 0
}

// trackProcess reads a vrrp_track_process block.
func (p *parser) trackProcess(n *node) {
	tp := &Process{Name: n.args[0], Pos: n.pos, Quorum: 1, QuorumMax: -1}
	quorumSet := false
	for _, c := range n.children {
		if !p.checkSection("vrrp_track_process", c) {
			continue
		}
		switch c.keyword {
		case "process":
			if len(c.args) == 0 {
				p.d.Errorf(c.pos, c.keyword, "process NAME [PARAM ...]", "expects a process name")
				continue
			}
			tp.Path, tp.Params, tp.PathPos = c.args[0], c.args[1:], c.pos
			if len(tp.Params) > 0 {
				tp.FullCommand = true
			}
		case "param_match":
			p.paramMatch(tp, c)
		case "full_command":
			tp.FullCommand = true
		case "weight":
			if w, rev, ok := p.fileWeight(c, c.args); ok {
				tp.Weight, tp.Reverse = w, rev
			}
		case "quorum":
			if v, ok := p.intArg(c, 1, 65535); ok {
				tp.Quorum, quorumSet = v, true
			}
		case "quorum_max":
			if v, ok := p.intArg(c, 0, 65535); ok {
				tp.QuorumMax = v
			}
		case "delay", "fork_delay", "terminate_delay":
			p.procDelay(tp, c)
		}
	}
	p.finishProcess(tp, n, quorumSet)
}

func (p *parser) paramMatch(tp *Process, c *node) {
	tp.FullCommand = true
	switch {
	case len(c.args) == 0:
		tp.ParamMatch = "exact"
	case len(c.args) == 1 && (c.args[0] == "initial" || c.args[0] == "partial"):
		tp.ParamMatch = c.args[0]
	default:
		p.d.Errorf(c.pos, c.keyword, "param_match [initial|partial]", "invalid param_match type %q", strings.Join(c.args, " "))
	}
}

func (p *parser) procDelay(tp *Process, c *node) {
	v, ok := p.secondsArg(c, 0.000001, 3600, false)
	if !ok {
		return
	}
	if c.keyword != "fork_delay" {
		tp.TermDelay = v
	}
	if c.keyword != "terminate_delay" {
		tp.ForkDelay = v
	}
}

// finishProcess checks the block as a whole and records it.
func (p *parser) finishProcess(tp *Process, n *node, quorumSet bool) {
	if tp.Path == "" {
		p.d.Errorf(n.pos, n.keyword, "add: process NAME", "track process %s has no process", tp.Name)
		return
	}
	if tp.QuorumMax == 0 && !quorumSet {
		tp.Quorum = 0 // keepalived: quorum_max 0 alone means "none may run"
	}
	if tp.QuorumMax >= 0 && tp.Quorum > tp.QuorumMax {
		p.d.Errorf(n.pos, n.keyword, "quorum must not exceed quorum_max", "quorum %d is greater than quorum_max %d", tp.Quorum, tp.QuorumMax)
		return
	}
	if !tp.FullCommand && len(tp.Path) > 15 {
		p.d.Errorf(n.pos, n.keyword, "add full_command to match the command's path, or write the first 15 characters",
			"process name %q is longer than the 15 characters the kernel keeps, so it never matches", tp.Path)
		return
	}
	if tp.FullCommand && tp.ParamMatch == "" && len(tp.Params) > 0 {
		tp.ParamMatch = "exact"
	}
	p.cfg.Processes = append(p.cfg.Processes, tp)
}

// trackProcessRefs reads an instance's `track_process { NAME [weight N
// [reverse|noreverse]] }`; without the option the block's reverse holds
// (keepalived 2.2.7 alloc_track_process).
func (p *parser) trackProcessRefs(in *Instance, n *node) {
	if !p.needBlock(n) {
		return
	}
	for _, c := range n.children {
		t := TrackProcessRef{Name: c.keyword, Line: c.pos.Line}
		switch {
		case len(c.args) == 0:
		case c.args[0] == "weight" && len(c.args) >= 2:
			w, rev, ok := p.fileWeight(c, c.args[1:])
			if !ok {
				continue
			}
			t.Weight = &w
			if len(c.args) == 3 {
				t.Reverse = &rev
			}
		default:
			p.d.Errorf(c.pos, "track_process", "NAME [weight N [reverse]]", "unexpected %q", strings.Join(c.args, " "))
			continue
		}
		in.TrackProcesses = append(in.TrackProcesses, t)
	}
}

// Process returns the vrrp_track_process with that name (the last), or nil.
func (c *Config) Process(name string) *Process {
	var found *Process
	for _, p := range c.Processes {
		if p.Name == name {
			found = p
		}
	}
	return found
}

// resolveProcesses links an instance's track_process lines to their blocks.
func (c *Config) resolveProcesses(in *Instance, d *diag.List) {
	for i := range in.TrackProcesses {
		t := &in.TrackProcesses[i]
		if t.Process = c.Process(t.Name); t.Process == nil {
			p := in.Pos
			p.Line = t.Line
			d.Errorf(p, "track_process", "define it with vrrp_track_process "+t.Name+" { process NAME }", "unknown vrrp_track_process %s", t.Name)
		}
	}
}

// String describes the match, for logs.
func (p *Process) String() string {
	s := p.Path
	if len(p.Params) > 0 {
		s += " " + strings.Join(p.Params, " ")
	}
	q := fmt.Sprintf("quorum %d", p.Quorum)
	if p.QuorumMax >= 0 {
		q += fmt.Sprintf("..%d", p.QuorumMax)
	}
	return fmt.Sprintf("%q (%s)", s, q)
}
