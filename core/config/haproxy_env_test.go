package config

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/varde-lb/varde/core/diag"
)

// Addresses go through HAProxy's env_expand() after the lexer, so $VAR
// and ${VAR} work there even unquoted (and inside single quotes); other
// words keep an unquoted ${VAR} literally.
func TestAddressExpansion(t *testing.T) {
	env := map[string]string{"ADDR": "127.0.0.1", "HOST": "127.0.0.2", "SYSLOG": "127.0.0.3"}
	src := `global
    log ${SYSLOG}:514 local0
defaults
    mode http
    timeout connect 1s
    timeout client 1s
    timeout server 1s
frontend f
    bind ${ADDR}:18081
    bind "${ADDR}:18082"
    bind $ADDR:18083
    bind '${ADDR}':18084
    default_backend b
backend b
    server s1 ${HOST}:80
    server s2 $HOST:81
    server s3 "${HOST}:82"
`
	d := &diag.List{}
	c := Parse("e.cfg", []byte(src), func(k string) string { return env[k] }, d)
	var binds, servers []string
	for _, b := range c.Frontends[0].Binds {
		for _, a := range b.Addrs {
			binds = append(binds, a.Raw)
		}
	}
	for _, s := range c.Backends[0].Servers {
		servers = append(servers, s.Address.Raw)
	}
	wantBinds := "127.0.0.1:18081 127.0.0.1:18082 127.0.0.1:18083 127.0.0.1:18084"
	wantServers := "127.0.0.2:80 127.0.0.2:81 127.0.0.2:82"
	if got := strings.Join(binds, " "); got != wantBinds {
		t.Errorf("binds %q, want %q", got, wantBinds)
	}
	if got := strings.Join(servers, " "); got != wantServers {
		t.Errorf("servers %q, want %q", got, wantServers)
	}
	if got := c.Global.Logs[0].Target; !strings.Contains(fmt.Sprint(got), "127.0.0.3") {
		t.Errorf("log target %+v, want 127.0.0.3:514", got)
	}
	haproxy, err := exec.LookPath("haproxy")
	if err != nil {
		t.Skip("haproxy binary not installed: expansion checked against the table only")
	}
	p := filepath.Join(t.TempDir(), "e.cfg")
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(haproxy, "-c", "-f", p)
	cmd.Env = os.Environ()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("haproxy -c refuses what varde expands: %v\n%s", err, out)
	}
}

func TestEnvExpand(t *testing.T) {
	env := func(k string) string { return map[string]string{"A": "x", "A_B": "y"}[k] }
	for in, want := range map[string]string{
		"$A:1": "x:1", "${A}:1": "x:1", "${A_B}": "y", "$A_B": "y", "$A-B": "x-B", "${A-d}": "x-d}",
		"$": "", "a$": "a", "${": "", "${A": "x", "$NOPE:1": ":1", "$$A": "x", "no dollar": "no dollar",
	} {
		if got := envExpand(in, env); got != want {
			t.Errorf("envExpand(%q) = %q, want %q", in, got, want)
		}
	}
}
