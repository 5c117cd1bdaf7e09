package config

import "github.com/varde-lb/varde/core/diag"

// validateCheckcache refuses `option checkcache` in a backend that inserts
// its persistence cookie with `nocache`: HAProxy then marks the response
// private when it inserts the cookie, which makes it not cacheable and
// lets it through; varde does not model that interplay yet and would
// block responses HAProxy sends.
func (c *Config) validateCheckcache(px *Proxy, d *diag.List) {
	o := px.Option("checkcache")
	if o == nil || !px.IsBackend() || px.Cookie == nil || !px.Cookie.NoCache {
		return
	}
	d.Errorf(o.Pos, "option checkcache", "drop nocache from the cookie line, or option checkcache",
		"option checkcache beside cookie ... nocache (line %d) is not built yet: varde would block responses HAProxy lets through once it marks them private", px.Cookie.Pos.Line)
}
