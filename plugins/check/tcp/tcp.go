// Package tcp is the default health probe: a TCP connect (HAProxy's plain
// `check` without `option httpchk`). Success is L4OK; a refused or reset
// connection is L4CON; no answer within the check timeout is L4TOUT. Over
// TLS (check-ssl) the handshake follows the connect: L6OK when it passes,
// L6RSP when it fails, L6TOUT when it does not finish in time.
package tcp

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/netip"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/core/health"
	"github.com/varde-lb/varde/core/proxyproto"
)

func init() {
	health.RegisterProbe("tcp", func(health.ProbeSpec) (health.Probe, error) { return Probe{}, nil })
}

// Probe connects and closes.
type Probe struct{}

var _ health.Probe = Probe{}

// Check implements health.Probe.
func (Probe) Check(ctx context.Context, t health.Target) core.CheckResult {
	start := time.Now()
	c, res := Dial(ctx, t)
	if c != nil {
		c.Close()
		res = core.CheckResult{OK: true, Status: "L4OK"}
		if t.TLS != nil {
			res = core.CheckResult{OK: true, Status: "L6OK", Info: "Layer6 check passed"}
		}
	}
	res.Duration = time.Since(start)
	return res
}

// Dial opens the probe connection (PROXY header first when t.SendProxy,
// then TLS when t.TLS is set); on failure
// it returns the L4 result (L4TOUT or L4CON) or, for the handshake, the
// L6 one (L6TOUT or L6RSP) other probes reuse.
func Dial(ctx context.Context, t health.Target) (net.Conn, core.CheckResult) {
	// The server's Unix socket, source address and SOCKS4 proxy (with
	// check-via-socks4) apply to its checks as to its traffic.
	var via *core.Via
	if t.Server != nil {
		via = t.Server.Via
	}
	c, err := via.Dial(ctx, t.Addr, netip.AddrPort{}, t.Timeout, t.SOCKS4) // no client: the plain source
	if err == nil && t.SendProxy != 0 {
		err = sendProxy(c, t)
	}
	if err != nil {
		if via.IsUnix() && !t.Addr.Addr().IsValid() {
			return nil, unixError(err)
		}
		return nil, L4Error(err)
	}
	if t.TLS == nil {
		return c, core.CheckResult{}
	}
	tc := tls.Client(c, t.TLS)
	if err := tc.HandshakeContext(ctx); err != nil {
		c.Close()
		if IsTimeout(err) {
			return nil, core.CheckResult{Status: "L6TOUT", Info: "SSL handshake timeout"}
		}
		return nil, core.CheckResult{Status: "L6RSP", Info: "SSL handshake failure: " + err.Error()}
	}
	return tc, core.CheckResult{}
}

// sendProxy writes the PROXY header of a check: no client to name, so
// "PROXY UNKNOWN" (v1) or the LOCAL command (v2), as HAProxy's checks.
func sendProxy(c net.Conn, t health.Target) error {
	var b []byte
	if t.SendProxy == 2 {
		b = proxyproto.AppendV2(nil, netip.AddrPort{}, netip.AddrPort{}, nil)
	} else {
		b = proxyproto.AppendV1(nil, netip.AddrPort{}, netip.AddrPort{})
	}
	c.SetWriteDeadline(time.Now().Add(t.Timeout))
	_, err := c.Write(b)
	c.SetWriteDeadline(time.Time{})
	if err != nil {
		c.Close()
	}
	return err
}

// L4Error classifies a connect error as HAProxy does.
func L4Error(err error) core.CheckResult {
	if IsTimeout(err) {
		return core.CheckResult{Status: "L4TOUT", Info: "Connection timeout"}
	}
	info := "Connection error"
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		info = "Connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		info = "Connection reset by peer"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		info = "No route to host"
	}
	return core.CheckResult{Status: "L4CON", Info: info}
}

// unixError is a failed connect to a Unix socket: HAProxy's connect()
// fails there at once (no connection in progress), which it reports as
// SOCKERR "General socket error (REASON)" rather than L4CON.
func unixError(err error) core.CheckResult {
	info := "General socket error"
	var errno syscall.Errno
	if errors.As(err, &errno) {
		msg := errno.Error()
		info += " (" + strings.ToUpper(msg[:1]) + msg[1:] + ")"
	}
	return core.CheckResult{Status: "SOCKERR", Info: info}
}

// IsTimeout reports whether err is a deadline or context timeout.
func IsTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) ||
		(errors.As(err, &ne) && ne.Timeout())
}
