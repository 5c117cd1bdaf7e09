package config

import "strings"

// Return is the answer of `http-request return`, and of `deny` when it
// names a payload: HAProxy 2.6's http_parse_http_reply syntax.
type Return struct {
	ContentType string `json:"content_type,omitempty"`
	// Kind is how the body is given: "" (none), string, lf-string, file,
	// lf-file, errorfile (a raw HTTP response file) or default-errorfiles
	// (the proxy's page for the status).
	Kind    string   `json:"kind,omitempty"`
	Payload string   `json:"payload,omitempty"` // the text or the file name
	Headers []Header `json:"headers,omitempty"` // hdr NAME FMT (log-format values)
}

const returnUsage = "return [status CODE] [content-type TYPE] [string TEXT | lf-string FMT | file FILE | lf-file FILE | errorfile FILE | default-errorfiles] [hdr NAME FMT]..."

// parseReturn reads the arguments of `return` (deny: `deny`, whose status
// keyword is deny_status or status) into r.Status and r.Return.
func (p *parser) parseReturn(key string, args []Token, r *HTTPRule, deny bool) bool {
	ret := &Return{}
	for i := 0; i < len(args); i++ {
		t := args[i]
		need := func() (Token, bool) {
			if i+1 >= len(args) {
				p.d.Errorf(t.Pos, key, returnUsage, "%s needs a value", t.Text)
				return Token{}, false
			}
			i++
			return args[i], true
		}
		switch w := t.Text; {
		case w == "status" || (deny && w == "deny_status"):
			v, ok := need()
			if !ok {
				return false
			}
			if r.Status, ok = p.intVal(v, key, 200, 599); !ok {
				return false
			}
		case w == "content-type":
			v, ok := need()
			if !ok {
				return false
			}
			ret.ContentType = v.Text
		case w == "string" || w == "lf-string" || w == "file" || w == "lf-file" || w == "errorfile":
			v, ok := need()
			if !ok || !p.returnKind(key, t, ret, w) {
				return false
			}
			ret.Payload = v.Text
		case w == "default-errorfiles":
			if !p.returnKind(key, t, ret, w) {
				return false
			}
		case w == "errorfiles":
			// http-errors sections are refused, so no set can be named.
			p.d.Errorf(t.Pos, key, "use errorfile FILE or default-errorfiles", "errorfiles NAME needs an http-errors section, which varde does not support yet")
			return false
		case w == "hdr":
			n, ok := need()
			if !ok {
				return false
			}
			v, ok := need()
			if !ok {
				return false
			}
			ret.Headers = append(ret.Headers, Header{Name: n.Text, Value: v.Text})
		default:
			p.d.Errorf(t.Pos, key, returnUsage, "unexpected %q", w)
			return false
		}
	}
	return p.checkReturn(key, args, r, ret)
}

func (p *parser) returnKind(key string, t Token, ret *Return, kind string) bool {
	if ret.Kind != "" {
		p.d.Errorf(t.Pos, key, returnUsage, "%s: the body is already given by %s", kind, ret.Kind)
		return false
	}
	ret.Kind = kind
	return true
}

// checkReturn applies HAProxy's rules: a raw error page carries its own
// headers, and a content type needs a body.
func (p *parser) checkReturn(key string, args []Token, r *HTTPRule, ret *Return) bool {
	at := posOf(args, 0, r.Pos)
	raw := ret.Kind == "errorfile" || ret.Kind == "default-errorfiles"
	switch {
	case raw && (ret.ContentType != "" || len(ret.Headers) > 0):
		p.d.Errorf(at, key, returnUsage, "content-type and hdr cannot be used with %s (the page has its own headers)", ret.Kind)
		return false
	case ret.ContentType != "" && ret.Kind == "":
		p.d.Errorf(at, key, returnUsage, "content-type needs a body (string, lf-string, file or lf-file)")
		return false
	case ret.ContentType == "" && ret.Kind != "" && !raw:
		p.d.Errorf(at, key, returnUsage, "a body needs a content-type")
		return false
	}
	for _, h := range ret.Headers {
		switch strings.ToLower(h.Name) {
		case "content-length", "content-type", "transfer-encoding", "connection":
			p.d.Errorf(at, key, returnUsage, "hdr %s is not allowed: varde writes it", h.Name)
			return false
		}
	}
	if ret.Kind != "" || ret.ContentType != "" || len(ret.Headers) > 0 {
		r.Return = ret
	}
	return true
}
