package config

import (
	"path/filepath"
	"strings"

	"github.com/varde-lb/varde/core/diag"
)

// HAProxy's server-state file: `server-state-file` and `server-state-base`
// in global, `load-server-state-from-file global|local|none` and
// `server-state-file-name [NAME|use-backend-name]` in defaults/backends.
// The file (the output of `show servers state`, version 1) is read and
// applied by core/admin (serverstate.go) when a generation is prepared and
// started, as HAProxy's apply_server_state does at start-up.

// ServerState is the global side of the server-state file.
type ServerState struct {
	File    string   `json:"file,omitempty"` // server-state-file, as written
	FilePos diag.Pos `json:"-"`
	Base    string   `json:"base,omitempty"` // server-state-base, as written
	BasePos diag.Pos `json:"-"`
}

// Load-server-state modes (HAProxy's PR_SRV_STATE_FILE_*); "" is
// unspecified, which HAProxy turns into none.
const (
	StateFromGlobal = "global"
	StateFromLocal  = "local"
	StateFromNone   = "none"
)

// serverStateGlobalLine parses the two global keywords; false when key is
// not one of them.
func (p *parser) serverStateGlobalLine(key string, args []Token, kwPos diag.Pos) bool {
	st := &p.cfg.Global.ServerState
	var dst *string
	var pos *diag.Pos
	what := "a file path"
	switch key {
	case "server-state-file":
		dst, pos = &st.File, &st.FilePos
	case "server-state-base":
		dst, pos, what = &st.Base, &st.BasePos, "a directory path"
	default:
		return false
	}
	if *dst != "" { // HAProxy: an alert, the configuration is refused
		p.d.Errorf(kwPos, key, "keep one "+key+" line", "'%s' already specified", key)
		return true
	}
	if len(args) == 0 || args[0].Text == "" {
		p.d.Errorf(kwPos, key, key+" PATH", "'%s' expects one argument: %s", key, what)
		return true
	}
	*dst, *pos = args[0].Text, kwPos
	return true
}

// serverStateProxyLine parses the two proxy keywords; false when key is
// not one of them.
func (p *parser) serverStateProxyLine(key string, args []Token, kwPos diag.Pos) bool {
	px := p.cur
	switch key {
	case "load-server-state-from-file":
		m := ""
		if len(args) > 0 {
			m = args[0].Text
		}
		switch m {
		case StateFromGlobal, StateFromLocal, StateFromNone:
			px.LoadServerState, px.LoadServerStatePos = m, kwPos
		default:
			p.d.Errorf(kwPos, key, "global, local or none", "'%s' expects 'global', 'local' or 'none'. Got '%s'", key, m)
		}
	case "server-state-file-name":
		if len(args) > 1 {
			p.d.Errorf(args[1].Pos, key, "server-state-file-name [NAME|use-backend-name]", "'%s' cannot handle unexpected argument '%s'", key, args[1].Text)
			return true
		}
		px.ServerStateFileName = px.Name
		if len(args) == 1 && args[0].Text != "use-backend-name" {
			px.ServerStateFileName = args[0].Text
		}
		px.ServerStateFileNamePos = kwPos
	default:
		return false
	}
	return true
}

// validateServerState gives HAProxy's warning for a backend told to read
// the global file when there is none.
func (c *Config) validateServerState(d *diag.List) {
	for _, px := range c.Backends {
		if px.LoadServerState == StateFromGlobal && c.Global.ServerState.File == "" {
			d.Warnf(px.LoadServerStatePos, "load-server-state-from-file", "add `server-state-file FILE` to the global section", "backend '%s' configured to load server state file from global section 'server-state-file' directive. Unfortunately, 'server-state-file' is not set!", px.Name)
		}
	}
}

// ServerStateFile is the file a backend's server states are read from, ""
// for none (HAProxy's load-server-state-from-file none, or unspecified).
// A relative name is joined to server-state-base, as HAProxy's
// srv_state_get_filepath does; a name still relative is read from the
// directory varde starts in (HAProxy opens it after parsing, when it is
// back in its start directory whatever default-path says).
func (c *Config) ServerStateFile(px *Proxy) string {
	st := &c.Global.ServerState
	var name string
	switch px.LoadServerState {
	case StateFromGlobal:
		name = st.File
	case StateFromLocal:
		name = px.ServerStateFileName
		if name == "" {
			name = px.Name
		}
	}
	if name == "" {
		return ""
	}
	if strings.HasPrefix(name, "/") || st.Base == "" {
		return name
	}
	return filepath.Join(st.Base, name)
}
