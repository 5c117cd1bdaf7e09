package listen

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
)

func propsOf(t *testing.T, l net.Listener) Props {
	t.Helper()
	f, err := l.(interface{ File() (*os.File, error) }).File()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ap, _ := addrPortOf(l.Addr())
	return readProps(f, ap)
}

// TestListenOptsSetsTheKernelOptions: each bind option is on the socket
// as the kernel reports it, and it accepts what HAProxy's would.
func TestListenOptsSetsTheKernelOptions(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("SO_BINDTODEVICE and IP_TRANSPARENT need root")
	}
	for _, tc := range []struct {
		addr string
		o    Opts
		want Props
		v4ok bool // an IPv4 client reaches it through 127.0.0.1
	}{
		{"[::]:0", Opts{V6Only: true}, Props{V6Only: true}, false},
		{"[::]:0", Opts{Device: "lo"}, Props{Device: "lo"}, true},
		{"127.0.0.1:0", Opts{Device: "lo"}, Props{Device: "lo"}, true},
		{"127.0.0.1:0", Opts{Transparent: true}, Props{Transparent: true}, true},
		{"[::1]:0", Opts{Transparent: true, V6Only: true}, Props{Transparent: true, V6Only: true}, false},
	} {
		var inv Inventory
		l, err := inv.ListenOpts("tcp", tc.addr, tc.o)
		if err != nil {
			t.Fatalf("%s %+v: %v", tc.addr, tc.o, err)
		}
		if got := propsOf(t, l); got != tc.want {
			t.Errorf("%s %+v: kernel says %+v, want %+v", tc.addr, tc.o, got, tc.want)
		}
		port := l.Addr().(*net.TCPAddr).Port
		c, err := net.Dial("tcp4", netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port)).String())
		if c != nil {
			c.Close()
		}
		if (err == nil) != tc.v4ok {
			t.Errorf("%s %+v: IPv4 client: %v, want reachable %v", tc.addr, tc.o, err, tc.v4ok)
		}
		l.Close()
	}
	var inv Inventory
	if _, err := inv.ListenOpts("tcp", "127.0.0.1:0", Opts{Device: "nosuchdev0"}); err == nil || !errors.Is(err, syscall.ENODEV) {
		t.Errorf("unknown interface: %v, want ENODEV", err)
	}
}

// TestListenOptsKeepsMatchingSocketsOnly: across a reload, a bind with
// options takes back the kept socket with the same options, and a plain
// bind never takes it.
func TestListenOptsKeepsMatchingSocketsOnly(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("SO_BINDTODEVICE needs root")
	}
	var inv Inventory
	o := Opts{Device: "lo"}
	l, err := inv.ListenOpts("tcp", "127.0.0.1:0", o)
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if err := inv.Offer(l); err != nil {
		t.Fatal(err)
	}
	l.Close()
	if _, err := inv.Listen("tcp", addr); err == nil {
		t.Fatal("a plain bind took (or rebound beside) the interface-bound socket")
	}
	l2, err := inv.ListenOpts("tcp", addr, Opts{Device: "lo", Transparent: true})
	if err == nil {
		l2.Close()
		t.Fatal("a bind with other options took the kept socket")
	}
	l3, err := inv.ListenOpts("tcp", addr, o)
	if err != nil {
		t.Fatalf("same options: %v", err)
	}
	defer l3.Close()
	if inv.Len() != 0 {
		t.Errorf("kept socket not taken: %d left", inv.Len())
	}
	if got := propsOf(t, l3); got.Device != "lo" {
		t.Errorf("taken socket: %+v", got)
	}
}

// TestTransparentWithoutCapability: without CAP_NET_ADMIN the bind
// fails, naming the capability (run as nobody through setpriv).
func TestTransparentWithoutCapability(t *testing.T) {
	if os.Getenv("VARDE_SOCKOPT_CHILD") == "1" {
		var inv Inventory
		_, err := inv.ListenOpts("tcp", "127.0.0.1:0", Opts{Transparent: true})
		if err == nil {
			os.Stdout.WriteString("no error\n")
			os.Exit(3)
		}
		os.Stdout.WriteString(err.Error() + "\n")
		os.Exit(0)
	}
	setpriv, err := exec.LookPath("setpriv")
	if err != nil || os.Geteuid() != 0 {
		t.Skip("needs root and setpriv")
	}
	exe, _ := os.Executable()
	cmd := exec.Command(setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", exe, "-test.run=^TestTransparentWithoutCapability$")
	cmd.Env = append(os.Environ(), "VARDE_SOCKOPT_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Skipf("child could not run as nobody (%v): %s", err, out)
	}
	if !strings.Contains(string(out), "CAP_NET_ADMIN") {
		t.Errorf("error without the capability: %s", out)
	}
}
