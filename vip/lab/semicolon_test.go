package lab

import (
	"testing"
	"time"
)

// TestAuthPassSemicolonWithKeepalived: `auth_pass secret;` keeps its ';'
// in keepalived 2.2.7 (the password on the wire is "secret;"), and in
// varde: keepalived (200) and varde (150) with that line agree, no
// authentication mismatch is logged, varde stays backup; a varde peer
// with `auth_pass secret` instead does not accept keepalived's adverts
// (it logs the mismatch and takes the VIP too).
func TestAuthPassSemicolonWithKeepalived(t *testing.T) {
	auth := func(pass string) string {
		return "    authentication {\n        auth_type PASS\n        auth_pass " + pass + "\n    }\n"
	}
	l := New(t, 2)
	n1, n2 := l.Nodes[0], l.Nodes[1]
	ka := start(n1, "keepalived", inst{prio: 200, extra: auth("secret;")})
	va := start(n2, "varde", inst{prio: 150, extra: auth("secret;")})
	l.Settle(vip, 10*time.Second, 2*time.Second, "n1")
	noMismatch(t, ka, va)
	va.Term()

	vb := start(n2, "varde", inst{prio: 150, extra: auth("secret")})
	vb.WaitLog("received an invalid passwd", 10*time.Second)
	l.WaitHolders(vip, 10*time.Second, "n1", "n2")
}
