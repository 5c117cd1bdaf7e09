package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/testenv"
)

// TestWASMPolicyEndToEnd: the canary policy built from Go
// (policies/wasm/canary, as `make policies` builds it) runs in a real varde
// process from `policy canary.wasm`: X-Canary: always reaches the canary
// server, the admin socket's `set policy var` changes the split at run
// time, and `show policies` counts the calls.
func TestWASMPolicyEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a WASM module and starts varde")
	}
	dir := t.TempDir()
	build := exec.Command("go", "build", "-trimpath", "-buildmode=c-shared", "-o", filepath.Join(dir, "canary.wasm"), "./canary")
	build.Dir = "../../policies/wasm"
	build.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building canary.wasm: %v\n%s", err, out)
	}
	name := func(n string) string {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, n) }))
		t.Cleanup(srv.Close)
		return strings.TrimPrefix(srv.URL, "http://")
	}
	port, sock := testenv.FreePort(t), filepath.Join(dir, "admin.sock")
	cfg := fmt.Sprintf("global\n    stats socket %s level admin\ndefaults\n    mode http\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n"+
		"frontend f\n    bind 127.0.0.1:%d\n    default_backend app\nbackend app\n    policy canary.wasm\n"+
		"    server web1 %s\n    server canary1 %s\n", sock, port, name("web1"), name("canary1"))
	path := filepath.Join(dir, "haproxy.cfg")
	os.WriteFile(path, []byte(cfg), 0o644)
	testenv.Start(t, testenv.VardeBinary(t), "run", "-f", path)
	// Compiling the module under -race on a loaded machine has taken over
	// 10 s; the wait ends as soon as varde listens.
	testenv.WaitTCP(t, fmt.Sprintf("127.0.0.1:%d", port), 45*time.Second)

	get := func(hdr ...string) string {
		t.Helper()
		req, _ := http.NewRequest("GET", fmt.Sprintf("http://127.0.0.1:%d/", port), nil)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	for i := 0; i < 3; i++ {
		if got := get("X-Canary", "always"); got != "canary1" {
			t.Fatalf("X-Canary: always reached %q, want canary1", got)
		}
		if got := get("X-Canary", "never"); got != "web1" {
			t.Fatalf("X-Canary: never reached %q, want web1", got)
		}
	}
	adminCmd(t, sock, "set policy var canary.wasm percent 100\n")
	for i := 0; i < 5; i++ {
		if got := get("Cookie", fmt.Sprintf("uid=user%d", i)); got != "canary1" {
			t.Fatalf("percent 100: user%d reached %q", i, got)
		}
	}
	if out := adminCmd(t, sock, "show policies\n"); !strings.Contains(out, "canary.wasm") || !strings.Contains(out, "choose_server") {
		t.Errorf("show policies: %q", out)
	}
}
