package config

import (
	"strings"

	"github.com/varde-lb/varde/core/sample"
)

func init() {
	registerRuleParser(parseSetAddrRule, "set-src", "set-src-port", "set-dst", "set-dst-port")
}

// parseSetAddrRule reads `http-request set-src|set-src-port|set-dst|
// set-dst-port EXPR`; the expression lands in Value and is compiled here
// so that `varde check` reports it at its line.
func parseSetAddrRule(p *parser, key string, act Token, args []Token, r *HTTPRule) bool {
	if !strings.HasPrefix(key, "http-request") && !strings.HasPrefix(key, "tcp-request connection") && !strings.HasPrefix(key, "tcp-request session") {
		p.d.Errorf(act.Pos, key, "use http-request "+act.Text, "%s is only an http-request or tcp-request connection|session action", act.Text)
		return false
	}
	if len(args) != 1 {
		p.d.Errorf(act.Pos, key, key+" EXPR", "%s expects 1 argument, got %d", act.Text, len(args))
		return false
	}
	place := "in http-request rules"
	if !strings.HasPrefix(key, "http-request") {
		place = "in " + key + " rules"
	}
	if _, err := sample.Parse(args[0].Text, sample.Options{Where: sample.AtRequest, Place: place}); err != nil {
		reportSampleErr(p.d, args[0].Pos, key, err)
		return false
	}
	r.Value = args[0].Text
	return true
}

// parseOriginalTo reads `option originalto [except NET] [header NAME]`.
func (p *parser) parseOriginalTo(key string, args []Token) *ForwardFor {
	ot := &ForwardFor{Header: "X-Original-To"}
	for i := 0; i < len(args); i++ {
		t := args[i]
		if (t.Text != "except" && t.Text != "header") || i+1 >= len(args) {
			p.d.Errorf(t.Pos, key, "option originalto [except NET] [header NAME]", "unexpected %q", t.Text)
			return nil
		}
		i++
		if t.Text == "header" {
			ot.Header = args[i].Text
			continue
		}
		if _, err := parsePrefixOrAddr(args[i].Text); err != nil {
			p.d.Errorf(args[i].Pos, key, "a network such as 10.0.0.0/8", "%v", err)
			return nil
		}
		ot.Except = args[i].Text
	}
	return ot
}
