package admin_test

import (
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/admin"
	"github.com/varde-lb/varde/core/listen"
	"github.com/varde-lb/varde/core/stats"
)

var emptySource = stats.SourceFunc(func() stats.Snapshot { return stats.Snapshot{} })

// _getsocks hands the process's listeners over only on a unix socket with
// expose-fd listeners; elsewhere the connection closes without a word and
// the receiver says what is missing.
func TestGetSocks(t *testing.T) {
	var inv listen.Inventory
	l, err := inv.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for _, tc := range []struct {
		name   string
		expose bool
		want   int
		err    string
	}{
		{"exposed", true, 1, ""},
		{"not exposed", false, 0, "expose-fd listeners"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "admin.sock")
			srv := admin.New(admin.Config{Path: path, Level: admin.LevelUser, ExposeFD: tc.expose, Sockets: &inv}, admin.Runtime{Source: emptySource}, nil)
			if err := srv.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			got, err := listen.Fetch(path, 5*time.Second)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || len(got) != tc.want {
				t.Fatalf("got %d sockets, %v", len(got), err)
			}
			got[0].File.Close()
		})
	}
}

// Outside a unix socket connection the command says where it works.
func TestGetSocksThroughExec(t *testing.T) {
	srv := admin.New(admin.Config{ExposeFD: true}, admin.Runtime{Source: emptySource}, nil)
	if out := srv.Exec("_getsocks", admin.LevelAdmin); !strings.Contains(out, "only on a unix stats socket") {
		t.Fatalf("%q", out)
	}
}

// A successor binds the same stats socket path while this process still
// serves: the path always answers, and the predecessor's exit does not
// remove its successor's socket.
func TestStatsSocketHandedToSuccessor(t *testing.T) {
	path := filepath.Join(t.TempDir(), "admin.sock")
	start := func() *admin.Server {
		s := admin.New(admin.Config{Path: path, Level: admin.LevelUser}, admin.Runtime{Source: emptySource}, nil)
		if err := s.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		return s
	}
	old := start()
	succ := start()
	defer succ.Close()
	old.Close()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("the successor's socket was removed: %v", err)
	}
	c, err := net.DialTimeout("unix", path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "help\n")
	if b, _ := io.ReadAll(c); !strings.Contains(string(b), "show info") {
		t.Fatalf("answer %q", b)
	}
	succ.Close()
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatal("the last owner did not remove its socket")
	}
}
