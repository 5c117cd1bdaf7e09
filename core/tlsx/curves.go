package tlsx

import (
	"crypto/tls"
	"fmt"
	"strings"
)

// curveNames maps OpenSSL's group names (what `curves` and `ecdhe` take)
// to Go's key exchanges.
var curveNames = map[string]tls.CurveID{
	"X25519": tls.X25519, "x25519": tls.X25519,
	"P-256": tls.CurveP256, "prime256v1": tls.CurveP256, "secp256r1": tls.CurveP256,
	"P-384": tls.CurveP384, "secp384r1": tls.CurveP384,
	"P-521": tls.CurveP521, "secp521r1": tls.CurveP521,
	"X25519MLKEM768": tls.X25519MLKEM768,
}

// ParseCurves maps a `curves` list (X25519:P-256) to Go's
// CurvePreferences; a group Go does not implement (X448, ffdhe2048,
// brainpool ...) is an error naming it.
func ParseCurves(s string) ([]tls.CurveID, error) {
	var out []tls.CurveID
	for _, name := range strings.Split(s, ":") {
		id, ok := curveNames[name]
		if !ok {
			return nil, fmt.Errorf("curve %q: Go's TLS does not implement it (X25519, P-256, P-384, P-521, X25519MLKEM768)", name)
		}
		out = append(out, id)
	}
	return out, nil
}
