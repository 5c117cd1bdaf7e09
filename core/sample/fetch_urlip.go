package sample

import "net/netip"

// url_ip and url_port (configuration.txt §7.3.6): the IPv4 address and
// port an absolute-form request target names, as HAProxy 2.6 reads them
// (tools.c url2sa): the target must hold "http://" or "https://" (the
// scheme in any case, before the first "://"), then a dotted IPv4 address
// of exactly four numbers up to 255; the port follows a ':' (its digits,
// modulo 65536, 0 when there are none) and is the scheme's default
// otherwise. A host name, an IPv6 address, userinfo or an origin-form
// target give no sample (HAProxy resolves names only while it starts).

func init() {
	RegisterFetch(&Fetch{Name: "url_ip", Out: TypeAddr, Where: atReq,
		Doc: "the IPv4 address of an absolute-form target (http://IP[:PORT]/...); no sample for a name, IPv6 or origin-form",
		Eval: func(c *Ctx, _ *Args, out *Value) bool {
			if c.Req == nil {
				return false
			}
			ip, _, ok := URLAddr(c.Req.URI())
			if ok {
				out.SetAddr(ip)
			}
			return ok
		}})
	RegisterFetch(&Fetch{Name: "url_port", Out: TypeInt, Where: atReq,
		Doc: "the port of an absolute-form target with an IPv4 address (80 or 443 by default); no sample otherwise",
		Eval: func(c *Ctx, _ *Args, out *Value) bool {
			if c.Req == nil {
				return false
			}
			_, port, ok := URLAddr(c.Req.URI())
			if ok {
				out.SetInt(int64(port))
			}
			return ok
		}})
}

// URLAddr reads the IPv4 address and port of an absolute-form target.
func URLAddr(uri []byte) (ip netip.Addr, port uint16, ok bool) {
	i := indexSchemeSep(uri)
	if i < 0 {
		return ip, 0, false
	}
	switch {
	case equalFoldASCII(uri[:i], "http"):
		port = 80
	case equalFoldASCII(uri[:i], "https"):
		port = 443
	default:
		return ip, 0, false
	}
	rest := uri[i+3:]
	ip, n, ok := urlIPv4(rest)
	if !ok {
		return ip, 0, false
	}
	rest = rest[n:]
	if len(rest) > 0 && rest[0] == ':' {
		var p uint32
		for _, c := range rest[1:] {
			if c < '0' || c > '9' {
				break
			}
			p = p*10 + uint32(c-'0')
		}
		port = uint16(p) // htons of an unsigned int: the low 16 bits
	}
	return ip, port, true
}

// indexSchemeSep is the index of the first "://", or -1.
func indexSchemeSep(b []byte) int {
	for i := 0; i+2 < len(b); i++ {
		if b[i] == ':' && b[i+1] == '/' && b[i+2] == '/' {
			return i
		}
	}
	return -1
}

func equalFoldASCII(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range b {
		if b[i]|0x20 != s[i] {
			return false
		}
	}
	return true
}

// urlIPv4 is HAProxy's url2ipv4: digits and dots from the start of b, up to
// the first other byte, must be four numbers up to 255; it returns the
// address and the bytes read.
func urlIPv4(b []byte) (netip.Addr, int, bool) {
	var oct [4]byte
	n, octets, sawDigit := 0, 0, false
scan:
	for ; n < len(b); n++ {
		c := b[n]
		switch {
		case c >= '0' && c <= '9':
			v := int(oct[max(octets-1, 0)])*10 + int(c-'0')
			if !sawDigit {
				if octets++; octets > 4 {
					return netip.Addr{}, 0, false
				}
				sawDigit, v = true, int(c-'0')
			}
			if v > 255 {
				return netip.Addr{}, 0, false
			}
			oct[octets-1] = byte(v)
		case c == '.' && sawDigit:
			if octets == 4 {
				return netip.Addr{}, 0, false
			}
			sawDigit = false
		case c == '.':
			return netip.Addr{}, 0, false
		default:
			break scan
		}
	}
	if octets < 4 {
		return netip.Addr{}, 0, false
	}
	return netip.AddrFrom4(oct), n, true
}
