package tlsx

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// The alias table agrees with the real OpenSSL: for every alias varde
// knows, the suites of its table that this OpenSSL builds are selected by
// the alias in both or in neither.
func TestAliasesAgreeWithOpenSSL(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not installed")
	}
	list := func(expr string) []string {
		out, err := exec.Command("openssl", "ciphers", expr+":@SECLEVEL=0").Output()
		if err != nil {
			return nil // OpenSSL knows no cipher for it
		}
		return strings.Split(strings.TrimSpace(string(out)), ":")
	}
	built := list("ALL:COMPLEMENTOFALL")
	if len(built) < 50 {
		t.Fatalf("openssl lists %d ciphers", len(built))
	}
	aliases := []string{"ALL", "HIGH", "MEDIUM", "LOW", "eNULL", "aNULL", "kRSA", "aRSA", "kECDHE", "ECDHE", "EECDH",
		"aECDSA", "kDHE", "DHE", "EDH", "DH", "aDSS", "PSK", "AES", "AESGCM", "AESCCM", "AES128", "AES256", "CHACHA20",
		"3DES", "CAMELLIA", "ARIA", "SHA1", "SHA256", "SHA384", "TLSv1.2", "ECDHE+AESGCM", "kRSA+SHA1", "ECDH"}
	checked := 0
	for _, a := range aliases {
		want := list(a)
		for i := range suites {
			s := &suites[i]
			if !slices.Contains(built, s.name) {
				continue // not built by this OpenSSL (RC4, DES, SEED, EXPORT ...)
			}
			sel, err := match(a)
			if err != nil {
				t.Fatalf("%s: %v", a, err)
			}
			if got, exp := slices.Contains(sel, i), slices.Contains(want, s.name); got != exp {
				t.Errorf("alias %s: varde selects %s = %v, OpenSSL %v", a, s.name, got, exp)
			}
			checked++
		}
	}
	t.Logf("%d alias/suite comparisons with %s", checked, strings.TrimSpace(func() string { b, _ := exec.Command("openssl", "version").Output(); return string(b) }()))
	if checked < 500 {
		t.Errorf("only %d comparisons", checked)
	}
}
