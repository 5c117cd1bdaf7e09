package config

import (
	"github.com/varde-lb/varde/core/diag"
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
	} else if strings.HasPrefix(key, "tcp-response") {
		o = sample.Options{Where: sample.AtResponse, Place: "in tcp-response content rules"}
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

// GlobalSetVar is the global section's `set-var proc.NAME EXPR` or
// `set-var-fmt proc.NAME FMT`: set when the engine starts, from
// expressions that need no traffic (str(), int()...).
type GlobalSetVar struct {
	Pos  diag.Pos `json:"pos"`
	Name string   `json:"name"`
	Expr string   `json:"expr,omitempty"`
	Fmt  string   `json:"fmt,omitempty"`
}

// parseGlobalSetVar checks that the value can be computed now, as HAProxy
// computes it while parsing: an expression that needs a request is an
// error.
func (p *parser) parseGlobalSetVar(key string, at diag.Pos, args []Token) {
	if len(args) != 2 {
		p.d.Errorf(at, key, key+" proc.NAME VALUE", "%s expects 2 arguments, got %d", key, len(args))
		return
	}
	r, err := sample.ParseVarName(args[0].Text)
	if err == nil && r.Scope != sample.ScopeProc {
		err = &sample.Error{Msg: "only proc. variables can be set in the global section", Hint: "proc.NAME"}
	}
	if err != nil {
		reportSampleErr(p.d, args[0].Pos, key, err)
		return
	}
	sv := &GlobalSetVar{Pos: at, Name: args[0].Text}
	if key == "set-var" {
		sv.Expr = args[1].Text
	} else {
		sv.Fmt = args[1].Text
	}
	if _, err := sv.Value(); err != nil && !(sv.Expr != "" && strings.HasPrefix(sv.Expr, "var(")) {
		// var(proc.NAME) may read an earlier line's variable, set at start.
		reportSampleErr(p.d, args[1].Pos, key, err)
		return
	}
	p.cfg.Global.SetVars = append(p.cfg.Global.SetVars, sv)
}

// Value computes the variable's value without any traffic.
func (sv *GlobalSetVar) Value() (sample.Value, error) {
	var c sample.Ctx
	if sv.Fmt != "" {
		t, err := sample.ParseTemplate(sv.Fmt, sample.Options{})
		if err != nil {
			return sample.Value{}, err
		}
		for _, e := range t.Exprs() {
			if !startupFetches[e.FetchName()] {
				return sample.Value{}, &sample.Error{Msg: "fetch " + e.FetchName() + " needs traffic: it has no value at start-up", Hint: "str(), int(), bool(), ipv4(), ipv6(), bin() or var(proc.NAME)"}
			}
		}
		out, _ := t.Append(nil, &c, nil)
		var v sample.Value
		v.SetStr(out)
		return v, nil
	}
	e, err := sample.Parse(sv.Expr, sample.Options{})
	if err != nil {
		return sample.Value{}, err
	}
	if !startupFetches[e.FetchName()] {
		return sample.Value{}, &sample.Error{Msg: "fetch " + e.FetchName() + " needs traffic: it has no value at start-up", Hint: "str(), int(), bool(), ipv4(), ipv6(), bin() or var(proc.NAME)"}
	}
	v, scratch, ok := e.Eval(&c, nil)
	if !ok {
		return sample.Value{}, &sample.Error{Msg: "the expression gives no value at start-up", Hint: "use fetches that need no traffic: str(), int(), bool(), ipv4(), var(proc.NAME)"}
	}
	if v.Type == sample.TypeStr || v.Type == sample.TypeBin {
		v.Str = append([]byte(nil), v.Str...)
		_ = scratch
	}
	return v, nil
}

// startupFetches need no traffic: the only ones a global set-var may use.
var startupFetches = map[string]bool{"str": true, "int": true, "bool": true, "ipv4": true, "ipv6": true, "bin": true, "var": true, "always_true": true, "always_false": true}
