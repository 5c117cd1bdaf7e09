// Package all registers every built-in health probe; import it for effect.
package all

import (
	_ "github.com/varde-lb/varde/plugins/check/agent"
	_ "github.com/varde-lb/varde/plugins/check/http"
	_ "github.com/varde-lb/varde/plugins/check/sslhello"
	_ "github.com/varde-lb/varde/plugins/check/tcp"
	_ "github.com/varde-lb/varde/plugins/check/tcpcheck"
)
