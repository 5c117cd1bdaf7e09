package health

import (
	"crypto/tls"
	"net/netip"
	"strings"
)

// TCPCheckRule is one `tcp-check` rule as HAProxy 2.6 reads it (connect,
// send, expect or comment); the protocol checks (`option redis-check`,
// `option smtpchk`, ...) are built from the same rules by their plugin.
// core/config parses and validates the lines; plugins/check/tcpcheck runs
// them.
type TCPCheckRule struct {
	Action string `json:"action"` // connect, send, expect, comment
	// Index is HAProxy's rule index within the proxy's tcp-check lines
	// (comments count); the step number in status texts is Index+1.
	Index   int    `json:"index"`
	Comment string `json:"comment,omitempty"`

	// connect
	Port      int    `json:"port,omitempty"`
	Addr      string `json:"addr,omitempty"`
	SendProxy bool   `json:"send_proxy,omitempty"`
	Default   bool   `json:"default,omitempty"` // the server's check settings (port, addr, check-ssl, send-proxy)
	Linger    bool   `json:"linger,omitempty"`
	// ViaSOCKS4 goes through the server's `socks4` proxy (a rule without
	// it connects directly; `default` follows check-via-socks4).
	ViaSOCKS4 bool `json:"via_socks4,omitempty"`
	// SSL speaks TLS with the server's TLS settings (verify, ca-file,
	// crt, ...), SNI and ALPN from the rule only (ProbeSpec.RuleTLS).
	SSL  bool   `json:"ssl,omitempty"`
	SNI  string `json:"sni,omitempty"`
	ALPN string `json:"alpn,omitempty"`

	// send: the bytes to write (send-binary already decoded); DataLF:
	// Data is send-lf's log-format string, rendered at each check.
	Data   string `json:"data,omitempty"`
	DataLF bool   `json:"data_lf,omitempty"`

	// set-var, set-var-fmt, unset-var (Action "set-var" or "unset-var").
	Var *CheckVar `json:"var,omitempty"`

	// expect
	Negate  bool   `json:"negate,omitempty"`
	Match   string `json:"match,omitempty"`   // string, rstring, binary, rbinary
	Pattern string `json:"pattern,omitempty"` // as written; binary forms are hex
	// MinRecv is `min-recv`: -1 when unset (wait for a match until the
	// buffer is full or the connection ends), as HAProxy.
	MinRecv     int    `json:"min_recv"`
	OKStatus    string `json:"ok_status,omitempty"`
	ErrorStatus string `json:"error_status,omitempty"`
	ToutStatus  string `json:"tout_status,omitempty"`
	// OnSuccess and OnError replace the status text; only literal texts
	// (no log-format %) are accepted by the parser.
	OnSuccess string `json:"on_success,omitempty"`
	OnError   string `json:"on_error,omitempty"`
}

// CheckStatuses are the status words tcp-check expect's ok-status,
// error-status and tout-status accept (HAProxy 2.6).
var CheckStatuses = map[string]bool{
	"L7OK": true, "L7OKC": true, "L7TOUT": true, "L7RSP": true, "L7STS": true,
	"L6OK": true, "L6TOUT": true, "L6RSP": true, "L4OK": true, "L4TOUT": true, "L4CON": true,
}

// ConnectTarget is where a connect rule goes: its own port and address,
// else the server's check ones; without `default`, no TLS and no PROXY
// header unless the rule asks (HAProxy: only the default connect takes
// the server's check-ssl and send-proxy).
//
// ruleTLS is the server's TLS client for `ssl` rules (ProbeSpec.RuleTLS).
func (r *TCPCheckRule) ConnectTarget(t Target, ruleTLS *tls.Config) Target {
	if !r.Default {
		t.TLS, t.SendProxy, t.SOCKS4 = nil, 0, false
		if r.SendProxy {
			t.SendProxy = 1
		}
	}
	if r.ViaSOCKS4 {
		t.SOCKS4 = true
	}
	if r.SSL && ruleTLS != nil {
		c := ruleTLS.Clone()
		c.ServerName, c.NextProtos = r.SNI, nil
		if r.ALPN != "" {
			c.NextProtos = strings.Split(r.ALPN, ",")
		}
		t.TLS = c
	}
	addr, port := t.Addr.Addr(), t.Addr.Port()
	if r.Addr != "" {
		if a, err := netip.ParseAddr(r.Addr); err == nil {
			addr = a
		}
	}
	if r.Port != 0 {
		port = uint16(r.Port)
	}
	t.Addr = netip.AddrPortFrom(addr, port)
	return t
}
