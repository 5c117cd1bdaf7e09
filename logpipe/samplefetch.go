package logpipe

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/varde-lb/varde/core/logrec"
)

// The few sample fetches log-format lines use for logging, above all
// HAProxy's own anonymisation idiom `%[src,ipmask(24,64)]`. Anything else
// is refused at start with the expression named, never silently dropped.
var sampleFetches = map[string]bool{
	"src": true, "src_port": true, "dst": true, "dst_port": true,
	"fe_name": true, "be_name": true, "srv_name": true, "status": true,
}

func compileSample(expr string) (item, error) {
	it := item{id: vSample, mask4: -1, mask6: -1}
	parts := strings.SplitN(expr, ",", 2)
	it.fetch = strings.TrimSpace(parts[0])
	if !sampleFetches[it.fetch] {
		return it, fmt.Errorf("sample fetch %q is not supported in varde's log-format (supported: src, src_port, dst, dst_port, fe_name, be_name, srv_name, status)", it.fetch)
	}
	if len(parts) == 1 {
		return it, nil
	}
	conv := strings.TrimSpace(parts[1])
	if !strings.HasPrefix(conv, "ipmask(") || !strings.HasSuffix(conv, ")") || (it.fetch != "src" && it.fetch != "dst") {
		return it, fmt.Errorf("converter %q is not supported (only ipmask(MASK4[,MASK6]) on src or dst)", conv)
	}
	args := strings.Split(conv[len("ipmask("):len(conv)-1], ",")
	if len(args) > 2 {
		return it, fmt.Errorf("ipmask takes MASK4[,MASK6]")
	}
	m4, err := maskBits(strings.TrimSpace(args[0]), 32)
	if err != nil {
		return it, err
	}
	it.mask4 = m4
	if len(args) == 2 {
		m6, err := maskBits(strings.TrimSpace(args[1]), 128)
		if err != nil {
			return it, err
		}
		it.mask6 = m6
	}
	return it, nil
}

// maskBits reads a CIDR length or a contiguous dotted (IPv4) mask.
func maskBits(s string, max int) (int, error) {
	if n, err := strconv.Atoi(s); err == nil && n >= 0 && n <= max {
		return n, nil
	}
	if max == 32 {
		if a, err := netip.ParseAddr(s); err == nil && a.Is4() {
			b := a.As4()
			v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
			n := 0
			for n < 32 && v&(1<<(31-n)) != 0 {
				n++
			}
			if v<<n == 0 {
				return n, nil
			}
		}
	}
	return 0, fmt.Errorf("ipmask %q: want a prefix length 0..%d (or a contiguous dotted mask)", s, max)
}

func appendSample(dst []byte, it *item, r *logrec.Record, c *encodeCtx) []byte {
	switch it.fetch {
	case "src", "dst":
		ap := r.Client
		if it.fetch == "dst" {
			ap = r.FrontendAddr
		}
		if !ap.IsValid() {
			return append(dst, '-')
		}
		ip := ap.Addr()
		if it.mask4 >= 0 {
			if !ip.Unmap().Is4() && it.mask6 < 0 {
				return append(dst, '-') // HAProxy: IPv6 fails to convert without MASK6
			}
			ip = maskAddr(ip.Unmap(), it.mask4, max(it.mask6, 0))
		}
		if it.fetch == "src" {
			return c.anon.appendAddr(dst, ip, c.now) // the target's anonymize still applies
		}
		return ip.AppendTo(dst)
	case "src_port":
		return appendPortOrDash(dst, r.Client)
	case "dst_port":
		return appendPortOrDash(dst, r.FrontendAddr)
	case "fe_name":
		return append(dst, r.Frontend...)
	case "be_name":
		if r.Backend == "" {
			return append(dst, r.Frontend...)
		}
		return append(dst, r.Backend...)
	case "srv_name":
		if r.Server == "" {
			return append(dst, '-')
		}
		return append(dst, r.Server...)
	case "status":
		return strconv.AppendInt(dst, int64(r.Status), 10)
	}
	return append(dst, '-')
}
