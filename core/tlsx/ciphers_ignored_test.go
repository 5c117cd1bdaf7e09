package tlsx

import (
	"errors"
	"os/exec"
	"strings"
	"testing"

	"github.com/varde-lb/varde/core/testenv"
)

// opensslCiphers is `openssl ciphers LIST`'s answer, and whether OpenSSL
// accepted the list.
func opensslCiphers(t *testing.T, list string) (string, bool) {
	t.Helper()
	out, err := exec.Command("openssl", "ciphers", list).CombinedOutput()
	return strings.TrimSpace(string(out)), err == nil
}

// TestIgnoredCipherWordsAsOpenSSL: an element whose word names nothing
// OpenSSL knows is skipped by varde with a report, exactly where the real
// openssl gives the same list with and without it; words OpenSSL knows
// (it selects suites with them, or refuses the string) stay errors.
func TestIgnoredCipherWordsAsOpenSSL(t *testing.T) {
	testenv.LookTool(t, "openssl", "openssl")
	const base = "ECDH+AESGCM:ECDH+AES256"
	cases := []struct {
		elem    string
		ignored bool // varde skips it (warning); false: varde refuses it
		refused bool // OpenSSL refuses the whole string
	}{
		{"DH+AE$", true, false}, // the corpus typo: "AE" is no alias
		{"FOOBAR", true, false},
		{"!FOOBAR", true, false},
		{"ECDH+AESX", true, false},
		{"TLS_AES_128_GCM_SHA256", true, false}, // OpenSSL reads the word "TLS"
		{"AES$", false, true},                   // a known word then '$'
		{"$FOO", false, true},                   // no word at all
		// OpenSSL knows these; varde does not model what they select.
		{"SUITEB128", false, false},
		{"ARIA256", false, false},
		{"DHEPSK", false, false},
		{"ECDHE-RSA-AES256-CCM", false, false}, // shaped as a cipher name
		// Legacy families Debian's OpenSSL 3.0 does not have at all, by
		// names varde's table lacks (those it has, RC4-SHA or
		// DES-CBC3-SHA, are accepted and reported as not offered).
		{"ECDHE-ECDSA-DES-CBC3-SHA", true, false},
		{"EDH-DSS-DES-CBC3-SHA", true, false},
		{"ADH-DES-CBC3-SHA", true, false},
		{"DES-CBC3-MD5", true, false},
		{"EXP1024-DES-CBC-SHA", true, false},
		{"DHE-DSS-SEED-SHA", true, false},
		{"IDEA-CBC-MD5", true, false},
	}
	want, ok := opensslCiphers(t, base)
	if !ok {
		t.Fatalf("openssl refuses %s: %s", base, want)
	}
	for _, c := range cases {
		t.Run(c.elem, func(t *testing.T) {
			list := base + ":" + c.elem
			rep, err := ParseCipherReport(list)
			gotIgnored := err == nil && len(rep.Ignored) == 1 && rep.Ignored[0] == c.elem
			if gotIgnored != c.ignored {
				t.Fatalf("varde: ignored=%v (report %+v, err %v), want ignored=%v", gotIgnored, rep, err, c.ignored)
			}
			out, accepted := opensslCiphers(t, list)
			if c.ignored && (!accepted || out != want) {
				t.Errorf("varde skips %q but OpenSSL does not: %s", c.elem, out)
			}
			if accepted == c.refused {
				t.Errorf("openssl accepted %q: %v, want %v", list, accepted, !c.refused)
			}
		})
	}
	// A list whose every element is skipped selects nothing: an error, as
	// OpenSSL ("no cipher match") and HAProxy refuse it.
	if _, err := ParseCipherReport("DH+AE$"); err == nil {
		t.Error("DH+AE$ alone: want an error")
	}
	if _, ok := opensslCiphers(t, "DH+AE$"); ok {
		t.Error("openssl accepts DH+AE$ alone")
	}
	var ce *CipherError
	if _, err := ParseCipherReport(base + ":SUITEB128"); !errors.As(err, &ce) {
		t.Errorf("SUITEB128: want a CipherError, got %v", err)
	}
}
