// Package health owns active and passive health checking: scheduling (inter,
// fastinter, downinter, spread-checks jitter), the rise/fall counter, at most
// one probe in flight per server, passive observation (observe, error-limit,
// on-error), slowstart weight ramps, agent-check replies, and the resulting
// state transitions on core.Server, reported with HAProxy's status words.
//
// Probes are plugins (plugins/check/...): a probe only connects, talks and
// reports a core.CheckResult. Everything else lives here, once.
package health

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/netip"
	"time"

	"github.com/varde-lb/varde/core"
)

// Target is what a probe talks to.
type Target struct {
	Addr    netip.AddrPort // address after `addr`/`port` overrides
	Server  *core.Server   // read-only: for the Host header, SNI and logs
	Timeout time.Duration  // the whole probe must finish within it
	// TLS, when set, makes the probe speak TLS (check-ssl, or ssl on the
	// server): tcp.Dial completes the handshake before the probe talks.
	TLS *tls.Config
	// SendProxy, when not 0, is the PROXY protocol version a probe writes
	// right after connecting (send-proxy servers checked on their own
	// address, as HAProxy): "PROXY UNKNOWN" or a version 2 LOCAL header,
	// since a check relays no client.
	SendProxy uint8
	// SOCKS4 makes the probe connect through the server's `socks4` proxy
	// (core.Via): `check-via-socks4`, or a `tcp-check connect via-socks4`.
	SOCKS4 bool
}

// Probe runs one check. Implementations must honour ctx and t.Timeout and
// must be safe to call from one goroutine at a time (core guarantees at most
// one probe in flight per server, so a probe may keep per-server state).
type Probe interface {
	Check(ctx context.Context, t Target) core.CheckResult
}

// ProbeFunc adapts a function to Probe.
type ProbeFunc func(ctx context.Context, t Target) core.CheckResult

// Check calls f.
func (f ProbeFunc) Check(ctx context.Context, t Target) core.CheckResult { return f(ctx, t) }

// Expect is one `http-check expect [!] status|rstatus|string|rstring PATTERN`.
type Expect struct {
	Negate  bool
	Kind    string // status, rstatus, string, rstring
	Pattern string
	// Comment is the rule's `comment` (or the `http-check comment` before
	// it), appended to its failure text as HAProxy does.
	Comment string
}

// HTTPSpec is `option httpchk` plus `http-check send`/`http-check expect`.
type HTTPSpec struct {
	Method  string // default OPTIONS (HAProxy's default)
	URI     string // default /
	Version string // default HTTP/1.0
	Headers [][2]string
	Body    string
	Expect  []Expect // none = any 2xx or 3xx passes
	// KeepBody reads the response body (up to the probe's bound) and
	// hands its start to the health policy in CheckResult.Body.
	KeepBody bool
	// Connect is `http-check connect ...` (port, addr, send-proxy), nil
	// for the server's check address.
	Connect *TCPCheckRule
	// HeaderLF marks the Headers whose value is a log-format string
	// (http-check send hdr), evaluated at each check; nil: all literal.
	HeaderLF []bool
	// URIFmt and BodyFmt are http-check send's uri-lf and body-lf; they
	// replace URI and Body when set.
	URIFmt, BodyFmt string
	// Vars are the http-check set-var, set-var-fmt and unset-var lines,
	// run in order at each check before the request is built.
	Vars []CheckVar
}

// CheckVar is one http-check variable line.
type CheckVar struct {
	Name  string   // SCOPE.NAME: check., sess. or proc.
	Conds []string // set-var(NAME,COND...)
	Expr  string   // set-var
	Fmt   string   // set-var-fmt
	Unset bool     // unset-var
}

// ProbeSpec chooses and configures a probe plugin.
type ProbeSpec struct {
	Type string // registered probe name: tcp, http, ssl-hello, agent
	HTTP HTTPSpec
	// AgentSend is `agent-send STRING`, written before reading the reply.
	AgentSend string
	// TCP is the proxy's `tcp-check` rules (tcp-check probe).
	TCP []TCPCheckRule
	// OptionArgs are the words after the option selecting the probe
	// (`option smtpchk EHLO example.com`, `option pgsql-check user U`).
	OptionArgs []string
	// RuleTLS is the server's TLS client for `tcp-check connect ssl`
	// rules, nil when no rule asks for it.
	RuleTLS *tls.Config
}

// On-error actions (`on-error`).
const (
	OnErrorFastInter   = "fastinter"
	OnErrorFailCheck   = "fail-check"
	OnErrorSuddenDeath = "sudden-death"
	OnErrorMarkDown    = "mark-down"
)

// AgentConfig is `agent-check` with agent-port/agent-addr/agent-inter/agent-send.
type AgentConfig struct {
	Addr  netip.Addr // zero = the server's address
	Port  int
	Inter time.Duration // default: the check's inter
	Send  string
}

// Config is the health-check configuration of one server, with HAProxy's
// defaults filled in by Normalize.
type Config struct {
	Enabled   bool // `check`
	Inter     time.Duration
	FastInter time.Duration // used while a state change is in progress
	DownInter time.Duration // used while fully down
	Rise      int
	Fall      int
	Timeout   time.Duration // `timeout check`; 0 = Inter
	Addr      netip.Addr    // `addr`: check another address
	Port      int           // `port`: check another port
	Probe     ProbeSpec
	Spread    int // `spread-checks` percent, 0..50

	Slowstart time.Duration

	Observe    string // "", "layer4", "layer7"
	ErrorLimit int    // default 10
	OnError    string // default fail-check

	Agent *AgentConfig

	TLS *tls.Config // checks over TLS (check-ssl); nil: cleartext

	// DisableOn404 is `http-check disable-on-404` with an HTTP probe: a
	// 404 from a server that is up is L7OKC and puts it in NOLB.
	DisableOn404 bool
}

// Normalize fills HAProxy's defaults: inter 2s, rise 2, fall 3, fastinter and
// downinter default to inter, error-limit 10, on-error fail-check, tcp probe.
func (c *Config) Normalize() {
	if c.Inter <= 0 {
		c.Inter = 2 * time.Second
	}
	if c.FastInter <= 0 {
		c.FastInter = c.Inter
	}
	if c.DownInter <= 0 {
		c.DownInter = c.Inter
	}
	if c.Rise <= 0 {
		c.Rise = 2
	}
	if c.Fall <= 0 {
		c.Fall = 3
	}
	if c.Timeout <= 0 {
		c.Timeout = c.Inter
	}
	if c.Probe.Type == "" {
		c.Probe.Type = "tcp"
	}
	if c.Spread < 0 {
		c.Spread = 0
	}
	if c.Spread > 50 {
		c.Spread = 50
	}
	if c.ErrorLimit <= 0 {
		c.ErrorLimit = 10
	}
	if c.OnError == "" {
		c.OnError = OnErrorFailCheck
	}
	if c.Agent != nil && c.Agent.Inter <= 0 {
		c.Agent.Inter = c.Inter
	}
}

// Validate reports settings the checker cannot honour.
func (c *Config) Validate() error {
	switch c.Observe {
	case "", "layer4", "layer7":
	default:
		return fmt.Errorf("health: observe %q: want layer4 or layer7", c.Observe)
	}
	switch c.OnError {
	case OnErrorFastInter, OnErrorFailCheck, OnErrorSuddenDeath, OnErrorMarkDown:
	default:
		return fmt.Errorf("health: on-error %q: want fastinter, fail-check, sudden-death or mark-down", c.OnError)
	}
	if c.Agent != nil && c.Agent.Port <= 0 {
		return fmt.Errorf("health: agent-check needs agent-port")
	}
	return nil
}

// Description is HAProxy's long text for a status word, as the stats CSV's
// check_desc column prints it.
func Description(status string) string {
	switch status {
	case "UNK":
		return "Unknown"
	case "INI":
		return "Initializing"
	case "SOCKERR":
		return "Socket error"
	case "L4OK":
		return "Layer4 check passed"
	case "L4TOUT":
		return "Layer4 timeout"
	case "L4CON":
		return "Layer4 connection problem"
	case "L6OK":
		return "Layer6 check passed"
	case "L6TOUT":
		return "Layer6 timeout"
	case "L6RSP":
		return "Layer6 invalid response"
	case "L7OK":
		return "Layer7 check passed"
	case "L7OKC":
		return "Layer7 check conditionally passed"
	case "L7TOUT":
		return "Layer7 timeout"
	case "L7RSP":
		return "Layer7 invalid response"
	case "L7STS":
		return "Layer7 wrong status"
	case "PROCERR":
		return "External check error"
	}
	return ""
}
