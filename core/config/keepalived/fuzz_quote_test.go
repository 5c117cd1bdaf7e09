package keepalived

import (
	"encoding/json"
	"testing"

	"github.com/varde-lb/varde/core/diag"
)

// FuzzParseQuoted seeds keepalived's parser with the quoting and brace
// shapes that crashed the haproxy.cfg parser: quoted keywords, unterminated
// quotes, braces inside quotes, ${...} and backslashes.
func FuzzParseQuoted(f *testing.F) {
	for _, s := range []string{
		"\"vrrp_instance V\" {\n}\n", "vrrp_instance V {\n \"state MASTER\"\n}\n", "vrrp_instance V {\n state \"MASTER\n}\n",
		"vrrp_instance \"{\" {\n virtual_ipaddress {\n \"}\"\n }\n}\n", "global_defs {\n router_id ${HOST}\n}\n", "vrrp_script s {\n script \"/bin/x \\\"a\\\"\"\n}\n",
		"include \"\"\n", "vrrp_instance V {\n track_script {\n \"\n }\n}\n", "{\n\"\n}\n", "vrrp_instance V {\n virtual_router_id \"\"\n priority \"1 2\"\n}\n",
		"vrrp_instance V {\n authentication {\n auth_pass \"a#b\"\n }\n}\n", ".if 1\nvrrp_instance V {\n.endif\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		var d diag.List
		c := Parse("fuzz.conf", src, &d)
		c.Validate(&d)
		if _, err := json.Marshal(c); err != nil {
			t.Fatal(err)
		}
		for _, it := range d.Items() {
			_ = it.String()
		}
	})
}
