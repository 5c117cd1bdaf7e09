package config

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/diag"
	"github.com/varde-lb/varde/core/testenv"
)

// TestLexMatchesHAProxy runs real HAProxy with words that exercise quoting,
// escaping and ${VAR} expansion as response header values, reads back what
// HAProxy made of each word, and compares it with varde's lexer on the same
// line.
func TestLexMatchesHAProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("starts haproxy")
	}
	haproxy := testenv.LookTool(t, "haproxy", "haproxy")
	words := []string{
		`plain`,
		`a\ b`,
		`"a b"`,
		`'a b'`,
		`"a#b"`,
		`'a#b'`,
		`a\#b`,
		`a\.b`,
		`a\\b`,
		`"q\"q"`,
		`a"b c"d`,
		`'${X1}'`,
		`"${X1}"`,
		`${X1}`,
		`x${X1}y`,
		`"${UNSET_VARDE_VAR-dflt}"`,
		`\x41\x42`,
		`a\$b`,
		`"it's"`,
		`'say "hi"'`,
		`"a\$b"`,
		`"a\'b"`,
		`a\'b`,
		`'a\b'`,
		`"\x41"`,
		`"t\tt"`,
		`"$X1"`,
		`"$X1-x"`,
		`"${X1}x"`,
		`"${X1-dflt}"`,
		`'$X1'`,
		`$X1`,
	}
	port := testenv.FreePort(t)
	var b strings.Builder
	b.WriteString("global\n    setenv X1 hello-env\n")
	b.WriteString("defaults\n    mode http\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n")
	fmt.Fprintf(&b, "frontend f\n    bind 127.0.0.1:%d\n", port)
	b.WriteString("    http-request return status 200\n")
	for i, w := range words {
		fmt.Fprintf(&b, "    http-after-response set-header X-W%d %s\n", i, w)
	}
	cfg := filepath.Join(t.TempDir(), "lex.cfg")
	if err := os.WriteFile(cfg, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	// haproxy -c first, so a word HAProxy refuses fails with its reason.
	if out, err := exec.Command(haproxy, "-c", "-f", cfg).CombinedOutput(); err != nil {
		t.Fatalf("haproxy -c: %v\n%s", err, out)
	}
	_, logPath := testenv.Start(t, haproxy, "-db", "-f", cfg)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	testenv.WaitTCP(t, addr, 20*time.Second)
	resp, err := http.Get("http://" + addr + "/")
	if err != nil {
		out, _ := os.ReadFile(logPath)
		t.Fatalf("GET: %v\nhaproxy log:\n%s", err, out)
	}
	resp.Body.Close()

	env := func(k string) string {
		if k == "X1" {
			return "hello-env"
		}
		return ""
	}
	for i, w := range words {
		d := &diag.List{}
		lines := Lex("t.cfg", []byte("x "+w), env, d)
		if len(lines) != 1 || len(lines[0].Words) != 2 {
			t.Errorf("word %s: varde split it into %v", w, lines)
			continue
		}
		got := lines[0].Words[1].Text
		want := resp.Header.Get(fmt.Sprintf("X-W%d", i))
		if got != want {
			t.Errorf("word %s: varde reads %q, haproxy %q", w, got, want)
		}
	}
}
