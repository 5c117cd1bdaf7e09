package admin

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/core/config"
	"github.com/varde-lb/varde/core/health"
	"github.com/varde-lb/varde/core/listen"
	"github.com/varde-lb/varde/core/proxy"
	"github.com/varde-lb/varde/core/stats"
	"github.com/varde-lb/varde/core/tlsx"
)

// Runtime is what the admin API acts on. The health manager owns server
// state; Shutdown (optional) closes a server's sessions in the engine.
type Runtime struct {
	Source   stats.Source
	Health   *health.Manager
	Shutdown func(s *core.Server) int
	// Policies are the configuration's compiled policies (show policies,
	// policy var commands).
	Policies []proxy.LoadedPolicy
	// TLS is the engine's certificate registry (set/commit ssl cert);
	// nil without TLS binds.
	TLS *tlsx.Registry
	// Tables are the engine's stick tables (show/clear/set table, table.go).
	Tables tablesOf
	// Engine takes `add server` and `del server` (dynserver.go); nil:
	// they are refused.
	Engine *proxy.Engine
	// AddChecks registers the checks of a server added at runtime (its
	// check keywords as a server line), paused until `enable health`;
	// nil: `check` is refused on `add server`.
	AddChecks func(s *core.Server, sc *config.Server) error
}

// Config is one `stats socket` line.
type Config struct {
	Path      string      // unix socket path; "" for none
	Mode      fs.FileMode // `mode`, default 0600
	Level     Level       // `level`, default operator (HAProxy's default)
	TCP       string      // optional loopback address, e.g. 127.0.0.1:9999
	StateFile string      // default Path + ".state"
	// ExposeFD is `expose-fd listeners`: `_getsocks` hands Sockets' listeners
	// to a new process (getsocks.go). Sockets also opens the TCP address.
	ExposeFD bool
	Sockets  *listen.Inventory
	// Idle is `stats timeout`: how long a client may stay silent before a
	// command (also between commands after `prompt`) before the socket
	// closes it. Zero means HAProxy's default, DefaultIdle.
	Idle time.Duration
}

// DefaultIdle is HAProxy's `stats timeout` default.
const DefaultIdle = 10 * time.Second

// Server serves the CLI.
type Server struct {
	cfg   Config
	rt    Runtime
	log   *slog.Logger
	state *StateStore

	mu        sync.Mutex
	listeners []net.Listener
	wg        sync.WaitGroup
	closed    bool

	sslMu  sync.Mutex
	sslTxn *sslTxn // the one open set ssl cert transaction (sslcert.go)

	// reload is the process's reload (reload.go), nil when none; set once
	// the sockets already serve, so read atomically.
	reload atomic.Pointer[func() error]
}

// maxLine bounds one request line; HAProxy's CLI buffer is similar.
const maxLine = 16 << 10

// New prepares a server; Start opens its sockets.
func New(cfg Config, rt Runtime, log *slog.Logger) *Server {
	if cfg.Mode == 0 {
		cfg.Mode = 0o600
	}
	if cfg.StateFile == "" && cfg.Path != "" {
		cfg.StateFile = cfg.Path + ".state"
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Server{cfg: cfg, rt: rt, log: log, state: NewStateStore(cfg.StateFile)}
}

// State is the store of runtime changes (for reapplying after a reload).
func (s *Server) State() *StateStore { return s.state }

// Start listens on the unix socket (replacing a stale one) with the
// configured mode, and on the TCP address when set.
func (s *Server) Start(ctx context.Context) error {
	if l := takeHanded("unix", s.cfg.Path); s.cfg.Path != "" && l != nil {
		// A reload: the running generation's socket, never closed. Only a
		// changed mode is applied: after the privilege drop
		// (cmd/varde/privdrop_linux.go) root's socket cannot be chmodded.
		if fi, err := os.Stat(s.cfg.Path); err != nil || fi.Mode().Perm() != s.cfg.Mode.Perm() {
			if err := os.Chmod(s.cfg.Path, s.cfg.Mode); err != nil {
				return fmt.Errorf("admin: stats socket %s: chmod: %w", s.cfg.Path, err)
			}
		}
		s.serve(ctx, l)
	} else if s.cfg.Path != "" {
		// Replaces a stale socket from a previous run, or the live one of
		// the process this one succeeds (unixsock.go).
		l, err := listenUnix(s.cfg.Path, s.cfg.Mode)
		if err != nil {
			return fmt.Errorf("admin: stats socket %s: %w", s.cfg.Path, err)
		}
		s.serve(ctx, l)
	}
	if s.cfg.TCP != "" {
		host, _, err := net.SplitHostPort(s.cfg.TCP)
		if err != nil {
			return fmt.Errorf("admin: tcp %s: %w", s.cfg.TCP, err)
		}
		if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
			return fmt.Errorf("admin: tcp %s: only loopback addresses are allowed", s.cfg.TCP)
		}
		l := takeHanded("tcp", s.cfg.TCP) // a reload's
		if l == nil {
			if l, err = s.cfg.Sockets.Listen("tcp", s.cfg.TCP); err != nil {
				return fmt.Errorf("admin: tcp %s: %w", s.cfg.TCP, err)
			}
		}
		s.serve(ctx, l)
	}
	return nil
}

// Addrs returns the listening addresses.
func (s *Server) Addrs() []net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []net.Addr
	for _, l := range s.listeners {
		out = append(out, l.Addr())
	}
	return out
}

func (s *Server) serve(ctx context.Context, l net.Listener) {
	s.mu.Lock()
	s.listeners = append(s.listeners, l)
	s.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				s.handle(ctx, c)
			}()
		}
	}()
}

// Close stops listening, waits for sessions and removes the unix socket.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	ls := s.listeners
	s.mu.Unlock()
	for _, l := range ls {
		l.Close()
	}
	s.wg.Wait()
	return nil
}

// handle serves one connection: HAProxy's non-interactive mode reads one
// line (commands separated by ';'), answers and closes; after "prompt" the
// session stays open line by line until "quit".
func (s *Server) handle(ctx context.Context, c net.Conn) {
	defer c.Close()
	r := bufio.NewReaderSize(c, 4096)
	interactive, experimental := false, false
	idle := s.cfg.Idle
	if idle <= 0 {
		idle = DefaultIdle
	}
	for {
		_ = c.SetReadDeadline(time.Now().Add(idle))
		line, err := readLine(r)
		if err != nil && line == "" {
			return
		}
		line, payload, hasPayload := readPayload(r, line)
		var out strings.Builder
		quit := false
		cmds := SplitLine(line)
		for i, cmd := range cmds {
			if isGetSocks(cmd) {
				s.getSocks(c)
				return
			}
			if hasPayload && i == len(cmds)-1 {
				out.WriteString(s.ExecPayload(cmd, payload, s.cfg.Level))
				continue
			}
			switch strings.TrimSpace(cmd) {
			case "prompt":
				interactive = !interactive
				continue
			case "quit":
				quit = true
				continue
			}
			if on, ok := modeCommand(cmd); ok {
				out.WriteString(s.setExperimental(&experimental, on))
				continue
			}
			out.WriteString(s.exec(cmd, s.cfg.Level, experimental))
		}
		if interactive && !quit {
			out.WriteString("> ")
		}
		_ = c.SetWriteDeadline(time.Now().Add(10 * time.Second))
		if _, err := io.WriteString(c, out.String()); err != nil || !interactive || quit || ctx.Err() != nil {
			return
		}
	}
}

func readLine(r *bufio.Reader) (string, error) {
	var b strings.Builder
	for b.Len() < maxLine {
		chunk, isPrefix, err := r.ReadLine()
		b.Write(chunk)
		if err != nil {
			return b.String(), err
		}
		if !isPrefix {
			return b.String(), nil
		}
	}
	return b.String(), errors.New("line too long")
}

// Exec runs one command at the given level and returns its output, which
// always ends with an empty line as HAProxy's CLI does.
func (s *Server) Exec(line string, lvl Level) string {
	return s.exec(line, lvl, false)
}

// exec is Exec in a session whose experimental mode may be on (set var).
func (s *Server) exec(line string, lvl Level, experimental bool) string {
	cmd, err := Parse(line)
	if errors.Is(err, ErrUnknown) {
		return "Unknown command: '" + strings.TrimSpace(line) + "'\n\n" + helpFor(lvl) + "\n"
	}
	if err != nil {
		return err.Error() + "\n\n"
	}
	if cmd.Level() > lvl {
		return "Permission denied\n\n"
	}
	if cmd.Op == OpSetVar && !experimental {
		return "This command is restricted to experimental mode only.\n\n"
	}
	out := s.run(cmd, lvl)
	if !strings.HasSuffix(out, "\n\n") {
		if out != "" && !strings.HasSuffix(out, "\n") {
			out += "\n"
		}
		out += "\n"
	}
	return out
}

func helpFor(lvl Level) string {
	if lvl == LevelAdmin {
		return Help
	}
	var b strings.Builder
	for _, l := range strings.SplitAfter(Help, "\n") {
		if strings.Contains(l, "disable ") || strings.Contains(l, "enable ") || strings.Contains(l, "set ") || strings.Contains(l, "shutdown ") || strings.Contains(l, " server <bk>") {
			continue
		}
		b.WriteString(l)
	}
	return b.String()
}

// find returns the backend's servers and the named one.
func (s *Server) find(snap stats.Snapshot, backend, server string) (*core.Server, string) {
	for _, p := range snap.Proxies {
		if p.Name != backend || p.Backend == nil {
			continue
		}
		for _, sv := range p.Servers {
			if sv.Name == server {
				return sv, ""
			}
		}
		return nil, "No such server.\n"
	}
	return nil, "No such backend.\n"
}

func (s *Server) run(cmd Command, lvl Level) string {
	if out, ok := s.runSSL(cmd); ok {
		return out
	}
	if out, ok := s.runSetAddr(cmd); ok {
		return out
	}
	if out, ok := s.runResolvers(cmd); ok {
		return out
	}
	if out, ok := s.runPeers(cmd); ok {
		return out
	}
	if out, ok := s.runShowCache(cmd); ok { // cache.go
		return out
	}
	if out, ok := s.runDynServer(cmd); ok {
		return out
	}
	if out, ok := s.runReload(cmd); ok {
		return out
	}
	if out, ok := s.runMaps(cmd); ok { // maps.go
		return out
	}
	snap := s.rt.Source.Snapshot()
	var checks stats.Checks
	if s.rt.Health != nil {
		checks = s.rt.Health
	}
	switch cmd.Op {
	case OpGetSocks:
		return "_getsocks is served only on a unix stats socket with expose-fd listeners.\n"
	case OpHelp:
		return helpFor(lvl)
	case OpShowInfo:
		return showInfo(snap)
	case OpShowStat:
		rows := filterRows(stats.Rows(snap, checks, time.Now()), cmd)
		var b strings.Builder
		if cmd.JSON {
			_ = stats.WriteJSON(&b, rows)
		} else {
			_ = stats.WriteCSV(&b, rows)
		}
		return b.String()
	case OpShowServersState:
		return showServersState(snap, s.rt.Health, cmd.Proxy)
	case OpShowPolicies:
		return showPolicies(s.rt.Policies)
	case OpShowTable, OpClearTable, OpSetTable:
		return s.table(cmd, lvl) // table.go
	case OpShowPolicyVar, OpSetPolicyVar, OpDelPolicyVar:
		return s.policyVar(cmd)
	case OpGetVar:
		return getVar(cmd.Key)
	case OpSetVar:
		return s.setVar(cmd)
	}
	sv, msg := s.find(snap, cmd.Backend, cmd.Server)
	if sv == nil {
		return msg
	}
	switch cmd.Op {
	case OpSetAdmin:
		a := map[string]core.AdminState{"ready": core.AdminReady, "drain": core.AdminDrain, "maint": core.AdminMaint}[cmd.State]
		s.setAdmin(sv, a)
		s.state.SetAdmin(sv, a)
	case OpSetWeight:
		w := int(cmd.N)
		if cmd.Percent {
			w = sv.ConfigWeight * int(cmd.N) / 100
		}
		if s.rt.Health != nil {
			s.rt.Health.SetWeight(sv, w)
		} else {
			sv.SetWeight(w)
		}
		s.state.SetWeight(sv, w)
	case OpSetMaxConn:
		sv.SetMaxConn(cmd.N)
		s.state.SetMaxConn(sv, cmd.N)
	case OpShutdownSess:
		if s.rt.Shutdown == nil {
			return "shutdown sessions is not available in this mode.\n"
		}
		n := s.rt.Shutdown(sv)
		s.log.Info("admin: shutdown sessions", "backend", sv.Backend, "server", sv.Name, "sessions", n)
		return ""
	}
	s.log.Info("admin: "+opName(cmd), "backend", sv.Backend, "server", sv.Name)
	if err := s.state.Save(); err != nil {
		s.log.Warn("admin: saving state", "err", err)
	}
	return ""
}

func (s *Server) setAdmin(sv *core.Server, a core.AdminState) {
	if s.rt.Health != nil {
		s.rt.Health.SetAdmin(sv, a)
		return
	}
	sv.SetAdmin(a)
}

func opName(c Command) string {
	switch c.Op {
	case OpSetAdmin:
		return "set state " + c.State
	case OpSetWeight:
		return fmt.Sprintf("set weight %d", c.N)
	case OpSetMaxConn:
		return fmt.Sprintf("set maxconn %d", c.N)
	}
	return "command"
}

func filterRows(rows []stats.Row, c Command) []stats.Row {
	if c.Proxy == "" {
		return rows
	}
	var out []stats.Row
	for _, r := range rows {
		if r.Proxy != c.Proxy && r.Get("iid").String() != c.Proxy {
			continue
		}
		if c.TypeMask >= 0 && c.TypeMask&(1<<r.Type) == 0 {
			continue
		}
		if c.SID >= 0 && r.Type == stats.TypeServer && int(r.Get("sid").N) != c.SID {
			continue
		}
		out = append(out, r)
	}
	return out
}

// HAProxy's check status enum, for `show servers state` (include/haproxy/
// check-t.h: 14 is the L57DATA marker, so L7OK is 15).
var checkStatusNum = map[string]int{"UNK": 0, "INI": 1, "HANA": 4, "SOCKERR": 5, "L4OK": 6, "L4TOUT": 7, "L4CON": 8, "L6OK": 9, "L6TOUT": 10,
	"L6RSP": 11, "L7TOUT": 12, "L7RSP": 13, "L7OK": 15, "L7OKC": 16, "L7STS": 17}

// showServersState prints HAProxy's server-state format (version 1).
func showServersState(snap stats.Snapshot, h *health.Manager, only string) string {
	var b strings.Builder
	b.WriteString("1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port\n")
	for _, p := range snap.Proxies {
		if p.Backend == nil || (only != "" && only != p.Name) {
			continue
		}
		for _, s := range p.Servers {
			op := 2 // SRV_ST_RUNNING
			if !s.IsUp() || s.Admin() == core.AdminMaint {
				op = 0 // SRV_ST_STOPPED: HAProxy stops a server in maintenance
			}
			adm := 0
			switch s.OperatorAdmin() {
			case core.AdminMaint:
				adm = 0x01 // SRV_ADMF_FMAINT
			case core.AdminDrain:
				adm = 0x08 // SRV_ADMF_FDRAIN
			}
			if s.ConfigDisabled {
				adm |= 0x04 // SRV_ADMF_CMAINT: `disabled` in the configuration
			}
			if s.ResolveMaint() {
				adm |= 0x20 // SRV_ADMF_RMAINT
			}
			if s.FQDNSetAtRuntime() {
				adm |= 0x40 // SRV_ADMF_HMAINT: the fqdn was set on the socket
			}
			addr, fqdn := "-", "-" // HAProxy's dump_server_addr for no address
			if a := s.Address().Addr(); a.IsValid() {
				addr = a.String()
			}
			if h := s.FQDN(); h != "" {
				fqdn = h
			}
			uw := s.Weight()
			chkStatus, chkResult, chkHealth, chkState := 0, 0, 0, 0
			if h != nil {
				if i, ok := h.Info(s); ok {
					uw = i.UserWeight
					if i.Enabled {
						chkStatus = checkStatusNum[i.Status]
						chkResult = 2 // CHK_RES_FAILED
						if s.IsUp() {
							chkResult = 3 // CHK_RES_PASSED
						}
						if i.Status == "INI" {
							chkResult = 0
						}
						chkHealth = i.Health
						chkState = 6 // CHK_ST_CONFIGURED|CHK_ST_ENABLED
					}
				}
			}
			since := int64(time.Since(time.Unix(0, s.LastChange.Load())) / time.Second)
			fmt.Fprintf(&b, "%d %s %d %s %s %d %d %d %d %d %d %d %d %d 0 0 0 %s %d - 0 0 - - 0\n",
				p.ID, p.Name, s.ID, s.Name, addr, op, adm, uw, s.ConfigWeight, since,
				chkStatus, chkResult, chkHealth, chkState, fqdn, s.Address().Port())
		}
	}
	return b.String()
}
