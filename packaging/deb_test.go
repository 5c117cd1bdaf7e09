package packaging

import (
	"bufio"
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The package is built once per test binary (gzip: xz takes longer and
// changes nothing the tests look at) and extracted once; every test reads
// that build.
var (
	buildOnce sync.Once
	workDir   string
	debFile   string
	extracted string // dpkg-deb -x of debFile
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if workDir != "" {
		os.RemoveAll(workDir)
	}
	os.Exit(code)
}

// builtDeb returns the package's path and its extracted tree.
func builtDeb(t *testing.T) (deb, tree string) {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: builds the Debian package")
	}
	for _, tool := range []string{"dpkg-deb", "dpkg", "git"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (not a Debian machine)", tool)
		}
	}
	buildOnce.Do(func() {
		if workDir, buildErr = os.MkdirTemp("", "varde-deb-"); buildErr != nil {
			return
		}
		cmd := exec.Command("packaging/mkdeb", filepath.Join(workDir, "out"))
		cmd.Dir = ".."
		cmd.Env = append(os.Environ(), "DEB_COMPRESS=gzip")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			buildErr = fmt.Errorf("packaging/mkdeb: %v\n%s", err, stderr.String())
			return
		}
		debFile = strings.TrimSpace(string(out))
		extracted = filepath.Join(workDir, "x")
		if out, err := exec.Command("dpkg-deb", "-x", debFile, extracted).CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("dpkg-deb -x: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return debFile, extracted
}

// run runs a command and returns its standard output; any failure is fatal.
func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s%s", name, strings.Join(args, " "), err, out, stderr.String())
	}
	return string(out)
}

// commandsOf lists the commands `varde help` prints.
func commandsOf(t *testing.T, bin string) []string {
	t.Helper()
	var cmds []string
	in := false
	for _, l := range strings.Split(run(t, bin, "help"), "\n") {
		if strings.HasPrefix(l, "Commands:") {
			in = true
		} else if f := strings.Fields(l); in && len(f) > 1 && strings.HasPrefix(l, "  ") {
			cmds = append(cmds, f[0])
		}
	}
	if len(cmds) < 3 {
		t.Fatalf("`varde help` lists %d commands: %q", len(cmds), cmds)
	}
	return cmds
}

func TestDebControl(t *testing.T) {
	deb, _ := builtDeb(t)
	want := map[string]*regexp.Regexp{
		"Package":        regexp.MustCompile(`^varde$`),
		"Version":        regexp.MustCompile(`^[0-9][A-Za-z0-9.+~]*$`), // native: no revision
		"Architecture":   regexp.MustCompile(`^amd64$`),
		"Depends":        regexp.MustCompile(`^passwd$`), // static binary: no libc6 (TestDebBinaryIsStatic)
		"Installed-Size": regexp.MustCompile(`^[1-9][0-9]{3,}$`),
		"Maintainer":     regexp.MustCompile(`^.+ <.+@.+>$`),
		"Description":    regexp.MustCompile(`^load balancer for haproxy.cfg and keepalived.conf users\n`),
	}
	for field, re := range want {
		got := strings.TrimSpace(run(t, "dpkg-deb", "-f", deb, field))
		if !re.MatchString(got) {
			t.Errorf("control %s = %q, want %v", field, got, re)
		}
	}
	if !strings.Contains(filepath.Base(deb), "_amd64.deb") || !strings.HasPrefix(filepath.Base(deb), "varde_") {
		t.Errorf("package file %s is not varde_VERSION_amd64.deb", deb)
	}
	ctrl := t.TempDir()
	run(t, "dpkg-deb", "-e", deb, ctrl)
	conffiles, err := os.ReadFile(filepath.Join(ctrl, "conffiles"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(conffiles), "/etc/default/varde\n/etc/varde/varde.cfg\n"; got != want {
		t.Errorf("conffiles = %q, want %q", got, want)
	}
	for _, script := range []string{"postinst", "prerm", "postrm"} {
		st, err := os.Stat(filepath.Join(ctrl, script))
		if err != nil || st.Mode().Perm() != 0o755 {
			t.Errorf("DEBIAN/%s: %v, mode %v; want an executable maintainer script", script, err, st)
			continue
		}
		if out, err := exec.Command("sh", "-n", filepath.Join(ctrl, script)).CombinedOutput(); err != nil {
			t.Errorf("sh -n %s: %v\n%s", script, err, out)
		}
	}
}

// expectedFiles is the package's file list with each file's mode;
// directories are 0755 and everything belongs to root.
func expectedFiles(t *testing.T) map[string]string {
	files := map[string]string{
		"etc/default/varde":                           "-rw-r--r--",
		"etc/varde/varde.cfg":                         "-rw-r--r--",
		"lib/systemd/system/varde.service":            "-rw-r--r--",
		"usr/lib/tmpfiles.d/varde.conf":               "-rw-r--r--",
		"usr/sbin/varde":                              "-rwxr-xr-x",
		"usr/share/bash-completion/completions/varde": "-rw-r--r--",
		"usr/share/lintian/overrides/varde":           "-rw-r--r--",
		"usr/share/doc/varde/README.md":               "-rw-r--r--",
		"usr/share/doc/varde/changelog.gz":            "-rw-r--r--",
		"usr/share/doc/varde/copyright":               "-rw-r--r--",
		"usr/share/man/man1/varde.1.gz":               "-rw-r--r--",
		"usr/share/man/man5/varde.cfg.5.gz":           "-rw-r--r--",
	}
	docs, err := filepath.Glob("../docs/*.md")
	if err != nil || len(docs) == 0 {
		t.Fatalf("docs/*.md: %v", err)
	}
	for _, d := range docs {
		files["usr/share/doc/varde/docs/"+filepath.Base(d)] = "-rw-r--r--"
	}
	return files
}

func TestDebFileList(t *testing.T) {
	deb, _ := builtDeb(t)
	want := expectedFiles(t)
	got := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(run(t, "dpkg-deb", "-c", deb)), "\n") {
		f := strings.Fields(l) // perms owner size date time path
		if len(f) != 6 {
			t.Fatalf("dpkg-deb -c line %q", l)
		}
		path := strings.TrimPrefix(f[5], "./")
		if f[1] != "root/root" {
			t.Errorf("%s belongs to %s, want root/root", path, f[1])
		}
		if strings.HasSuffix(path, "/") || path == "" {
			if f[0] != "drwxr-xr-x" {
				t.Errorf("directory %s has mode %s", path, f[0])
			}
			continue
		}
		got[path] = f[0]
	}
	for path, mode := range want {
		if got[path] != mode {
			t.Errorf("%s: mode %q in the package, want %q", path, got[path], mode)
		}
	}
	for path := range got {
		if _, ok := want[path]; !ok {
			t.Errorf("%s is in the package but not in the expected list", path)
		}
	}
}

func TestDebBinaryIsStatic(t *testing.T) {
	_, tree := builtDeb(t)
	bin := filepath.Join(tree, "usr/sbin/varde")
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("usr/sbin/varde has an ELF interpreter: it is dynamically linked, so Depends needs libc6")
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Errorf("usr/sbin/varde needs %v", libs)
	}
	if out := run(t, bin, "version"); !strings.HasPrefix(out, "varde ") || strings.HasPrefix(out, "varde dev ") {
		t.Errorf("varde version = %q, want the build's version", out)
	}
}

// throwawayRoot is an empty system dpkg can install into: a status
// database, the account files useradd edits, and a stand-in entry for
// passwd (Depends), whose useradd the chrootless scripts take from the host.
func throwawayRoot(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("installing into a root and creating its varde user needs root")
	}
	root := t.TempDir()
	files := map[string]string{
		"var/lib/dpkg/status": "Package: passwd\nStatus: install ok installed\nPriority: required\n" +
			"Section: admin\nMaintainer: host <root@localhost>\nArchitecture: amd64\nVersion: 1:4.13\n" +
			"Description: stand-in for the host's useradd\n\n",
		"var/lib/dpkg/available":        "",
		"var/lib/dpkg/info/passwd.list": "",
		"etc/passwd":                    "root:x:0:0:root:/root:/bin/bash\n",
		"etc/group":                     "root:x:0:\nadm:x:4:\nssl-cert:x:110:\n",
		"etc/shadow":                    "root:*:19000:0:99999:7:::\n",
		"etc/gshadow":                   "root:*::\nadm:*::\nssl-cert:!::\n",
	}
	for _, d := range []string{"var/lib/dpkg/updates", "var/lib/dpkg/triggers", "var/lib/dpkg/info"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for name, body := range files {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(root, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// dpkgIn runs dpkg on the throwaway root; the maintainer scripts run
// outside it with DPKG_ROOT set (they honour it).
func dpkgIn(t *testing.T, root string, args ...string) string {
	t.Helper()
	all := append([]string{"--root=" + root, "--force-script-chrootless", "--force-unsafe-io"}, args...)
	cmd := exec.Command("dpkg", all...)
	cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive", "PATH=/usr/sbin:/usr/bin:/sbin:/bin")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("dpkg %s: %v\n%s", strings.Join(all, " "), err, out)
	}
	return string(out)
}

// repack makes the next version of the package from deb: Version gets
// suffix, and edit (if any) changes the extracted tree, as a new upstream
// release would.
func repack(t *testing.T, deb, suffix string, edit func(tree string)) string {
	t.Helper()
	tree := filepath.Join(t.TempDir(), "tree")
	run(t, "dpkg-deb", "-R", deb, tree)
	control := filepath.Join(tree, "DEBIAN/control")
	b, err := os.ReadFile(control)
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`(?m)^Version: (.*)$`)
	b = re.ReplaceAll(b, []byte("Version: ${1}"+suffix))
	if err := os.WriteFile(control, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(tree)
	}
	out := filepath.Join(t.TempDir(), "next.deb")
	run(t, "dpkg-deb", "--root-owner-group", "-Zgzip", "-z1", "--build", tree, out)
	return out
}

func appendTo(t *testing.T, path, text string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(text); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// passwdEntry returns NAME's fields in root's FILE (passwd or group).
func passwdEntry(t *testing.T, root, file, name string) []string {
	t.Helper()
	for _, l := range strings.Split(readFile(t, filepath.Join(root, "etc", file)), "\n") {
		if f := strings.Split(l, ":"); f[0] == name {
			return f
		}
	}
	return nil
}

func status(t *testing.T, root string) string {
	t.Helper()
	return strings.TrimSpace(run(t, "dpkg-query", "--admindir="+filepath.Join(root, "var/lib/dpkg"), "-W", "-f=${Status}", "varde"))
}

// TestDebInstallUpgradeRemovePurge installs the package in a throwaway
// root, changes its configuration as an admin would, then reinstalls,
// upgrades (with the shipped configuration unchanged and changed),
// removes and purges it, checking at each step what the maintainer
// scripts and dpkg did.
func TestDebInstallUpgradeRemovePurge(t *testing.T) {
	deb, _ := builtDeb(t)
	root := throwawayRoot(t)
	cfg := filepath.Join(root, "etc/varde/varde.cfg")
	dflt := filepath.Join(root, "etc/default/varde")
	logDir := filepath.Join(root, "var/log/varde")

	dpkgIn(t, root, "-i", deb)
	if s := status(t, root); s != "install ok installed" {
		t.Fatalf("after install: status %q", s)
	}
	user := passwdEntry(t, root, "passwd", "varde")
	group := passwdEntry(t, root, "group", "varde")
	if user == nil || group == nil {
		t.Fatalf("postinst created no varde user/group: %q %q", user, group)
	}
	if user[3] != group[2] || user[5] != "/nonexistent" || user[6] != "/usr/sbin/nologin" {
		t.Errorf("varde user %q: want group varde (%s), home /nonexistent, shell nologin", user, group[2])
	}
	if ssl := passwdEntry(t, root, "group", "ssl-cert"); ssl == nil || ssl[3] != "varde" {
		t.Errorf("varde is not in group ssl-cert (TLS keys): %q", ssl)
	}
	for _, d := range []string{"var/log/varde", "run/varde"} {
		st, err := os.Stat(filepath.Join(root, d))
		if err != nil || st.Mode().Perm() != 0o750 || ownerOf(st) != user[2]+":"+group[2] {
			t.Errorf("%s: %v; want a 0750 directory owned by varde (%s:%s)", d, errOrMode(st, err), user[2], group[2])
		}
	}
	if out := dpkgIn(t, root, "--verify", "varde"); out != "" {
		t.Errorf("dpkg --verify after install:\n%s", out)
	}

	// The admin's changes: a configuration, a deleted /etc/default/varde
	// (dpkg must not bring it back), a log directory made stricter.
	const mine = "\n# the admin's change\nlisten mine\n    bind 127.0.0.1:1\n"
	appendTo(t, cfg, mine)
	wantCfg := readFile(t, cfg)
	if err := os.Remove(dflt); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(logDir, 0o700); err != nil {
		t.Fatal(err)
	}
	groupFile := filepath.Join(root, "etc/group")
	groups := strings.Replace(readFile(t, groupFile), "ssl-cert:x:110:varde\n", "ssl-cert:x:110:\n", 1)
	if err := os.WriteFile(groupFile, []byte(groups), 0o644); err != nil {
		t.Fatal(err)
	}
	kept := func(step string) {
		t.Helper()
		if got := readFile(t, cfg); got != wantCfg {
			t.Errorf("%s: /etc/varde/varde.cfg changed:\n%s", step, got)
		}
		if _, err := os.Stat(dflt); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: the deleted /etc/default/varde came back (%v)", step, err)
		}
		if ssl := passwdEntry(t, root, "group", "ssl-cert"); ssl == nil || ssl[3] != "" {
			t.Errorf("%s: varde is back in group ssl-cert, which the admin took it out of: %q", step, ssl)
		}
		if st, err := os.Stat(logDir); err != nil || st.Mode().Perm() != 0o700 {
			t.Errorf("%s: /var/log/varde: the admin's mode 0700 was reset (%v)", step, errOrMode(st, err))
		}
	}

	dpkgIn(t, root, "-i", deb)
	kept("reinstall")
	next := repack(t, deb, "+1", nil)
	dpkgIn(t, root, "-i", next)
	kept("upgrade, same shipped configuration")
	if _, err := os.Stat(cfg + ".dpkg-dist"); err == nil {
		t.Error("an upgrade that did not change the shipped configuration left a .dpkg-dist")
	}
	const shipped = "\n# a new release's comment\n"
	changed := repack(t, deb, "+2", func(tree string) {
		appendTo(t, filepath.Join(tree, "etc/varde/varde.cfg"), shipped)
		md5 := run(t, "sh", "-c", "cd "+tree+" && md5sum etc/varde/varde.cfg")
		sums := readFile(t, filepath.Join(tree, "DEBIAN/md5sums"))
		sums = regexp.MustCompile(`(?m)^[0-9a-f]+  etc/varde/varde.cfg\n`).ReplaceAllString(sums, md5)
		if err := os.WriteFile(filepath.Join(tree, "DEBIAN/md5sums"), []byte(sums), 0o644); err != nil {
			t.Fatal(err)
		}
	})
	// Both changed: dpkg would ask; --force-confold is apt's usual answer.
	dpkgIn(t, root, "--force-confold", "-i", changed)
	kept("upgrade, shipped configuration changed")
	if dist := readFile(t, cfg+".dpkg-dist"); !strings.HasSuffix(dist, shipped) {
		t.Errorf("the new shipped configuration is not beside the admin's as .dpkg-dist:\n%s", dist)
	}
	if s := status(t, root); s != "install ok installed" {
		t.Fatalf("after upgrades: status %q", s)
	}

	dpkgIn(t, root, "--remove", "varde")
	if s := status(t, root); s != "deinstall ok config-files" {
		t.Errorf("after remove: status %q", s)
	}
	for _, gone := range []string{"usr/sbin/varde", "lib/systemd/system/varde.service"} {
		if _, err := os.Stat(filepath.Join(root, gone)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("after remove: %s is still there (%v)", gone, err)
		}
	}
	kept("remove")

	dpkgIn(t, root, "--purge", "varde")
	for _, gone := range []string{"etc/varde", "var/log/varde", "run/varde", "usr/sbin/varde"} {
		if _, err := os.Stat(filepath.Join(root, gone)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("after purge: %s is still there (%v)", gone, err)
		}
	}
	if passwdEntry(t, root, "passwd", "varde") == nil {
		t.Error("purge removed the varde user (files elsewhere may still be owned by it)")
	}
}

// TestDebUnitVerifies runs systemd-analyze verify on the packaged unit,
// with /usr/sbin/varde pointing at the packaged binary and MANPATH at the
// packaged man pages (verify runs `man` for Documentation=). Any output
// is a failure: verify exits 0 on an unknown key. The broken rows show
// that the check can fail.
func TestDebUnitVerifies(t *testing.T) {
	_, tree := builtDeb(t)
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		t.Skip("systemd-analyze not installed (.ci/install-deps installs it)")
	}
	unit := readFile(t, filepath.Join(tree, "lib/systemd/system/varde.service"))
	unit = strings.ReplaceAll(unit, "/usr/sbin/varde", filepath.Join(tree, "usr/sbin/varde"))
	for _, tc := range []struct {
		name   string
		edit   func(string) string
		wantOK bool
	}{
		{"packaged", func(s string) string { return s }, true},
		{"unknown key", func(s string) string { return strings.Replace(s, "Type=notify", "Tpye=notify", 1) }, false},
		{"missing binary", func(s string) string {
			return strings.Replace(s, "ExecStart="+filepath.Join(tree, "usr/sbin/varde"), "ExecStart=/nonexistent/varde", 1)
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "varde.service")
			if err := os.WriteFile(path, []byte(tc.edit(unit)), 0o644); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command("systemd-analyze", "verify", path)
			cmd.Env = append(os.Environ(), "MANPATH="+filepath.Join(tree, "usr/share/man"), "SYSTEMD_LOG_COLOR=0")
			out, err := cmd.CombinedOutput()
			ok := err == nil && len(bytes.TrimSpace(out)) == 0
			if ok != tc.wantOK {
				t.Errorf("systemd-analyze verify: err %v, output:\n%s\nwant clean = %v", err, out, tc.wantOK)
			}
		})
	}
	// The sandbox's score, as systemd rates it (0 best, 10 worst): a
	// regression guard for the hardening (2.4 when written).
	path := filepath.Join(t.TempDir(), "varde.service")
	if err := os.WriteFile(path, []byte(unit), 0o644); err != nil {
		t.Fatal(err)
	}
	out, _ := exec.Command("systemd-analyze", "security", "--offline=yes", path).CombinedOutput()
	m := regexp.MustCompile(`Overall exposure level for varde.service: ([0-9.]+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("systemd-analyze security printed no exposure level:\n%s", out)
	}
	var score float64
	fmt.Sscan(string(m[1]), &score)
	if score > 3.0 {
		t.Errorf("systemd-analyze security: exposure %.1f, want at most 3.0", score)
	}
}

// unitExec returns the unit's KEY= command lines, with $VAR words
// replaced as systemd does (a lone "$VAR" word splits at blanks) from the
// unit's Environment= and the packaged /etc/default/varde.
func unitExec(t *testing.T, tree, key string) [][]string {
	t.Helper()
	unit := readFile(t, filepath.Join(tree, "lib/systemd/system/varde.service"))
	env := map[string]string{}
	envLine := regexp.MustCompile(`"?([A-Z_]+)=([^"]*)"?`)
	var lines [][]string
	sc := bufio.NewScanner(strings.NewReader(unit))
	for sc.Scan() {
		l := sc.Text()
		if v, ok := strings.CutPrefix(l, "Environment="); ok {
			for _, m := range envLine.FindAllStringSubmatch(v, -1) {
				env[m[1]] = m[2]
			}
		}
		if v, ok := strings.CutPrefix(l, key+"="); ok {
			lines = append(lines, strings.Fields(v))
		}
	}
	// EnvironmentFile= overrides Environment=.
	fileLine := regexp.MustCompile(`^([A-Z_]+)="?([^"]*)"?$`)
	for _, l := range strings.Split(readFile(t, filepath.Join(tree, "etc/default/varde")), "\n") {
		if m := fileLine.FindStringSubmatch(l); m != nil {
			env[m[1]] = m[2]
		}
	}
	for i, words := range lines {
		var out []string
		for _, w := range words {
			if name, ok := strings.CutPrefix(w, "$"); ok && name != "MAINPID" {
				v, known := env[name]
				if !known {
					t.Fatalf("%s uses $%s, which neither Environment= nor /etc/default/varde sets", key, name)
				}
				out = append(out, strings.Fields(v)...)
				continue
			}
			out = append(out, w)
		}
		lines[i] = out
	}
	return lines
}

// inTree maps the command line's absolute paths into the extracted
// package; the configuration's /run/varde (created by systemd or
// tmpfiles on a real system) becomes a temporary directory.
func inTree(t *testing.T, tree string, argv []string) []string {
	t.Helper()
	run := t.TempDir()
	out := make([]string, len(argv))
	for i, a := range argv {
		out[i] = a
		if strings.HasPrefix(a, "/etc/") || strings.HasPrefix(a, "/usr/") {
			out[i] = filepath.Join(tree, a)
		}
		if strings.HasSuffix(a, ".cfg") {
			cfg := strings.ReplaceAll(readFile(t, out[i]), "/run/varde/", run+"/")
			out[i] = filepath.Join(run, filepath.Base(a))
			if err := os.WriteFile(out[i], []byte(cfg), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	return out
}

// TestDebUnitCommands runs the unit's own command lines against the
// packaged configuration: the check before start and reload passes, the
// ExecStart command starts and stops cleanly on SIGTERM, and the example
// frontend and backend in the shipped configuration, uncommented, pass
// the check too.
func TestDebUnitCommands(t *testing.T) {
	_, tree := builtDeb(t)
	pre := unitExec(t, tree, "ExecStartPre")
	start := unitExec(t, tree, "ExecStart")
	reload := unitExec(t, tree, "ExecReload")
	if len(pre) != 1 || len(start) != 1 || len(reload) != 2 {
		t.Fatalf("unit has %d ExecStartPre, %d ExecStart, %d ExecReload lines; want 1, 1, 2", len(pre), len(start), len(reload))
	}
	if strings.Join(reload[0], " ") != strings.Join(pre[0], " ") {
		t.Errorf("ExecReload checks %q, ExecStartPre %q: reload must run the same check", reload[0], pre[0])
	}
	if got := strings.Join(reload[1], " "); got != "/bin/kill -USR2 $MAINPID" {
		t.Errorf("second ExecReload = %q", got)
	}
	if got := strings.Join(pre[0], " "); got != "/usr/sbin/varde check -q -f /etc/varde/varde.cfg" {
		t.Errorf("ExecStartPre = %q", got)
	}
	check := inTree(t, tree, pre[0])
	if out, err := exec.Command(check[0], check[1:]...).CombinedOutput(); err != nil {
		t.Errorf("ExecStartPre %q: %v\n%s", check, err, out)
	}

	// The commented example, uncommented.
	cfg := readFile(t, filepath.Join(tree, "etc/varde/varde.cfg"))
	at := strings.Index(cfg, "#frontend web")
	if at < 0 {
		t.Fatal("the shipped configuration has no commented example frontend")
	}
	example := cfg[:at] + regexp.MustCompile(`(?m)^#`).ReplaceAllString(cfg[at:], "")
	dir := t.TempDir()
	example = strings.ReplaceAll(example, "/run/varde/", dir+"/")
	if err := os.WriteFile(filepath.Join(dir, "example.cfg"), []byte(example), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(check[0], "check", "-f", filepath.Join(dir, "example.cfg")).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "1 frontend, 1 backend") {
		t.Errorf("the shipped example, uncommented: %v\n%s", err, out)
	}

	runCmd := inTree(t, tree, start[0])
	if strings.Join(start[0], " ") != "/usr/sbin/varde run -f /etc/varde/varde.cfg" {
		t.Errorf("ExecStart = %q", start[0])
	}
	startAndStop(t, runCmd)
}

// startAndStop runs argv until it is ready (READY=1 on NOTIFY_SOCKET, as
// the unit's Type=notify waits for: without it systemd would kill the
// service after TimeoutStartSec), then stops it with SIGTERM, as systemd
// does, and wants exit status 0.
func startAndStop(t *testing.T, argv []string) {
	t.Helper()
	notify := filepath.Join(t.TempDir(), "notify")
	nc, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: notify, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	ready := make(chan struct{})
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := nc.Read(buf)
			if err != nil {
				return
			}
			if strings.Contains("\n"+string(buf[:n])+"\n", "\nREADY=1\n") {
				close(ready)
				return
			}
		}
	}()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), "NOTIFY_SOCKET="+notify)
	var logs syncBuffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	deadline := time.After(10 * time.Second)
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("%q exited before READY=1: %v\n%s", argv, err, logs.String())
	case <-deadline:
		cmd.Process.Kill()
		<-done
		t.Fatalf("%q sent no READY=1 within 10s:\n%s", argv, logs.String())
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("%q after SIGTERM: %v\n%s", argv, err, logs.String())
		}
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatalf("%q still running 20s after SIGTERM", argv)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// complete sources the packaged completion in a clean bash and returns
// what it offers for line (the word being completed is the text after
// the last blank).
func complete(t *testing.T, script, line string) []string {
	t.Helper()
	words := strings.Fields(line)
	if strings.HasSuffix(line, " ") {
		words = append(words, "")
	}
	quoted := make([]string, len(words))
	for i, w := range words {
		quoted[i] = "'" + w + "'"
	}
	prog := fmt.Sprintf("source %q\nCOMP_WORDS=(%s)\nCOMP_CWORD=%d\n_varde\nprintf '%%s\\n' \"${COMPREPLY[@]}\"\n",
		script, strings.Join(quoted, " "), len(words)-1)
	cmd := exec.Command("bash", "--norc", "--noprofile", "-c", prog)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("completing %q: %v\n%s", line, err, out)
	}
	got := strings.Fields(string(out))
	sort.Strings(got)
	return got
}

func TestDebBashCompletion(t *testing.T) {
	_, tree := builtDeb(t)
	script := filepath.Join(tree, "usr/share/bash-completion/completions/varde")
	bin := filepath.Join(tree, "usr/sbin/varde")
	commands := append(commandsOf(t, bin), "help")
	sort.Strings(commands)
	files := t.TempDir()
	for _, f := range []string{"haproxy.cfg", "keepalived.conf"} {
		if err := os.WriteFile(filepath.Join(files, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		line  string
		exact []string // the whole answer
		has   []string // part of the answer
	}{
		{line: "varde ", exact: commands},
		{line: "varde ch", exact: []string{"check"}},
		{line: "varde help r", exact: []string{"run"}},
		{line: "varde run --l", exact: []string{"--log-format"}},
		{line: "varde run --log-format ", exact: []string{"json", "text"}},
		{line: "varde run -", has: []string{"-f", "--grace", "--pidfile", "--help"}},
		{line: "varde check -", exact: []string{"--help", "-L", "-f", "-q"}},
		{line: "varde check -f " + files + "/h", exact: []string{files + "/haproxy.cfg"}},
		{line: "varde -f " + files + "/k", exact: []string{files + "/keepalived.conf"}},
		{line: "varde -", has: []string{"-c", "-f", "-p", "-q", "-vv", "-D", "-db"}},
		{line: "varde logs ", exact: []string{"anonymize", "audit"}},
		{line: "varde logs audit --", exact: []string{"--help", "--json", "--params", "--pii", "--retention"}},
		{line: "varde logs anonymize --", exact: []string{"--help", "--hmac", "--ip", "--mask", "--params", "--pii"}},
		{line: "varde policy ", exact: []string{"test"}},
		{line: "varde version -", exact: []string{"--help", "-vv"}},
		{line: "varde ctl -", has: []string{"-s", "-t"}},
		{line: "varde nosuch ", exact: nil},
	} {
		got := complete(t, script, tc.line)
		if tc.exact != nil || tc.has == nil {
			if strings.Join(got, " ") != strings.Join(tc.exact, " ") {
				t.Errorf("complete %q = %q, want %q", tc.line, got, tc.exact)
			}
			continue
		}
		for _, w := range tc.has {
			if !contains(got, w) {
				t.Errorf("complete %q = %q, want it to offer %q", tc.line, got, w)
			}
		}
	}
}

func contains(list []string, w string) bool {
	for _, x := range list {
		if x == w {
			return true
		}
	}
	return false
}

// TestDebManPages renders both pages with man's warnings on, checks that
// lexgrog (mandb, whatis) reads their NAME line, and that varde(1)
// documents every command and every flag the binary has.
func TestDebManPages(t *testing.T) {
	_, tree := builtDeb(t)
	for _, tool := range []string{"man", "lexgrog"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (.ci/install-deps installs man-db)", tool)
		}
	}
	for _, page := range []struct{ path, name string }{
		{"usr/share/man/man1/varde.1.gz", "varde - a load balancer"},
		{"usr/share/man/man5/varde.cfg.5.gz", "varde.cfg - varde's configuration"},
	} {
		path := filepath.Join(tree, page.path)
		if out := run(t, "lexgrog", path); !strings.Contains(out, page.name) {
			t.Errorf("lexgrog %s = %q, want %q", page.path, out, page.name)
		}
		cmd := exec.Command("man", "--warnings", "-l", path)
		cmd.Env = append(os.Environ(), "LC_ALL=C.UTF-8", "MANWIDTH=80")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil || stderr.Len() > 0 || !strings.Contains(string(out), "SEE ALSO") {
			t.Errorf("man -l %s: %v\nwarnings: %s\n%s", page.path, err, stderr.String(), out)
		}
		if strings.Contains(string(out), "@VERSION@") || strings.Contains(string(out), "@DATE@") {
			t.Errorf("%s: placeholders left", page.path)
		}
	}

	src := readFile(t, "../docs/man/varde.1.md")
	bin := filepath.Join(tree, "usr/sbin/varde")
	for _, c := range commandsOf(t, bin) {
		if !strings.Contains(src, "**"+c+"**") {
			t.Errorf("docs/man/varde.1.md does not document the command %q", c)
		}
	}
	flagLine := regexp.MustCompile(`(?m)^  -([A-Za-z][A-Za-z0-9-]*)`)
	helps := map[string][]string{"HAProxy command line": {"-c", "--help"}}
	for _, c := range commandsOf(t, bin) {
		helps[c] = []string{c, "--help"}
	}
	helps["logs audit"] = []string{"logs", "audit", "--help"}
	helps["logs anonymize"] = []string{"logs", "anonymize", "--help"}
	for what, args := range helps {
		out, _ := exec.Command(bin, args...).CombinedOutput()
		for _, m := range flagLine.FindAllStringSubmatch(string(out), -1) {
			if !strings.Contains(src, "**-"+m[1]+"**") && !strings.Contains(src, "**--"+m[1]+"**") {
				t.Errorf("docs/man/varde.1.md does not document %s's flag -%s", what, m[1])
			}
		}
	}
}

func errOrMode(st os.FileInfo, err error) string {
	if err != nil {
		return err.Error()
	}
	return fmt.Sprintf("mode %v owner %s", st.Mode(), ownerOf(st))
}

// ownerOf is "uid:gid" of a file.
func ownerOf(st os.FileInfo) string {
	if s, ok := st.Sys().(*syscall.Stat_t); ok {
		return fmt.Sprintf("%d:%d", s.Uid, s.Gid)
	}
	return "?"
}

// TestDebLintian runs Debian's package checker when it is installed
// (make deps does not install it: it pulls about 150 packages). Errors
// and warnings fail; the two deliberate exceptions are overridden in
// usr/share/lintian/overrides/varde.
func TestDebLintian(t *testing.T) {
	deb, _ := builtDeb(t)
	if _, err := exec.LookPath("lintian"); err != nil {
		t.Skip("lintian not installed")
	}
	out, err := exec.Command("lintian", "--fail-on", "error,warning", deb).CombinedOutput()
	if err != nil {
		t.Errorf("lintian: %v\n%s", err, out)
	}
}
