package config

// The proxy keyword `redirect location|prefix|scheme TARGET [code N]
// [if|unless COND]` (HAProxy 2.6 still documents it beside `http-request
// redirect`). It takes the same arguments as the http-request action, but
// HAProxy keeps these rules in their own list, evaluated after every
// http-request rule of the proxy (even after one that ended them with
// `allow`) and before the backend is chosen. So the rule is parsed by the
// http-request parser and moved to Proxy.Redirects.
func (p *parser) parseRedirectKeyword(l Line, words []Token) {
	px := p.cur
	if px == nil || px.Kind == KindDefaults {
		p.d.Errorf(words[0].Pos, "redirect", "write it in a frontend, listen or backend section", "redirect is not valid in a defaults section")
		return
	}
	rule := append([]Token{{Text: "http-request", Pos: words[0].Pos}, {Text: "redirect", Pos: words[0].Pos}}, words[1:]...)
	n := len(px.HTTPRequest)
	p.parseHTTPRule(l, "http-request redirect", rule)
	if len(px.HTTPRequest) == n+1 {
		px.Redirects = append(px.Redirects, px.HTTPRequest[n])
		px.HTTPRequest = px.HTTPRequest[:n]
	}
}
