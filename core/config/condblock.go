package config

import (
	"strings"

	"github.com/varde-lb/varde/core/diag"
)

// Conditional blocks (.if/.elif/.else/.endif) and the message directives
// (.diag/.notice/.warning/.alert), as HAProxy 2.6's readcfgfile() handles
// them: directives are lexed like any line (so "${VAR}" works in
// conditions), .if/.elif/.else/.endif are honoured even inside a masked
// block (to keep the nesting), the others only where lines are used.

// maxNestedConds is HAProxy's MAXNESTEDCONDS.
const maxNestedConds = 128

// condState is the state of one .if level.
type condState uint8

const (
	condTake     condState = iota // this branch is used
	condDrop                      // condition false: a later .elif/.else may be taken
	condSkip                      // a branch was taken already, or the parent is masked
	condElseTake                  // in .else, used
	condElseDrop                  // in .else, masked
)

type condFrame struct {
	state condState
	pos   diag.Pos // of the .if, for "missing .endif"
}

// condBlocks is the .if stack of one file (HAProxy resets it per file).
type condBlocks struct {
	stack []condFrame
}

// masked reports whether lines are currently dropped.
func (c *condBlocks) masked() bool {
	if len(c.stack) == 0 {
		return false
	}
	s := c.stack[len(c.stack)-1].state
	return s != condTake && s != condElseTake
}

// finish reports every .if left open at the end of a file.
func (c *condBlocks) finish(d *diag.List) {
	for _, f := range c.stack {
		d.Errorf(f.pos, ".if", "add .endif before the end of the file (conditional blocks do not span files)", "non-terminated '.if' block")
	}
	c.stack = nil
}

// directive handles a line whose first word starts with '.'; it returns
// true when the line was consumed (a directive, or masked by a condition).
func (p *parser) directive(c *condBlocks, l Line) bool {
	kw := l.Keyword()
	switch kw {
	case ".if", ".elif":
		p.condIf(c, l, kw == ".elif")
		return true
	case ".else", ".endif":
		p.condElse(c, l, kw == ".endif")
		return true
	}
	if c.masked() {
		return true
	}
	if !strings.HasPrefix(kw, ".") {
		return false
	}
	p.message(l)
	return true
}

// condIf handles .if and .elif.
func (p *parser) condIf(c *condBlocks, l Line, elif bool) {
	kw := l.Keyword()
	if !elif {
		if len(c.stack) >= maxNestedConds-1 {
			p.d.Errorf(l.Pos, kw, "flatten the conditions", "too many nested '.if', max is %d", maxNestedConds)
			c.stack = append(c.stack, condFrame{state: condSkip, pos: l.Pos})
			return
		}
		if c.masked() {
			c.stack = append(c.stack, condFrame{state: condSkip, pos: l.Pos})
			return
		}
		c.stack = append(c.stack, condFrame{state: p.evalCond(l), pos: l.Pos})
		return
	}
	if len(c.stack) == 0 {
		p.d.Errorf(l.Pos, kw, "start the block with .if COND", "lone '.elif' with no matching '.if'")
		return
	}
	top := &c.stack[len(c.stack)-1]
	switch top.state {
	case condElseTake, condElseDrop:
		p.d.Errorf(l.Pos, kw, "put .elif before .else", "'.elif' after '.else' is not permitted")
		top.state = condElseDrop
	case condTake, condSkip:
		top.state = condSkip
	default:
		top.state = p.evalCond(l)
	}
}

// evalCond evaluates the condition of a .if/.elif line. A condition that
// does not parse is reported and counts as false, so the block it guards
// adds no follow-on errors.
func (p *parser) evalCond(l Line) condState {
	expr := strings.Join(Texts(l.Args(1)), " ")
	ok, err := evalCondition(expr, p.env)
	if err != nil {
		p.d.Errorf(l.Pos, l.Keyword(), err.hint, "%s in '%s %s'", err.msg, l.Keyword(), expr)
		return condDrop
	}
	if ok {
		return condTake
	}
	return condDrop
}

// condElse handles .else and .endif.
func (p *parser) condElse(c *condBlocks, l Line, endif bool) {
	kw := l.Keyword()
	if len(l.Words) > 1 {
		p.d.Errorf(l.Words[1].Pos, kw, "put "+kw+" alone on its line", "unexpected argument %q for '%s'", l.Words[1].Text, kw)
	}
	if len(c.stack) == 0 {
		p.d.Errorf(l.Pos, kw, "remove it, or add the .if it belongs to", "lone '%s' with no matching '.if'", kw)
		return
	}
	top := &c.stack[len(c.stack)-1]
	if endif {
		c.stack = c.stack[:len(c.stack)-1]
		return
	}
	switch top.state {
	case condElseTake, condElseDrop:
		p.d.Errorf(l.Pos, kw, "one .else per .if", "'.else' after '.else' is not permitted")
		top.state = condElseDrop
	case condDrop:
		top.state = condElseTake
	default:
		top.state = condElseDrop
	}
}

// message handles .diag, .notice, .warning, .alert and unknown directives.
func (p *parser) message(l Line) {
	kw := l.Keyword()
	switch kw {
	case ".diag", ".notice", ".warning", ".alert":
	default:
		p.d.Errorf(l.Pos, kw, "the directives are .if, .elif, .else, .endif, .diag, .notice, .warning and .alert", "unknown directive '%s'", kw)
		return
	}
	if len(l.Words) > 2 {
		p.d.Errorf(l.Words[2].Pos, kw, "use quotes if the message should contain spaces", "unexpected argument %q for '%s'", l.Words[2].Text, kw)
		return
	}
	msg := ""
	if len(l.Words) == 2 {
		msg = l.Words[1].Text
	}
	switch kw {
	case ".alert":
		p.d.Errorf(l.Pos, kw, "", "%s", msg)
	case ".warning":
		p.d.Warnf(l.Pos, kw, "", "%s", msg)
	case ".notice":
		p.d.Add(diag.Diagnostic{Pos: l.Pos, Severity: diag.Notice, Keyword: kw, Message: msg})
	}
	// .diag is only shown by haproxy -dD, which varde does not have.
}
