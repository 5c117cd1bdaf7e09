package tlsx

import (
	"crypto/tls"
	"fmt"
)

// VersionName is HAProxy's spelling of a protocol version (ssl_fc_protocol).
func VersionName(v uint16) string {
	switch v {
	case tls.VersionTLS10:
		return "TLSv1"
	case tls.VersionTLS11:
		return "TLSv1.1"
	case tls.VersionTLS12:
		return "TLSv1.2"
	case tls.VersionTLS13:
		return "TLSv1.3"
	}
	return ""
}

// ParseVersion parses an ssl-min-ver/ssl-max-ver value. SSLv3 is refused:
// Go never speaks it.
func ParseVersion(s string) (uint16, error) {
	switch s {
	case "TLSv1.0":
		return tls.VersionTLS10, nil
	case "TLSv1.1":
		return tls.VersionTLS11, nil
	case "TLSv1.2":
		return tls.VersionTLS12, nil
	case "TLSv1.3":
		return tls.VersionTLS13, nil
	case "SSLv3":
		return 0, fmt.Errorf("SSLv3 is not supported by Go's TLS (and is insecure): use TLSv1.2")
	}
	return 0, fmt.Errorf("unknown TLS version %q: want TLSv1.0, TLSv1.1, TLSv1.2 or TLSv1.3", s)
}

// Versions collects the version options of a bind line (or of
// ssl-default-bind-options): ssl-min-ver, ssl-max-ver, no-tlsv1x,
// force-tlsv1x. Later settings override earlier ones as in HAProxy, where
// the bind line's options apply after the global defaults.
type Versions struct {
	Min, Max uint16          // 0: unset
	No       map[uint16]bool // no-tlsv10 ...
}

// Option applies one version option; known is false for other words.
func (v *Versions) Option(name, arg string) (known bool, err error) {
	if v.No == nil {
		v.No = map[uint16]bool{}
	}
	no := map[string]uint16{"no-tlsv10": tls.VersionTLS10, "no-tlsv11": tls.VersionTLS11, "no-tlsv12": tls.VersionTLS12, "no-tlsv13": tls.VersionTLS13}
	force := map[string]uint16{"force-tlsv10": tls.VersionTLS10, "force-tlsv11": tls.VersionTLS11, "force-tlsv12": tls.VersionTLS12, "force-tlsv13": tls.VersionTLS13}
	switch {
	case name == "no-sslv3":
		return true, nil // Go never speaks SSLv3
	case no[name] != 0:
		v.No[no[name]] = true
		return true, nil
	case force[name] != 0:
		v.Min, v.Max = force[name], force[name]
		return true, nil
	case name == "force-sslv3":
		return true, fmt.Errorf("SSLv3 is not supported by Go's TLS")
	case name == "ssl-min-ver" || name == "ssl-max-ver":
		ver, err := ParseVersion(arg)
		if err != nil {
			return true, err
		}
		if name == "ssl-min-ver" {
			v.Min = ver
		} else {
			v.Max = ver
		}
		return true, nil
	}
	return false, nil
}

// Merge returns defaults overridden by v (the bind line).
func (v Versions) Merge(defaults Versions) Versions {
	out := Versions{Min: defaults.Min, Max: defaults.Max, No: map[uint16]bool{}}
	for k, b := range defaults.No {
		out.No[k] = b
	}
	if v.Min != 0 || v.Max != 0 {
		// HAProxy: ssl-min-ver/ssl-max-ver on the bind replace the
		// no-tlsv* of the defaults.
		out.No = map[uint16]bool{}
		if v.Min != 0 {
			out.Min = v.Min
		}
		if v.Max != 0 {
			out.Max = v.Max
		}
	}
	for k, b := range v.No {
		out.No[k] = b
	}
	return out
}

// Range resolves the options to Go's MinVersion/MaxVersion. With no option
// the minimum is TLS 1.2 (HAProxy 2.6's default). A hole in the range
// (no-tlsv12 with TLS 1.1 and 1.3 allowed) cannot be expressed in Go and
// is an error.
func (v Versions) Range() (lo, hi uint16, err error) {
	lo, hi = v.Min, v.Max
	if lo == 0 {
		lo = tls.VersionTLS12
	}
	if hi == 0 {
		hi = tls.VersionTLS13
	}
	for lo <= hi && v.No[lo] {
		lo++
	}
	for hi >= lo && v.No[hi] {
		hi--
	}
	if lo > hi {
		return 0, 0, fmt.Errorf("the TLS version options leave no version enabled")
	}
	for x := lo; x <= hi; x++ {
		if v.No[x] {
			return 0, 0, fmt.Errorf("the TLS version options disable %s between enabled versions: Go needs one contiguous range", VersionName(x))
		}
	}
	return lo, hi, nil
}
