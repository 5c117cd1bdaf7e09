package diag

import (
	"bytes"
	"strings"
	"testing"
)

func TestGroups(t *testing.T) {
	var l List
	for _, line := range []int{12, 13, 15} {
		l.Errorf(Pos{File: "x.cfg", Line: line}, "option", "fix it", "same problem")
	}
	l.Errorf(Pos{File: "x.cfg", Line: 14}, "option", "fix it", "another problem")
	l.Warnf(Pos{File: "x.cfg", Line: 16}, "option", "fix it", "same problem") // a warning is not the same
	l.Errorf(Pos{File: "y.cfg", Line: 1}, "option", "fix it", "same problem") // nor is another file
	var b bytes.Buffer
	l.Write(&b, false)
	want := strings.Join([]string{
		"x.cfg:12: error: option: same problem (hint: fix it) (and 2 more like it: lines 13, 15)",
		"x.cfg:14: error: option: another problem (hint: fix it)",
		"x.cfg:16: warning: option: same problem (hint: fix it)",
		"y.cfg:1: error: option: same problem (hint: fix it)",
	}, "\n") + "\n"
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
	if got := l.Err().Error(); !strings.Contains(got, "(and 2 more like it: lines 13, 15)") || strings.Contains(got, "warning") {
		t.Errorf("Err() = %q", got)
	}
}

func TestGroupListsAtMostTenLines(t *testing.T) {
	var l List
	for line := 1; line <= 15; line++ {
		l.Errorf(Pos{File: "x.cfg", Line: line}, "k", "", "m")
	}
	g := l.Groups()
	if len(g) != 1 || len(g[0].More) != 14 {
		t.Fatalf("groups %+v", g)
	}
	if s := g[0].String(); !strings.HasSuffix(s, "(and 14 more like it: lines 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, ...)") {
		t.Errorf("got %q", s)
	}
}

func TestNoticeIsNotAProblem(t *testing.T) {
	var l List
	l.Add(Diagnostic{Pos: Pos{File: "x.cfg", Line: 1}, Severity: Notice, Keyword: ".notice", Message: "hello"})
	if l.HasErrors() {
		t.Error("a notice is an error")
	}
	var b bytes.Buffer
	l.Write(&b, true)
	if b.Len() != 0 {
		t.Errorf("-q printed a notice: %q", b.String())
	}
	l.Write(&b, false)
	if b.String() != "x.cfg:1: notice: .notice: hello\n" {
		t.Errorf("got %q", b.String())
	}
}
