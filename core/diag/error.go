package diag

import (
	"errors"
	"strconv"
	"strings"
)

// Located is an error located in a configuration file. Code that turns the
// configuration into running parts returns it so that `varde check` and
// `varde run` print the same FILE:LINE: error: KEYWORD: message (hint).
type Located struct {
	Pos     Pos
	Keyword string
	Hint    string
	Err     error
}

func (e *Located) Error() string {
	return Diagnostic{Pos: e.Pos, Severity: Error, Keyword: e.Keyword, Message: e.Err.Error(), Hint: e.Hint}.String()
}

func (e *Located) Unwrap() error { return e.Err }

// At locates err at pos.
func At(pos Pos, keyword, hint string, err error) error {
	if err == nil {
		return nil
	}
	return &Located{Pos: pos, Keyword: keyword, Hint: hint, Err: err}
}

// Locate turns err into a diagnostic: a *Located keeps its own place; an
// error whose text starts with "FILE:LINE: " (older code wraps errors that
// way with the Pos of the line) gets that place; anything else is put at
// fallback with keyword.
func Locate(err error, fallback Pos, keyword, hint string) Diagnostic {
	var le *Located
	if errors.As(err, &le) {
		return Diagnostic{Pos: le.Pos, Severity: Error, Keyword: le.Keyword, Message: le.Err.Error(), Hint: le.Hint}
	}
	msg := err.Error()
	pos := fallback
	if p, rest, ok := cutPos(msg); ok {
		pos, msg = p, rest
	}
	if keyword != "" {
		msg = strings.TrimPrefix(msg, keyword+": ") // "log-format: log-format: ..." reads badly
	}
	return Diagnostic{Pos: pos, Severity: Error, Keyword: keyword, Message: msg, Hint: hint}
}

// cutPos splits a leading "FILE:LINE: " off msg. FILE holds no blank and
// LINE is a number, so "proxy: backend b: ..." is not taken for a place.
func cutPos(msg string) (Pos, string, bool) {
	end := strings.Index(msg, ": ")
	if end < 0 {
		return Pos{}, msg, false
	}
	head := msg[:end]
	colon := strings.LastIndexByte(head, ':')
	if colon <= 0 || strings.ContainsAny(head, " \t") {
		return Pos{}, msg, false
	}
	n, err := strconv.Atoi(head[colon+1:])
	if err != nil || n <= 0 {
		return Pos{}, msg, false
	}
	return Pos{File: head[:colon], Line: n}, msg[end+2:], true
}
