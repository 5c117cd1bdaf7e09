package config

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/varde-lb/varde/core/diag"
)

func TestLex(t *testing.T) {
	env := func(k string) string {
		return map[string]string{"HOST": "10.0.0.1", "EMPTY": ""}[k]
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
		{"unterminated quote", `v "abc`, [][]string{{"v", "abc"}}, 1},
		{"bad hex", `v \xZZ`, [][]string{{"v", `\xZZ`}}, 1},
		{"unterminated var", `v "${HOST"`, [][]string{{"v", "${HOST"}}, 1},
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

func TestUnquotedVarWarns(t *testing.T) {
	d := &diag.List{}
	lines := Lex("f.cfg", []byte(`server s ${HOST}:80`), func(string) string { return "x" }, d)
	if got := lines[0].Words[2].Text; got != "${HOST}:80" {
		t.Errorf("got %q", got)
	}
	items := d.Items()
	if len(items) != 1 || items[0].Severity != diag.Warning || items[0].Pos.Col != 10 || !strings.Contains(items[0].Hint, `"${VAR}"`) {
		t.Fatalf("want one warning at col 10, got %v", items)
	}
}
