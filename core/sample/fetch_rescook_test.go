package sample

import "testing"

// TestResCook: one cookie per Set-Cookie line, attributes and commas in
// Expires ignored, the last NAME wins, the first cookie without a name.
func TestResCook(t *testing.T) {
	c := testCtx()
	c.Res = headerList{
		{"Content-Type", "text/html"},
		{"Set-Cookie", "SID=abc; Path=/; Expires=Wed, 21 Oct 2026 07:28:00 GMT"},
		{"set-cookie", " lang = en ;HttpOnly"},
		{"Set-Cookie", "SID=def"},
		{"Set-Cookie", "n=42"},
		{"Set-Cookie", "broken"},
	}
	for _, tc := range []struct {
		expr, want string
		ok         bool
	}{
		{"res.cook(SID)", "def", true},
		{"scook(SID)", "def", true},
		{"res.cook(lang)", "en", true},
		{"res.cook", "abc", true},
		{"res.cook(Path)", "", false},
		{"res.cook(sid)", "", false},
		{"res.cook_cnt(SID)", "2", true},
		{"res.cook_cnt", "4", true},
		{"res.cook_val(n)", "42", true},
		{"res.cook_val(SID)", "", false},
	} {
		got, ok := eval(t, c, tc.expr)
		if got != tc.want || ok != tc.ok {
			t.Errorf("%s = %q, %v; want %q, %v", tc.expr, got, ok, tc.want, tc.ok)
		}
	}
	c.Res = nil
	if _, ok := eval(t, c, "res.cook(SID)"); ok {
		t.Error("res.cook without a response found a cookie")
	}
}
