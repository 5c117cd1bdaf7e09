// Package sslhello is `option ssl-hello-chk`: it sends a TLS ClientHello and
// passes when the server answers with a TLS handshake or alert record (L6OK),
// proving a TLS stack is listening without completing a handshake.
package sslhello

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"io"
	"time"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/core/health"
	"github.com/varde-lb/varde/plugins/check/tcp"
)

func init() {
	health.RegisterProbeType(health.ProbeType{Name: "ssl-hello", Option: "ssl-hello-chk",
		Parse: func(health.ProbeSpec) (health.BuildProbe, error) { return func() health.Probe { return Probe{} }, nil }})
}

// Probe sends a ClientHello.
type Probe struct{}

var _ health.Probe = Probe{}

// ClientHello builds a TLS 1.2 ClientHello record offering common suites.
func ClientHello() []byte {
	suites := []uint16{0xc02f, 0xc030, 0xc02b, 0xc02c, 0x009c, 0x009d, 0x002f, 0x0035, 0x1301, 0x1302}
	var body []byte
	body = append(body, 0x03, 0x03) // client_version TLS 1.2
	rnd := make([]byte, 32)
	_, _ = rand.Read(rnd)
	body = append(body, rnd...)
	body = append(body, 0) // session_id length
	body = binary.BigEndian.AppendUint16(body, uint16(2*len(suites)))
	for _, s := range suites {
		body = binary.BigEndian.AppendUint16(body, s)
	}
	body = append(body, 1, 0) // compression: null
	// extensions: supported_groups (x25519, secp256r1) and ec_point_formats
	ext := []byte{0x00, 0x0a, 0x00, 0x06, 0x00, 0x04, 0x00, 0x1d, 0x00, 0x17, 0x00, 0x0b, 0x00, 0x02, 0x01, 0x00}
	body = binary.BigEndian.AppendUint16(body, uint16(len(ext)))
	body = append(body, ext...)

	hs := []byte{0x01, byte(len(body) >> 16), byte(len(body) >> 8), byte(len(body))}
	hs = append(hs, body...)
	rec := []byte{0x16, 0x03, 0x01}
	rec = binary.BigEndian.AppendUint16(rec, uint16(len(hs)))
	return append(rec, hs...)
}

// Check implements health.Probe.
func (Probe) Check(ctx context.Context, t health.Target) core.CheckResult {
	start := time.Now()
	c, res := tcp.Dial(ctx, t)
	if c == nil {
		res.Duration = time.Since(start)
		return res
	}
	defer c.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(dl)
	}
	if _, err := c.Write(ClientHello()); err != nil {
		return core.CheckResult{Status: "L6RSP", Info: "write: " + err.Error(), Duration: time.Since(start)}
	}
	hdr := make([]byte, 5)
	_, err := io.ReadFull(c, hdr)
	d := time.Since(start)
	switch {
	case err != nil && tcp.IsTimeout(err):
		return core.CheckResult{Status: "L6TOUT", Info: "Layer6 timeout", Duration: d}
	case err != nil:
		return core.CheckResult{Status: "L6RSP", Info: "Layer6 invalid response", Duration: d}
	case (hdr[0] == 0x15 || hdr[0] == 0x16) && hdr[1] == 0x03:
		return core.CheckResult{OK: true, Status: "L6OK", Info: "Layer6 check passed", Duration: d}
	}
	return core.CheckResult{Status: "L6RSP", Info: "Layer6 invalid response", Duration: d}
}
