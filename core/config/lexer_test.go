package config

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/varde-lb/varde/core/diag"
)

func TestLex(t *testing.T) {
	env := func(k string) string {
		return map[string]string{"HOST": "10.0.0.1", "EMPTY": "", "LIST": "a  b"}[k]
	}
	tests := []struct {
		name     string
		in       string
		want     [][]string
		wantErrs int
	}{
		{"words", "  bind   *:80\tssl ", [][]string{{"bind", "*:80", "ssl"}}, 0},
		{"comment", "mode http # trailing\n# whole line\n", [][]string{{"mode", "http"}}, 0},
		{"hash in quotes", `x "a # b" 'c#d'`, [][]string{{"x", "a # b", "c#d"}}, 0},
		{"escaped space and hash", `stats realm Haproxy\ Statistics a\#b`, [][]string{{"stats", "realm", "Haproxy Statistics", "a#b"}}, 0},
		{"regex backslash kept", `acl x path_reg ^/a\.b\d+$`, [][]string{{"acl", "x", "path_reg", `^/a\.b\d+$`}}, 0},
		{"control escapes", `v a\r\nb\tc\x41`, [][]string{{"v", "a\r\nb\tcA"}}, 0},
		{"single quotes literal", `v '${HOST} \n'`, [][]string{{"v", `${HOST} \n`}}, 0},
		{"env in double quotes", `server s "${HOST}:80"`, [][]string{{"server", "s", "10.0.0.1:80"}}, 0},
		{"env unquoted is literal", `server s ${HOST}:80`, [][]string{{"server", "s", "${HOST}:80"}}, 0},
		{"single quote inside double quotes", `v "it's"`, [][]string{{"v", "it's"}}, 0},
		{"escaped dollar unquoted kept", `v a\$b`, [][]string{{"v", `a\$b`}}, 0},
		{"env default", `v "${EMPTY-dflt}"`, [][]string{{"v", "dflt"}}, 0},
		{"adjacent quoted parts", `v a"b c"'d'`, [][]string{{"v", "ab cd"}}, 0},
		{"empty quoted word", `v "" x`, [][]string{{"v", "", "x"}}, 0},
		{"crlf", "a b\r\nc\r\n", [][]string{{"a", "b"}, {"c"}}, 0},
		// A line with a lexing error is dropped whole, as HAProxy does.
		{"unterminated quote", "v \"abc\nw x", [][]string{{"w", "x"}}, 1},
		{"unterminated single quote", "v 'abc", nil, 1},
		{"bad hex", `v \xZZ`, nil, 1},
		{"short hex", `v \x4`, nil, 1},
		{"unterminated var", `v "${HOST"`, nil, 1},
		{"unterminated var with default", `v "${HOST-x"`, nil, 1},
		{"dollar without name", `v "a $ b"`, nil, 1},
		{"dollar digit", `v "$1"`, nil, 1},
		{"unknown pseudo-variable", `v "${.NOPE}"`, nil, 1},
		{"bad word expansion", `v "${LIST[x]}"`, nil, 1},
		{"dollar name without braces", `v "$HOST:80" "$HOST_X"`, [][]string{{"v", "10.0.0.1:80", ""}}, 0},
		{"word expansion", `v "${LIST[*]}" z`, [][]string{{"v", "a", "b", "z"}}, 0},
		{"word expansion joins neighbours", `v "x${LIST[*]}y"`, [][]string{{"v", "xa", "by"}}, 0},
		{"pseudo-variables", `v "${.LINE}" "${.FILE}" "${.SECTION}"`, [][]string{{"v", "1", "t.cfg", ""}}, 0},
		{"default keeps braces inside", `v "${NOPE-a}b}"`, [][]string{{"v", "ab}"}}, 0},
		{"CR ends the line", "v a\rb c", [][]string{{"v", "a"}}, 0},
		{"NUL ends the line", "v a\x00b c", [][]string{{"v", "a"}}, 0},
		{"vertical tab separates", "v a\vb", [][]string{{"v", "a", "b"}}, 0},
		{"too many words", "v" + strings.Repeat(" w", 64), nil, 1},
		{"escaped dollar", `v "\${HOST}"`, [][]string{{"v", "${HOST}"}}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := &diag.List{}
			lines := Lex("t.cfg", []byte(tt.in), env, d)
			var got [][]string
			for _, l := range lines {
				got = append(got, Texts(l.Words))
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("words (-want +got):\n%s", diff)
			}
			errs := 0
			for _, it := range d.Items() {
				if it.Severity == diag.Error {
					errs++
				}
			}
			if errs != tt.wantErrs {
				t.Errorf("errors = %d, want %d: %v", errs, tt.wantErrs, d.Items())
			}
		})
	}
}

func TestLexPositions(t *testing.T) {
	d := &diag.List{}
	lines := Lex("f.cfg", []byte("global\n\n  maxconn  \"10\"\n"), nil, d)
	if len(lines) != 2 {
		t.Fatalf("got %d lines", len(lines))
	}
	w := lines[1].Words
	want := []diag.Pos{{File: "f.cfg", Line: 3, Col: 3}, {File: "f.cfg", Line: 3, Col: 12}}
	for i, p := range want {
		if w[i].Pos != p {
			t.Errorf("word %d at %v, want %v", i, w[i].Pos, p)
		}
	}
	if !w[1].Quoted || w[0].Quoted {
		t.Errorf("Quoted flags wrong: %+v", w)
	}
}

func TestEmptyEnvWarns(t *testing.T) {
	d := &diag.List{}
	Lex("f.cfg", []byte(`v "${NOPE}"`), nil, d)
	if d.Len() != 1 || d.HasErrors() {
		t.Fatalf("want one warning, got %v", d.Items())
	}
}

// Outside double quotes ${VAR} stays literal (the lexer only flags it);
// the parser warns, except in addresses, which HAProxy expands anyway.
func TestUnquotedVarWarns(t *testing.T) {
	d := &diag.List{}
	lines := Lex("f.cfg", []byte(`server s ${HOST}:80`), func(string) string { return "x" }, d)
	if w := lines[0].Words[2]; w.Text != "${HOST}:80" || !w.BareVar || d.Len() != 0 {
		t.Fatalf("got %+v, diagnostics %v", w, d.Items())
	}
	d = &diag.List{}
	Parse("f.cfg", []byte("frontend f\n    monitor-uri /${HOST}\n"), func(string) string { return "x" }, d)
	var warns []diag.Diagnostic
	for _, it := range d.Items() {
		if strings.Contains(it.Message, "kept literally") {
			warns = append(warns, it)
		}
	}
	if len(warns) != 1 || warns[0].Severity != diag.Warning || warns[0].Pos.Col != 17 || !strings.Contains(warns[0].Hint, `"${VAR}"`) {
		t.Fatalf("want one warning at col 17, got %v", d.Items())
	}
}
