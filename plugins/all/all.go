// Package all links every built-in plugin into a binary: importing it for
// its side effects runs each plugin's init(), which registers it with core
// under its HAProxy keyword. Each area adds its plugins' lines here.
package all

import (
	// Balancing algorithms (balance KEYWORD).
	_ "github.com/varde-lb/varde/plugins/balance/first"
	_ "github.com/varde-lb/varde/plugins/balance/hdr"
	_ "github.com/varde-lb/varde/plugins/balance/leastconn"
	_ "github.com/varde-lb/varde/plugins/balance/random"
	_ "github.com/varde-lb/varde/plugins/balance/roundrobin"
	_ "github.com/varde-lb/varde/plugins/balance/source"
	_ "github.com/varde-lb/varde/plugins/balance/static-rr"
	_ "github.com/varde-lb/varde/plugins/balance/uri"
	_ "github.com/varde-lb/varde/plugins/balance/url_param"

	// Health probes (check, option httpchk, option ssl-hello-chk, agent-check).
	_ "github.com/varde-lb/varde/plugins/check/all"

	// Log targets (log TARGET ...).
	_ "github.com/varde-lb/varde/plugins/sink/file"
	_ "github.com/varde-lb/varde/plugins/sink/stdout"
	_ "github.com/varde-lb/varde/plugins/sink/tcp"
	_ "github.com/varde-lb/varde/plugins/sink/udp"
	_ "github.com/varde-lb/varde/plugins/sink/unix"

	// Policy engines (policy FILE.lua, policy FILE.wasm).
	_ "github.com/varde-lb/varde/scripting/lua"
	_ "github.com/varde-lb/varde/scripting/wasm"
)
