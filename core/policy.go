package core

import "time"

// The interfaces below are the extension points through which Lua and WASM
// policies (package scripting) take decisions. The built-in behaviour
// implements each one, and a policy that errs, times out or returns a bad
// verdict falls back to the built-in.

// BackendChooser decides which backend a frontend sends a request to. The
// built-in evaluates `use_backend ... if COND` rules then `default_backend`.
type BackendChooser interface {
	// ChooseBackend returns the backend's name and true, or false to leave the
	// decision to the next chooser (ultimately default_backend).
	ChooseBackend(req Request) (backend string, ok bool)
}

// ServerView is the read-only state of a server a policy may look at.
type ServerView struct {
	Name    string
	Weight  int
	Up      bool
	Admin   AdminState
	Backup  bool
	Active  int64
	Queued  int64
	MaxConn int64
}

// View snapshots s for a policy.
func (s *Server) View() ServerView {
	return ServerView{
		Name: s.Name, Weight: s.Weight(), Up: s.IsUp(), Admin: s.Admin(), Backup: s.Backup,
		Active: s.Active.Load(), Queued: s.Queued.Load(), MaxConn: s.MaxConn(),
	}
}

// Stickiness maps a request to the server an earlier response bound it to
// (cookie persistence, `balance source`, policy-defined keys).
type Stickiness interface {
	// Lookup returns the server the request is bound to, or nil.
	Lookup(req Request, servers []*Server) *Server
}

// CheckResult is what one health probe observed.
type CheckResult struct {
	OK       bool
	Status   string        // HAProxy's status word: L4OK, L4TOUT, L4CON, L6OK, L7OK, L7STS, L7RSP, ...
	Code     int           // L7 status code, 0 when none
	Info     string        // short human text ("Connection refused", "HTTP status check returned code <503>")
	Duration time.Duration // how long the probe took
}

// HealthJudge turns a probe's result into a verdict. The built-in keeps the
// probe's own OK; a policy may overrule it (e.g. treat 429 as healthy).
type HealthJudge interface {
	Judge(server ServerView, r CheckResult) (ok bool)
}
