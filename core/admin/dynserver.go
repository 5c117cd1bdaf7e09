package admin

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/core/config"
	"github.com/varde-lb/varde/core/proxy"
)

// HAProxy 2.6's dynamic servers: `add server B/S ADDR[:PORT] [keywords]`
// and `del server B/S`. parseDynServer only splits the words; runDynServer
// checks in HAProxy's order (backend, algorithm, address and keywords,
// duplicate name) and answers with HAProxy's texts. The engine side is
// core/proxy/dynserver.go.

// parseDynServer reads `add server B/S [ADDR [keywords]]` and `del server
// B/S`. A missing address is reported after the backend lookup, as HAProxy
// does.
func parseDynServer(w []string) (Command, error) {
	if w[0] == "add" {
		if len(w) < 3 {
			return Command{}, errors.New("Require 'backend/server'.")
		}
		b, s, err := splitBS(w[2])
		if err != nil {
			return Command{}, err
		}
		c := Command{Op: OpAddServer, Backend: b, Server: s}
		if len(w) > 3 {
			c.Value, c.Args = w[3], w[4:]
		}
		return c, nil
	}
	if len(w) != 3 {
		return Command{}, errors.New("Require 'backend/server'.")
	}
	b, s, err := splitBS(w[2])
	if err != nil {
		return Command{}, err
	}
	return Command{Op: OpDelServer, Backend: b, Server: s}, nil
}

// Without an engine (a socket built for tests), nothing can change.
const (
	refuseAdd = "varde cannot add a server here: this admin socket is not attached to a running engine.\n"
	refuseDel = "varde cannot delete a server here: this admin socket is not attached to a running engine.\n"
)

// runDynServer answers add/del server; ok is false for any other command.
func (s *Server) runDynServer(cmd Command) (out string, ok bool) {
	switch cmd.Op {
	case OpAddServer:
		return s.addServer(cmd), true
	case OpDelServer:
		return s.delServer(cmd), true
	case OpSetHealth:
		return s.setHealth(cmd), true
	}
	return "", false
}

func (s *Server) addServer(cmd Command) string {
	sv, msg := s.find(s.rt.Source.Snapshot(), cmd.Backend, cmd.Server)
	if msg == "No such backend.\n" {
		return msg
	}
	if s.rt.Engine == nil {
		return refuseAdd
	}
	b := s.rt.Engine.Backend(cmd.Backend)
	if b == nil {
		return "No such backend.\n"
	}
	if !b.AcceptsDynamicServers() {
		return proxy.ErrDynamicAlgo.Error() + "\n"
	}
	d, err := parseAddServer(cmd)
	if err != nil {
		return err.Error() + "\n"
	}
	if d.check.Check && s.rt.AddChecks == nil {
		return "varde cannot check a server added on this socket: it is not attached to the health checks.\n"
	}
	if sv != nil {
		return proxy.ErrServerExists.Error() + "\n"
	}
	cs, err := b.AddServer(d.DynServer)
	if err != nil {
		if errors.Is(err, proxy.ErrServerIDInUse) {
			return fmt.Sprintf("'id' : custom id %d already used.\n", d.ID)
		}
		return err.Error() + "\n"
	}
	if d.check.Check {
		if err := s.rt.AddChecks(cs, &d.check); err != nil {
			_, _ = b.DelServer(cs.Name) // still in maintenance and unused
			return err.Error() + "\n"
		}
	}
	s.log.Info("New server registered.", "backend", cmd.Backend, "server", cmd.Server, "addr", d.Addr.String())
	return "New server registered.\n"
}

func (s *Server) delServer(cmd Command) string {
	sv, msg := s.find(s.rt.Source.Snapshot(), cmd.Backend, cmd.Server)
	if sv == nil {
		return msg
	}
	if s.rt.Engine == nil || s.rt.Engine.Backend(cmd.Backend) == nil {
		return refuseDel
	}
	gone, err := s.rt.Engine.Backend(cmd.Backend).DelServer(cmd.Server)
	if err != nil {
		return err.Error() + "\n"
	}
	if s.rt.Health != nil {
		s.rt.Health.Remove(gone) // a configured server's checks end with it
	}
	// Its runtime changes go with it: a configured server deleted and
	// back after a reload starts as its line says, as in HAProxy.
	s.state.Forget(gone)
	if err := s.state.Save(); err != nil {
		s.log.Warn("admin: state file", "err", err)
	}
	s.log.Info("Server deleted.", "backend", cmd.Backend, "server", cmd.Server)
	return "Server deleted.\n"
}

// dynServer is an `add server` line: the engine's part and the check
// settings, as a server line's.
type dynServer struct {
	proxy.DynServer
	check config.Server
}

// parseAddServer reads the name, address and keywords of `add server`.
func parseAddServer(cmd Command) (dynServer, error) {
	d := dynServer{DynServer: proxy.DynServer{Name: cmd.Server, Weight: 1}}
	d.check.Name = cmd.Server
	if cmd.Value == "" {
		return d, errors.New("'server' expects <name> and <addr>[:<port>] as arguments.")
	}
	if c, bad := firstInvalid(cmd.Server); bad {
		return d, fmt.Errorf("character '%c' is not permitted in server name '%s'.", c, cmd.Server)
	}
	ap, err := parseDynAddr(cmd.Value)
	if err != nil {
		return d, err
	}
	d.Addr = ap
	for i := 0; i < len(cmd.Args); i++ {
		n, err := applyDynKeyword(&d, cmd.Args, i)
		if err != nil {
			return d, err
		}
		i += n
	}
	return d, nil
}

// firstInvalid is HAProxy's invalid_char: names hold letters, digits and
// ". - _ :".
func firstInvalid(name string) (rune, bool) {
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune(".-_:", c)) {
			return c, true
		}
	}
	return 0, false
}

// parseDynAddr reads IP:PORT. HAProxy also takes a missing port (the
// client's destination port is used) and a host name (never resolved for a
// dynamic server in 2.6); varde refuses both rather than add a server that
// would not behave as its line says.
func parseDynAddr(v string) (netip.AddrPort, error) {
	host, port, err := splitHostPort(v)
	if err != nil {
		return netip.AddrPort{}, err
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("varde takes an IP address for a server added at runtime (got '%s'): a host name is resolved only when the configuration is loaded.", host)
	}
	if port == "" {
		return netip.AddrPort{}, fmt.Errorf("varde needs a port for a server added at runtime (got '%s'): port mapping from the client's destination is not built.", v)
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil || p == 0 {
		return netip.AddrPort{}, fmt.Errorf("invalid port '%s'", port)
	}
	return netip.AddrPortFrom(a.Unmap(), uint16(p)), nil
}

// splitHostPort splits "1.2.3.4:80", "[::1]:80", "1.2.3.4" or "::1".
func splitHostPort(v string) (host, port string, err error) {
	if strings.HasPrefix(v, "[") {
		end := strings.IndexByte(v, ']')
		if end < 0 {
			return "", "", fmt.Errorf("invalid address: '%s'", v)
		}
		host, rest := v[1:end], v[end+1:]
		if rest != "" && !strings.HasPrefix(rest, ":") {
			return "", "", fmt.Errorf("invalid address: '%s'", v)
		}
		return host, strings.TrimPrefix(rest, ":"), nil
	}
	if strings.Count(v, ":") > 1 {
		return v, "", nil // a bare IPv6 address
	}
	host, port, _ = strings.Cut(v, ":")
	return host, port, nil
}

// notDynamic are the keywords HAProxy 2.6 refuses on a dynamic server
// (dynamic_ok 0 in its srv_kw tables).
var notDynamic = map[string]bool{
	"cookie": true, "init-addr": true, "log-proto": true, "max-reuse": true, "namespace": true, "non-stick": true,
	"redir": true, "resolve-net": true, "resolve-opts": true, "resolve-prefer": true, "resolvers": true, "stick": true,
	"socks4": true, "tcp-ut": true, "no-agent-check": true, "no-check": true, "no-check-send-proxy": true,
	"no-check-ssl": true, "no-send-proxy-v2-ssl": true, "no-send-proxy-v2-ssl-cn": true, "no-ssl": true, "ssl-reuse": true,
}

// dynamicOK are the other keywords HAProxy 2.6 knows on a server line; it
// accepts them on a dynamic server, varde refuses those it does not build
// at runtime (see applyDynKeyword) rather than ignore them.
var dynamicOK = strings.Fields(`backup disabled error-limit ws id maxconn maxqueue minconn no-backup
	no-send-proxy no-send-proxy-v2 no-tfo observe on-error on-marked-down on-marked-up pool-low-conn pool-max-conn
	pool-purge-delay proto proxy-v2-options send-proxy send-proxy-v2 slowstart source tfo track usesrc weight
	agent-addr agent-check agent-inter agent-port agent-send check-proto check-send-proxy check-via-socks4
	allow-0rtt alpn ca-file check-alpn check-sni check-ssl ciphers
	ciphersuites crl-file crt force-sslv3 force-tlsv10 force-tlsv11 force-tlsv12 force-tlsv13 no-ssl-reuse
	no-sslv3 no-tlsv10 no-tlsv11 no-tlsv12 no-tlsv13 no-tls-tickets npn send-proxy-v2-ssl send-proxy-v2-ssl-cn
	sni ssl ssl-min-ver ssl-max-ver tls-tickets verify verifyhost`)

// applyDynKeyword applies args[i] (and its value) to d; it returns how many
// values it consumed.
func applyDynKeyword(d *dynServer, args []string, i int) (int, error) {
	kw := args[i]
	val := ""
	if i+1 < len(args) {
		val = args[i+1]
	}
	if n, ok, err := applyCheckKeyword(&d.check, kw, val); ok {
		return n, err
	}
	switch kw {
	case "weight":
		w, err := strconv.Atoi(val)
		if err != nil || w < 0 || w > 256 {
			return 1, fmt.Errorf("weight of server %s is not within 0 and 256 (%s)..", d.Name, val)
		}
		d.Weight = w
		return 1, nil
	case "maxconn", "maxqueue", "id":
		n, err := strconv.ParseInt(val, 10, 32)
		if err != nil || n < 0 || (kw == "id" && n == 0) {
			return 1, fmt.Errorf("'%s' expects a positive integer (got '%s').", kw, val)
		}
		switch kw {
		case "maxconn":
			d.MaxConn = n
		case "maxqueue":
			d.MaxQueue = n
		default:
			d.ID = int(n)
		}
		return 1, nil
	case "enabled":
		d.Enabled = true // HAProxy 2.6: the server is ready at once
	case "backup", "no-backup":
		d.Backup = kw == "backup"
	case "send-proxy":
		d.SendProxy = 1
	case "send-proxy-v2":
		d.SendProxy = 2
	case "no-send-proxy", "no-send-proxy-v2":
		d.SendProxy = 0
	default:
		return 0, refuseKeyword(kw)
	}
	return 0, nil
}

// refuseKeyword is HAProxy's answer for a keyword it refuses or does not
// know, or varde's for one HAProxy takes but varde does not build on a
// server added at runtime.
func refuseKeyword(kw string) error {
	if notDynamic[kw] {
		return fmt.Errorf("'%s' option is not accepted for dynamic server", kw)
	}
	for _, k := range dynamicOK {
		if k == kw {
			return fmt.Errorf("varde cannot use '%s' on a server added at runtime yet: put the server in the configuration and reload.", kw)
		}
	}
	return fmt.Errorf("unknown keyword '%s'.", kw)
}

// Forget drops the recorded changes of a deleted server.
func (st *StateStore) Forget(s *core.Server) {
	st.mu.Lock()
	defer st.mu.Unlock()
	delete(st.m, key(s))
}

// applyCheckKeyword reads the check keywords varde builds on an added
// server: check, inter, fastinter, downinter, rise, fall, port, addr.
func applyCheckKeyword(sc *config.Server, kw, val string) (n int, ok bool, err error) {
	switch kw {
	case "check":
		sc.Check = true
		return 0, true, nil
	case "inter", "fastinter", "downinter":
		d, err := config.ParseDuration(val)
		if err != nil || d <= 0 {
			return 1, true, fmt.Errorf("'%s' expects a positive delay in milliseconds (got '%s').", kw, val)
		}
		*map[string]*time.Duration{"inter": &sc.Inter, "fastinter": &sc.FastInter, "downinter": &sc.DownInter}[kw] = d
		return 1, true, nil
	case "rise", "fall":
		v, err := strconv.Atoi(val)
		if err != nil || v <= 0 {
			return 1, true, fmt.Errorf("'%s' has to be > 0.", kw)
		}
		*map[string]*int{"rise": &sc.Rise, "fall": &sc.Fall}[kw] = v
		return 1, true, nil
	case "port":
		v, err := strconv.ParseUint(val, 10, 16)
		if err != nil || v == 0 {
			return 1, true, fmt.Errorf("'port' expects a valid port number (got '%s').", val)
		}
		sc.Port = uint16(v)
		return 1, true, nil
	case "addr":
		a, err := netip.ParseAddr(val)
		if err != nil {
			return 1, true, fmt.Errorf("varde takes an IP address for 'addr' (got '%s').", val)
		}
		sc.Addr = a.String()
		return 1, true, nil
	}
	return 0, false, nil
}

// parseHealth reads `enable health B/S` and `disable health B/S`.
func parseHealth(w []string) (Command, error) {
	if len(w) != 3 {
		return Command{}, errors.New("Require 'backend/server'.")
	}
	b, s, err := splitBS(w[2])
	if err != nil {
		return Command{}, err
	}
	st := "off"
	if w[0] == "enable" {
		st = "on"
	}
	return Command{Op: OpSetHealth, Backend: b, Server: s, State: st}, nil
}

// setHealth answers enable|disable health as HAProxy 2.6.
func (s *Server) setHealth(cmd Command) string {
	sv, msg := s.find(s.rt.Source.Snapshot(), cmd.Backend, cmd.Server)
	if sv == nil {
		return msg
	}
	configured := s.rt.Health != nil && s.rt.Health.SetChecks(sv, cmd.State == "on")
	if !configured && cmd.State == "on" {
		return "Health check was not configured on this server, cannot enable.\n"
	}
	s.log.Info("admin: "+cmd.State+" health", "backend", sv.Backend, "server", sv.Name)
	return ""
}

// addChecks registers the checks of a server added at runtime with the
// backend's check settings (option httpchk, http-check, timeout check),
// paused until `enable health`.
func (a *Attached) addChecks(cs *core.Server, sc *config.Server) error {
	p := a.opts.Config.Backend(cs.Backend)
	b := a.opts.Engine.Backend(cs.Backend)
	if p == nil || b == nil {
		return fmt.Errorf("no backend %s", cs.Backend)
	}
	hc, err := checkConfig(a.opts.Config, p, sc)
	if err != nil {
		return err
	}
	hc.Probe.HTTP.KeepBody = b.HealthJudge() != nil
	return a.Health.AddPaused(cs, hc)
}
