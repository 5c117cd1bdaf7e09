package tlsx

import "testing"

// The examples docs/tls.md gives.
func TestDocClaims(t *testing.T) {
	if ids, err := ParseCiphers("HIGH:!aNULL:!MD5"); err != nil || len(ids) != 17 {
		t.Errorf("HIGH:!aNULL:!MD5 = %d suites, %v; docs/tls.md says 17", len(ids), err)
	}
	if ids, err := ParseCiphers("ECDHE+AESGCM:ECDHE+CHACHA20"); err != nil || len(ids) != 6 {
		t.Errorf("ECDHE+AESGCM:ECDHE+CHACHA20 = %d suites, %v; docs/tls.md says 6", len(ids), err)
	}
	const mozilla = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305"
	if _, err := ParseCiphers(mozilla); err == nil {
		t.Error("Mozilla intermediate accepted; docs/tls.md says its DHE names are refused")
	}
	if len(defaultSuites()) != 10 {
		t.Errorf("Go's default set has %d suites; docs/tls.md lists 10", len(defaultSuites()))
	}
}
