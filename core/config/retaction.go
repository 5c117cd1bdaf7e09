package config

import (
	"strconv"
	"strings"

	"github.com/varde-lb/varde/core/diag"
)

// Return is the answer of `http-request return`, and of `deny` when it
// names a payload: HAProxy 2.6's http_parse_http_reply syntax.
type Return struct {
	ContentType string `json:"content_type,omitempty"`
	// Kind is how the body is given: "" (none), string, lf-string, file,
	// lf-file, errorfile (a raw HTTP response file), default-errorfiles
	// (the proxy's page for the status) or, while parsing, errorfiles (the
	// page of the http-errors section named by Payload; see httperrors.go).
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
			if w == "file" || w == "lf-file" || w == "errorfile" {
				ret.Payload = p.path(v.Text) // default-path
			}
		case w == "default-errorfiles":
			if !p.returnKind(key, t, ret, w) {
				return false
			}
		case w == "errorfiles":
			// resolved to the set's page once every section is read
			v, ok := need()
			if !ok || !p.returnKind(key, t, ret, w) {
				return false
			}
			ret.Payload = v.Text
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

// checkReturn applies HAProxy 2.6's rules (http_parse_http_reply,
// measured with haproxy -c): what it ignores with a warning is dropped
// with the same warning, what it refuses is an error.
func (p *parser) checkReturn(key string, args []Token, r *HTTPRule, ret *Return) bool {
	at := posOf(args, 0, r.Pos)
	raw := ret.Kind == "errorfile" || ret.Kind == "default-errorfiles" || ret.Kind == "errorfiles"
	switch {
	case ret.Kind == "" && ret.ContentType != "":
		p.d.Warnf(at, key, "remove content-type or add a body", "content-type %q ignored: the answer has no body", ret.ContentType)
		ret.ContentType = ""
	case raw && (ret.ContentType != "" || len(ret.Headers) > 0):
		p.d.Warnf(at, key, "remove them: the page has its own headers", "content-type and hdr ignored with %s", ret.Kind)
		ret.ContentType, ret.Headers = "", nil
	case ret.Kind != "" && !raw && ret.ContentType == "":
		p.d.Errorf(at, key, returnUsage, "a content type must be given with a body")
		return false
	}
	if ret.Kind != "" && !raw && (r.Status == 204 || r.Status == 304) {
		p.d.Errorf(at, key, "remove the body", "no body is allowed in a %d answer", r.Status)
		return false
	}
	if ret.Kind == "default-errorfiles" && !contains(errorfileCodes, strconv.Itoa(r.Status)) {
		p.d.Errorf(at, key, "one of "+strings.Join(errorfileCodes, " "), "status %d has no default error page", r.Status)
		return false
	}
	if !p.returnHeaders(key, at, ret) {
		return false
	}
	if ret.Kind != "" || len(ret.Headers) > 0 {
		r.Return = ret
	}
	return true
}

// errorfileCodes are the statuses that have an error page.
var errorfileCodes = []string{"200", "400", "401", "403", "404", "405", "407", "408", "410", "413", "425", "429", "500", "501", "502", "503", "504"}

// returnHeaders drops the framing headers HAProxy ignores in a reply and
// refuses Connection, which would contradict varde's own keep-alive choice.
func (p *parser) returnHeaders(key string, at diag.Pos, ret *Return) bool {
	out := ret.Headers[:0]
	for _, h := range ret.Headers {
		switch strings.ToLower(h.Name) {
		case "content-length", "content-type", "transfer-encoding":
			p.d.Warnf(at, key, "remove the hdr", "header %q is always ignored in an answer (varde writes it)", h.Name)
			continue
		case "connection":
			p.d.Errorf(at, key, "remove the hdr", "hdr Connection is not supported by varde in an answer")
			return false
		}
		out = append(out, h)
	}
	ret.Headers = out
	return true
}
