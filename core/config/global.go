package config

import (
	"strconv"
	"strings"
)

// globalLine handles one line of the global section.
func (p *parser) globalLine(l Line) {
	w := l.Words
	key, ok := p.checkKeyword(l, w, SecGlobal, "global")
	if !ok {
		return
	}
	g := &p.cfg.Global
	args := w[1:]
	kwPos := w[0].Pos
	one := func() (Token, bool) {
		if len(args) != 1 {
			p.d.Errorf(kwPos, key, key+" VALUE", "%s expects exactly one argument, got %d", key, len(args))
			return Token{}, false
		}
		return args[0], true
	}
	intArg := func(min, max int64) (int, bool) {
		t, ok := one()
		if !ok {
			return 0, false
		}
		n, err := ParseInt(t.Text, min, max)
		if err != nil {
			p.d.Errorf(t.Pos, key, "write a whole number", "%v", err)
			return 0, false
		}
		return int(n), true
	}
	switch key {
	case "lua-load", "lua-load-per-thread":
		if len(args) < 1 {
			p.d.Errorf(kwPos, key, key+" FILE [ARG...]", "%s needs a file", key)
			return
		}
		g.LuaLoad = append(g.LuaLoad, &LuaLoad{Pos: args[0].Pos, File: args[0].Text, Args: Texts(args[1:]), PerThread: key == "lua-load-per-thread"})
	case "lua-prepend-path":
		if len(args) < 1 || len(args) > 2 {
			p.d.Errorf(kwPos, key, "lua-prepend-path PATH [path|cpath]", "%s expects a path and an optional type", key)
			return
		}
		lp := &LuaPath{Pos: args[0].Pos, Path: args[0].Text, Kind: "path"}
		if len(args) == 2 {
			lp.Kind = args[1].Text
		}
		if lp.Kind == "cpath" {
			// Native modules cannot load into gopher-lua: a script that
			// needs one would fail at require, so refuse it here.
			p.d.Errorf(args[1].Pos, key, "varde runs Lua in Go; native (C) modules cannot be loaded", "lua-prepend-path %s cpath is not supported", lp.Path)
			return
		}
		if lp.Kind != "path" {
			p.d.Errorf(args[1].Pos, key, "path or cpath", "unknown lua-prepend-path type %q", lp.Kind)
			return
		}
		g.LuaPaths = append(g.LuaPaths, lp)
	case "maxconn":
		if n, ok := intArg(1, 1<<30); ok {
			g.MaxConn = n
		}
	case "log":
		if lg := p.parseLog(l, true); lg != nil {
			g.Logs = append(g.Logs, lg)
		}
	case "pidfile":
		if t, ok := one(); ok {
			g.PidFile = t.Text
		}
	case "nbthread":
		// HAProxy 2.6's limit (MAX_THREADS); varde runs one event loop each.
		if n, ok := intArg(1, 64); ok {
			g.NbThread = n
		}
	case "set-var", "set-var-fmt":
		p.parseGlobalSetVar(key, kwPos, args) // vars.go
	case "hard-stop-after":
		if t, ok := one(); ok {
			g.HardStopAfter = p.duration(t, key)
		}
	case "spread-checks":
		if n, ok := intArg(0, 50); ok {
			g.SpreadChecks = n
		}
	case "stats socket":
		p.parseStatsSocket(l)
	case "stats bind-process":
		p.d.Warnf(kwPos, key, "remove the line", "accepted: has no effect, as in HAProxy 2.6 (deprecated there); varde is one process")
	case "stats timeout":
		args = args[1:]
		if t, ok := one(); ok {
			g.StatsTimeout = p.duration(t, key)
		}
	case "tune.bufsize":
		if t, ok := one(); ok {
			if n := p.size(t, key); n > 0 && n < 1024 {
				p.d.Errorf(t.Pos, key, "use at least 1024 (HAProxy's default is 16384)", "tune.bufsize %d is too small", n)
			} else {
				g.TuneBufSize = n
			}
		}
	case "maxcomprate":
		// HAProxy: atoi(kB/s) * 1024; varde refuses what atoi would misread.
		if n, ok := intArg(0, 1<<21); ok {
			g.MaxCompRate = n
		}
	case "maxcompcpuusage":
		// HAProxy: compress_min_idle = 100 - atoi(N), 0 to 100 accepted.
		if n, ok := intArg(0, 100); ok {
			g.CompMinIdle = 100 - n
		}
	case "tune.comp.maxlevel":
		if n, ok := intArg(1, 9); ok {
			g.TuneCompMaxLevel = n
		}
	case "tune.maxrewrite":
		if t, ok := one(); ok {
			g.TuneMaxRewrite = p.size(t, key)
		}
	case "tune.log.batch":
		if n, ok := intArg(1, 1<<20); ok {
			g.TuneLog.Batch = n
		}
	case "tune.log.flush":
		if t, ok := one(); ok {
			g.TuneLog.Flush = p.duration(t, key)
		}
	case "tune.log.on-full":
		if t, ok := one(); ok {
			if t.Text != "drop" && t.Text != "block" {
				p.d.Errorf(t.Pos, key, "drop or block", "invalid value %q", t.Text)
			} else {
				g.TuneLog.OnFull = t.Text
			}
		}
	case "tune.vars.global-max-size", "tune.vars.proc-max-size", "tune.vars.reqres-max-size", "tune.vars.sess-max-size", "tune.vars.txn-max-size":
		if t, ok := one(); ok {
			if g.TuneVars == nil {
				g.TuneVars = &TuneVars{}
			}
			g.TuneVars.set(key, p.size(t, key))
		}
	case "tune.ssl.default-dh-param":
		if n, ok := intArg(1, 1<<16); ok {
			g.TuneSSLDefaultDHParam = n
		}
	case "ssl-default-bind-ciphers":
		if t, ok := one(); ok && p.checkCiphers(t, key) {
			g.SSLDefaultBindCiphers = t.Text
		}
	case "ssl-default-bind-ciphersuites":
		if t, ok := one(); ok && p.checkCipherSuites(t, key) {
			g.SSLDefaultBindCiphersuites = t.Text
		}
	case "ssl-default-server-ciphersuites":
		// Go's TLS client always offers its fixed TLS 1.3 set: the line is
		// accepted when it names exactly that set, and then changes nothing.
		if t, ok := one(); ok {
			p.checkCipherSuites(t, key)
		}
	case "ssl-default-server-ciphers":
		if t, ok := one(); ok {
			g.SSLDefaultServerCiphers = t.Text
		}
	case "ssl-default-bind-options":
		if p.checkDefaultBindOptions(args, key) {
			g.SSLDefaultBindOptions = append(g.SSLDefaultBindOptions, Texts(args)...)
		}
	case "ca-base":
		if t, ok := one(); ok {
			g.CABase = t.Text
		}
	case "crt-base":
		if t, ok := one(); ok {
			g.CRTBase = t.Text
		}
	case "ssl-default-server-options":
		p.serverDefaultTLSOptions(args)
		g.SSLDefaultServerOptions = append(g.SSLDefaultServerOptions, Texts(args)...)
	case "ssl-server-verify":
		if t, ok := one(); ok {
			if t.Text != "none" && t.Text != "required" {
				p.d.Errorf(t.Pos, key, "none or required", "invalid ssl-server-verify %q", t.Text)
			} else {
				g.SSLServerVerify = t.Text
			}
		}
	case "log-send-hostname":
		if len(args) > 0 {
			g.LogSendHostname = args[0].Text
		} else {
			g.LogSendHostname = "-" // the system's host name
		}
	case "log-tag":
		if t, ok := one(); ok {
			g.LogTag = t.Text
		}
	case "daemon":
		g.Daemon = true
		p.d.Warnf(kwPos, key, "remove the line; run varde from a systemd service (Type=notify, examples/systemd/varde.service) to keep it in the background", "accepted but ignored: varde always runs in the foreground and leaves daemonising to systemd")
	case "user", "group", "uid", "gid":
		p.globalIdentity(g, key, kwPos, args)
	case "chroot":
		if t, ok := one(); ok {
			g.Chroot = t.Text
			p.d.Warnf(kwPos, key, "under systemd the packaged unit's sandbox (ProtectSystem=strict, PrivateTmp=yes, ReadWritePaths=) applies instead; remove the line", "accepted but ignored: varde does not chroot, so it still sees the whole file system (HAProxy would see only %s after start, and reloads read files from the real paths)", t.Text)
		}
	case "nbproc":
		// HAProxy 2.6 refuses every nbproc line, even `nbproc 1`: a
		// configuration with one is not a 2.6 configuration.
		p.d.Errorf(kwPos, key, "remove the line; use nbthread N to bound the threads", "nbproc is not supported any more since HAProxy 2.5. Threads will automatically be used on multi-processor machines if available.")
	case "ulimit-n":
		if n, ok := intArg(1, 1<<30); ok {
			g.Ulimit = n
			p.d.Warnf(kwPos, key, "set LimitNOFILE= in the systemd unit", "accepted but ignored: varde does not change its file descriptor limit")
		}
	case "expose-experimental-directives":
		g.Experimental = true // allows normalize-uri (rewrite.go)
	case "nosplice":
		g.NoSplice = true
	case "quiet":
		g.Quiet = true
		p.d.Warnf(kwPos, key, "remove the line", "accepted but ignored: varde logs its own events to stderr at the configured level")
	case "debug":
		g.Debug = true
		p.d.Warnf(kwPos, key, "remove the line; run varde with a debug log level instead", "accepted but ignored")
	default:
		p.miscGlobalLine(key, args, kwPos) // misc.go
	}
}

// parseStatsSocket reads `stats socket PATH|ADDR [mode M] [level L] [user U] [group G] [expose-fd listeners]`.
func (p *parser) parseStatsSocket(l Line) {
	w := l.Words
	const key = "stats socket"
	if len(w) < 3 {
		p.d.Errorf(w[1].Pos, key, "stats socket /run/varde/admin.sock mode 600 level admin", "stats socket needs a path or address")
		return
	}
	s := &StatsSocket{Pos: l.Pos}
	target := w[2].Text
	switch {
	case strings.HasPrefix(target, "/") || strings.HasPrefix(target, "unix@"):
		s.Path = strings.TrimPrefix(target, "unix@")
	case strings.HasPrefix(target, "abns@") || strings.HasPrefix(target, "fd@") || strings.HasPrefix(target, "sockpair@"):
		p.d.Errorf(w[2].Pos, key, "use a unix socket path or a loopback ip:port", "socket type %q is not supported by varde", target)
		return
	default:
		a, err := ParseAddress(target, true)
		if err != nil {
			p.d.Errorf(w[2].Pos, key, "use a unix socket path or ip:port", "%v", err)
			return
		}
		s.Addr = &a
	}
	args := w[3:]
	for i := 0; i < len(args); i++ {
		opt := args[i]
		need := func() (Token, bool) {
			if i+1 >= len(args) {
				p.d.Errorf(opt.Pos, key, opt.Text+" VALUE", "%s needs a value", opt.Text)
				return Token{}, false
			}
			i++
			return args[i], true
		}
		switch opt.Text {
		case "mode":
			if v, ok := need(); ok {
				m, err := strconv.ParseUint(v.Text, 8, 32)
				if err != nil || m > 0o777 {
					p.d.Errorf(v.Pos, key, "an octal file mode such as 600", "invalid socket mode %q", v.Text)
				} else {
					s.Mode = uint32(m)
				}
			}
		case "level":
			if v, ok := need(); ok {
				switch v.Text {
				case "user", "operator", "admin":
					s.Level = v.Text
				default:
					p.d.Errorf(v.Pos, key, "user, operator or admin", "invalid level %q", v.Text)
				}
			}
		case "user":
			if v, ok := need(); ok {
				s.User = v.Text
			}
		case "group":
			if v, ok := need(); ok {
				s.Group = v.Text
			}
		case "uid", "gid":
			need()
		case "process":
			if _, ok := need(); ok {
				p.d.Warnf(opt.Pos, key, "remove `process ...`", "accepted: 'process' on bind lines is deprecated in HAProxy 2.6 and has no effect in varde (one process)")
			}
		case "expose-fd":
			if v, ok := need(); ok {
				if v.Text != "listeners" {
					p.d.Errorf(v.Pos, key, "expose-fd listeners", "'expose-fd' only supports 'listeners', not %q", v.Text)
				}
				s.ExposeFdListeners = v.Text == "listeners"
			}
		default:
			p.d.Errorf(opt.Pos, key, hintNearest(opt.Text, []string{"mode", "level", "user", "group", "expose-fd"}, "mode M, level L, user U, group G"), "unknown stats socket option %q", opt.Text)
		}
	}
	p.cfg.Global.StatsSockets = append(p.cfg.Global.StatsSockets, s)
}
