package config

import (
	"os"
	"strconv"

	"github.com/varde-lb/varde/core/diag"
)

// HTTPErrors is an `http-errors NAME` section: error pages by status,
// imported by proxies with `errorfiles NAME [CODE...]` and by return/deny
// rules with `errorfiles NAME`.
type HTTPErrors struct {
	Pos   diag.Pos     `json:"pos"`
	Name  string       `json:"name"`
	Files []*ErrorFile `json:"files,omitempty"`
}

// errorfileCodeList is the hint listing the statuses that take a page.
const errorfileCodeList = "one of 200 400 401 403 404 405 407 408 410 413 425 429 500 501 502 503 504"

func (p *parser) startHTTPErrors(l Line) {
	p.section, p.cur = "http-errors", nil
	name, ok := p.namedSection(l, "http-errors", "rename one of them", func(n string) bool { return p.cfg.HTTPErrorsNamed(n) != nil })
	if ok {
		p.cfg.HTTPErrors = append(p.cfg.HTTPErrors, &HTTPErrors{Pos: l.Pos, Name: name})
	}
}

// namedSection reads the one name of a section line (http-errors,
// userlist) and refuses a bad or repeated one; on refusal the section's
// lines are skipped (already reported).
func (p *parser) namedSection(l Line, kind, dupHint string, exists func(string) bool) (string, bool) {
	args := l.Args(1)
	if len(args) != 1 || !validProxyName(args[0].Text) {
		p.d.Errorf(l.Pos, kind, kind+" NAME", "%s needs one name (letters, digits, '-', '_', '.', ':')", kind)
		p.section = "skip"
		return "", false
	}
	if exists(args[0].Text) {
		p.d.Errorf(args[0].Pos, kind, dupHint, "%s section %q is declared twice", kind, args[0].Text)
		p.section = "skip"
		return "", false
	}
	return args[0].Text, true
}

// httpErrorsLine reads `errorfile CODE FILE` inside an http-errors section.
func (p *parser) httpErrorsLine(l Line) {
	set := p.cfg.HTTPErrors[len(p.cfg.HTTPErrors)-1]
	kw, args := l.Keyword(), l.Args(1)
	if kw != "errorfile" {
		p.d.Errorf(l.Pos, kw, "an http-errors section holds errorfile CODE FILE lines", "unknown keyword %q in http-errors section", kw)
		return
	}
	ef, ok := p.errorFileArgs(l, "errorfile", args)
	if !ok {
		return
	}
	set.Files = append(dropCode(set.Files, ef.Code), ef)
}

// errorFileArgs parses `CODE FILE`.
func (p *parser) errorFileArgs(l Line, key string, args []Token) (*ErrorFile, bool) {
	if len(args) != 2 {
		p.d.Errorf(l.Pos, key, "errorfile CODE FILE", "errorfile expects a status code and a file")
		return nil, false
	}
	if !contains(errorfileCodes, args[0].Text) {
		p.d.Errorf(args[0].Pos, key, errorfileCodeList, "status code %q cannot have an errorfile", args[0].Text)
		return nil, false
	}
	code, _ := strconv.Atoi(args[0].Text)
	return &ErrorFile{Pos: l.Pos, Code: code, File: p.path(args[1].Text)}, true
}

func dropCode(in []*ErrorFile, code int) []*ErrorFile {
	out := in[:0:0]
	for _, e := range in {
		if e.Code != code || e.Set != "" {
			out = append(out, e)
		}
	}
	return out
}

// parseErrorfiles reads `errorfiles NAME [CODE...]` in a proxy: a marker
// resolved once every section is read (the set may come later in the
// file), in declaration order with errorfile lines (the later wins, as in
// HAProxy 2.6).
func (p *parser) parseErrorfiles(l Line, key string, args []Token) {
	if len(args) == 0 {
		p.d.Errorf(l.Pos, key, "errorfiles NAME [CODE...]", "errorfiles needs the name of an http-errors section")
		return
	}
	ef := &ErrorFile{Pos: l.Pos, Set: args[0].Text}
	for _, t := range args[1:] {
		if !contains(errorfileCodes, t.Text) {
			p.d.Errorf(t.Pos, key, errorfileCodeList, "status code %q cannot have an errorfile", t.Text)
			return
		}
		code, _ := strconv.Atoi(t.Text)
		ef.Codes = append(ef.Codes, code)
	}
	p.cur.ErrorFiles = append(p.cur.ErrorFiles, ef)
}

// HTTPErrorsNamed returns the http-errors section named name, or nil.
func (c *Config) HTTPErrorsNamed(name string) *HTTPErrors {
	for _, s := range c.HTTPErrors {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// resolveErrorSets replaces the errorfiles markers of every proxy by the
// pages they import, and return/deny `errorfiles NAME` by the set's page
// for the rule's status.
func (p *parser) resolveErrorSets() {
	reported := map[any]bool{}
	once := func(x any) bool {
		r := !reported[x]
		reported[x] = true
		return r
	}
	seen := map[*Proxy]bool{}
	for _, list := range [][]*Proxy{p.cfg.Defaults, p.cfg.Proxies} {
		for _, px := range list {
			if seen[px] {
				continue
			}
			seen[px] = true
			px.ErrorFiles = p.expandErrorFiles(px.ErrorFiles, once)
			for _, r := range append(append(append([]*HTTPRule(nil), px.HTTPRequest...), px.HTTPResponse...), px.HTTPAfterResponse...) {
				p.resolveReturnSet(r, once)
			}
		}
	}
}

func (p *parser) expandErrorFiles(in []*ErrorFile, once func(any) bool) []*ErrorFile {
	var out []*ErrorFile
	for _, ef := range in {
		if ef.Set == "" {
			out = append(dropCode(out, ef.Code), ef)
			continue
		}
		set := p.cfg.HTTPErrorsNamed(ef.Set)
		if set == nil {
			if once(ef) {
				p.d.Errorf(ef.Pos, "errorfiles", p.setHint(ef.Set), "http-errors section %q not found", ef.Set)
			}
			continue
		}
		for _, f := range set.Files {
			if len(ef.Codes) > 0 && !containsInt(ef.Codes, f.Code) {
				continue
			}
			out = append(dropCode(out, f.Code), f)
		}
	}
	return out
}

func (p *parser) resolveReturnSet(r *HTTPRule, once func(any) bool) {
	ret := r.Return
	if ret == nil || ret.Kind != "errorfiles" {
		return
	}
	set := p.cfg.HTTPErrorsNamed(ret.Payload)
	if set == nil {
		if once(r) {
			p.d.Errorf(r.Pos, "http-request "+r.Action, p.setHint(ret.Payload), "http-errors section %q not found", ret.Payload)
		}
		return
	}
	for _, f := range set.Files {
		if f.Code == r.Status {
			ret.Kind, ret.Payload = "errorfile", f.File
			return
		}
	}
	// HAProxy 2.6 warns and sends an empty answer with the status.
	if once(r) {
		p.d.Warnf(r.Pos, "http-request "+r.Action, "add errorfile "+strconv.Itoa(r.Status)+" FILE to the section", "status %d is not in http-errors section %q: the answer is empty", r.Status, set.Name)
	}
	ret.Kind, ret.Payload = "", ""
}

func (p *parser) setHint(name string) string {
	var names []string
	for _, s := range p.cfg.HTTPErrors {
		names = append(names, s.Name)
	}
	return hintNearest(name, names, "declare `http-errors "+name+"` with errorfile lines")
}

func containsInt(list []int, v int) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// validateHTTPErrors checks every page of every http-errors section, used
// or not, as HAProxy loads them all at start-up.
func (c *Config) validateHTTPErrors(d *diag.List) {
	for _, set := range c.HTTPErrors {
		for _, ef := range set.Files {
			if !c.once(ef) {
				continue
			}
			if _, err := os.Stat(ef.File); err != nil {
				d.Errorf(ef.Pos, "errorfile", "create the file or fix the path", "error page %s: %v", ef.File, statErr(err))
			}
		}
	}
}
