package admin

import (
	"errors"
	"fmt"
	"strings"

	"github.com/varde-lb/varde/core/sample"
)

// Process-wide variables on the CLI, as HAProxy 2.6: `get var proc.NAME`
// and, in experimental mode (`experimental-mode on; set var ...`), `set var
// proc.NAME [expr] EXPR`. The variables are core/sample's proc. scope, read
// by var(proc.NAME) in ACLs and by lua-load scripts (txn:get_var): a
// maintenance flag or a rate a script reads can be changed without a
// reload.

// constFetches are the fetches `set var` can evaluate: there is no
// transaction on the CLI, so only constants have a value (HAProxy refuses
// the others the same way).
var constFetches = map[string]bool{"str": true, "int": true, "bool": true, "ipv4": true, "ipv6": true, "bin": true}

// parseVar reads get var NAME | set var NAME [expr] EXPR.
func parseVar(w []string) (Command, error) {
	if w[0] == "get" {
		if len(w) != 3 {
			return Command{}, errors.New("Missing process-wide variable identifier.")
		}
		return Command{Op: OpGetVar, Key: w[2]}, nil
	}
	if len(w) < 3 {
		return Command{}, errors.New("Missing variable name.")
	}
	name, rest := w[2], w[3:]
	if !sample.IsProcVar(name) || !sample.ValidVarName(name) {
		return Command{}, fmt.Errorf("'set var': cannot set variable '%s', only scope 'proc' is permitted here.", name)
	}
	if len(rest) > 0 && rest[0] == "expr" {
		rest = rest[1:]
	} else if len(rest) > 0 && rest[0] == "fmt" {
		return Command{}, errors.New("'set var': 'fmt' is not supported by varde; give a sample expression (str(on), int(1)).")
	}
	if len(rest) == 0 {
		return Command{}, errors.New("Missing either 'expr', 'fmt' or expression.")
	}
	if len(rest) > 1 {
		return Command{}, fmt.Errorf("'set var': arg type must be either 'expr' or 'fmt' but got '%s'.", rest[0])
	}
	return Command{Op: OpSetVar, Key: name, Value: rest[0]}, nil
}

// setVar evaluates the constant expression and stores the variable.
func (s *Server) setVar(cmd Command) string {
	// A run-time compile: a map converter reads only a file the running
	// configuration loaded, never the disk (docs/maps.md).
	o := sample.Options{Runtime: true}
	if s.rt.Engine != nil {
		o.PatRefs = s.rt.Engine.PatRefs()
	}
	e, err := sample.Parse(cmd.Value, o)
	if err != nil {
		return err.Error() + "\n"
	}
	if !constFetches[e.FetchName()] {
		return fmt.Sprintf("fetch method '%s' extracts information which is not available on the CLI (only str, int, bool, ipv4, ipv6, bin)\n", e.FetchName())
	}
	var c sample.Ctx
	v, _, ok := e.Eval(&c, nil)
	if !ok {
		return "The expression has no value.\n"
	}
	if !sample.SetProcVar(cmd.Key, v) {
		return "Too many process-wide variables.\n"
	}
	s.log.Info("admin: set var", "name", cmd.Key, "expr", cmd.Value)
	return ""
}

// getVar prints `proc.NAME: type=TYPE value=<VALUE>` as HAProxy does.
func getVar(name string) string {
	v, ok := sample.ProcVar(name)
	if !ok {
		return "Variable not found.\n"
	}
	typ := map[sample.Type]string{sample.TypeBool: "bool", sample.TypeInt: "sint", sample.TypeStr: "str", sample.TypeBin: "bin"}[v.Type]
	var val string
	switch v.Type {
	case sample.TypeBool, sample.TypeInt:
		val = fmt.Sprint(v.Int)
	case sample.TypeAddr:
		typ, val = "ipv4", v.Addr.String()
		if v.Addr.Is6() {
			typ = "ipv6"
		}
	default:
		val = strings.ToValidUTF8(string(v.Str), "?")
	}
	return fmt.Sprintf("%s: type=%s value=<%s>\n", name, typ, val)
}

// modeCommand recognises `experimental-mode [on|off]` (no argument: on, as
// HAProxy's toggle from off).
func modeCommand(cmd string) (on, ok bool) {
	w := strings.Fields(cmd)
	if len(w) == 0 || w[0] != "experimental-mode" || len(w) > 2 {
		return false, false
	}
	return len(w) == 1 || w[1] == "on", true
}

// setExperimental switches the session's experimental mode: admin level
// only, as in HAProxy.
func (s *Server) setExperimental(mode *bool, on bool) string {
	if s.cfg.Level < LevelAdmin {
		return "Permission denied\n\n"
	}
	*mode = on
	return "\n"
}
