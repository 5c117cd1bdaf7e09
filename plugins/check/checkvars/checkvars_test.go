package checkvars

import (
	"testing"

	"github.com/varde-lb/varde/core/health"
	"github.com/varde-lb/varde/core/sample"
)

// TestRunOrderAndLifetime: lines run in order with their conditions, a
// check run starts with no check./sess. variables, and check. names
// nothing outside a check.
func TestRunOrderAndLifetime(t *testing.T) {
	lines := []health.CheckVar{
		{Name: "check.a", Expr: "str(one)"},
		{Name: "check.a", Conds: []string{"ifnotexists"}, Expr: "str(two)"},
		{Name: "sess.b", Fmt: "%[var(check.a)]-x"},
		{Name: "check.c", Expr: "int(5)"},
		{Name: "check.c", Unset: true},
	}
	tmpl, err := sample.ParseTemplate("%[var(check.a)]/%[var(sess.b)]/[%[var(check.c)]]", sample.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for round := 0; round < 2; round++ {
		run := NewRun()
		if got := run.Render(tmpl); got != "//[]" {
			t.Fatalf("round %d: a new run sees %q", round, got)
		}
		for _, l := range lines {
			v, err := Compile(l)
			if err != nil {
				t.Fatal(err)
			}
			run.Do(v)
		}
		if got := run.Render(tmpl); got != "one/one-x/[]" {
			t.Errorf("round %d: %q, want one/one-x/[]", round, got)
		}
		run.Close()
	}
	var outside sample.Vars
	r, _ := sample.ParseVarName("check.a")
	if outside.SetRef(r, sample.Value{Type: sample.TypeInt, Int: 1}, 0) {
		t.Error("check. variable set outside a check")
	}
	if _, err := Compile(health.CheckVar{Name: "bad", Expr: "str(x)"}); err == nil {
		t.Error("a bad name compiled")
	}
}
