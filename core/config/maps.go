package config

import "strings"

// The map and ACL file actions (HAProxy 2.6):
//
//	http-request|http-response set-map(FILE) KEY_FMT VALUE_FMT
//	http-request|http-response del-map(FILE) KEY_FMT
//	http-request|http-response add-acl(FILE) KEY_FMT
//	http-request|http-response del-acl(FILE) KEY_FMT
//
// FILE goes to Name, KEY_FMT to Value, VALUE_FMT to Args[0]; the engine
// (core/proxy/mapact.go) compiles the log-format strings and changes the
// generation's shared list of FILE at run time.
func init() {
	registerRuleParser(parseMapAction, "set-map", "del-map", "add-acl", "del-acl")
}

func parseMapAction(p *parser, key string, act Token, args []Token, r *HTTPRule) bool {
	base := actionBase(act.Text)
	file, ok := strings.CutPrefix(act.Text, base+"(")
	if !ok || !strings.HasSuffix(file, ")") || len(file) < 2 {
		p.d.Errorf(act.Pos, key, base+"(/etc/haproxy/FILE) ...", "%s needs the file name in parentheses", base)
		return false
	}
	want := 1
	usage := base + "(FILE) KEY_FMT"
	if base == "set-map" {
		want, usage = 2, base+"(FILE) KEY_FMT VALUE_FMT"
	}
	if len(args) != want {
		p.d.Errorf(act.Pos, key, usage, "%s expects %d argument(s), got %d", base, want, len(args))
		return false
	}
	r.Name = strings.TrimSuffix(file, ")")
	r.Value = args[0].Text
	if want == 2 {
		r.Args = []string{args[1].Text}
	}
	return true
}
