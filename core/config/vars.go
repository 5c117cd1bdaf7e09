package config

import (
	"strings"

	"github.com/varde-lb/varde/core/sample"
)

// VarAction is a set-var, set-var-fmt or unset-var action: the variable,
// the set-var conditions (ifexists, ifgt...) and the value, a sample
// expression (set-var) or a log-format string (set-var-fmt).
type VarAction struct {
	Name  string   `json:"name"`            // SCOPE.NAME
	Conds []string `json:"conds,omitempty"` // set-var(NAME,COND...)
	Expr  string   `json:"expr,omitempty"`  // set-var
	Fmt   string   `json:"fmt,omitempty"`   // set-var-fmt
}

func init() {
	registerRuleParser(parseVarRule, "set-var", "set-var-fmt", "unset-var")
}

func isVarAction(base string) bool {
	return base == "set-var" || base == "set-var-fmt" || base == "unset-var"
}

// parseTCPVarRule reads a variable action of tcp-request content.
func (p *parser) parseTCPVarRule(key string, act Token, args []Token) (*VarAction, bool) {
	r := &HTTPRule{}
	if !parseVarRule(p, key, act, args, r) {
		return nil, false
	}
	return r.Var, true
}

// parseVarRule reads `set-var(SCOPE.NAME[,COND...]) EXPR`,
// `set-var-fmt(SCOPE.NAME[,COND...]) FMT` and `unset-var(SCOPE.NAME)`,
// compiling the name, conditions and value here so that `varde check`
// reports them at their line.
func parseVarRule(p *parser, key string, act Token, args []Token, r *HTTPRule) bool {
	base := actionBase(act.Text)
	usage := key + "(SCOPE.NAME[,COND...]) EXPR"
	switch base {
	case "set-var-fmt":
		usage = key + "(SCOPE.NAME[,COND...]) FMT"
	case "unset-var":
		usage = key + "(SCOPE.NAME)"
	}
	va, err := parseVarCall(act.Text, base)
	if err != nil {
		reportSampleErr(p.d, act.Pos, key, err)
		return false
	}
	want := 1
	if base == "unset-var" {
		want = 0
	}
	if len(args) != want {
		p.d.Errorf(act.Pos, key, usage, "%s expects %d argument(s), got %d", base, want, len(args))
		return false
	}
	o := sample.Options{Where: sample.AtRequest, Place: "in " + key + " rules"}
	if strings.HasPrefix(key, "http-response") {
		o = sample.Options{Where: sample.AtResponse, Place: "in http-response rules"}
	}
	switch base {
	case "set-var":
		va.Expr = args[0].Text
		_, err = sample.Parse(va.Expr, o)
	case "set-var-fmt":
		va.Fmt = args[0].Text
		_, err = sample.ParseTemplate(va.Fmt, o)
	}
	if err != nil {
		reportSampleErr(p.d, args[0].Pos, key, err)
		return false
	}
	r.Var = va
	return true
}

// parseVarCall reads the parenthesised part of set-var(NAME,COND...).
func parseVarCall(word, base string) (*VarAction, error) {
	inner, ok := strings.CutPrefix(word, base+"(")
	if !ok || !strings.HasSuffix(inner, ")") {
		return nil, &sample.Error{Msg: base + " needs a variable name in parentheses", Hint: base + "(txn.NAME)"}
	}
	parts := strings.Split(strings.TrimSuffix(inner, ")"), ",")
	va := &VarAction{Name: parts[0]}
	if _, err := sample.ParseVarName(va.Name); err != nil {
		return nil, err
	}
	if base == "unset-var" && len(parts) > 1 {
		return nil, &sample.Error{Msg: "unset-var takes no condition", Hint: "unset-var(" + va.Name + ")"}
	}
	if len(parts) > 5 {
		return nil, &sample.Error{Msg: "too many set-var conditions", Hint: "HAProxy accepts at most four"}
	}
	for _, c := range parts[1:] {
		if _, err := sample.ParseSetCond(c); err != nil {
			return nil, err
		}
		va.Conds = append(va.Conds, c)
	}
	return va, nil
}

// TuneVars are the tune.vars.*-max-size limits in bytes (0: none).
type TuneVars struct {
	Global int64 `json:"global,omitempty"`
	Proc   int64 `json:"proc,omitempty"`
	ReqRes int64 `json:"reqres,omitempty"`
	Sess   int64 `json:"sess,omitempty"`
	Txn    int64 `json:"txn,omitempty"`
}

func (t *TuneVars) set(key string, n int64) {
	switch key {
	case "tune.vars.global-max-size":
		t.Global = n
	case "tune.vars.proc-max-size":
		t.Proc = n
	case "tune.vars.reqres-max-size":
		t.ReqRes = n
	case "tune.vars.sess-max-size":
		t.Sess = n
	case "tune.vars.txn-max-size":
		t.Txn = n
	}
}
