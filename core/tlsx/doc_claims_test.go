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
	if ids, dropped, err := ParseCiphersDropped(mozilla); err != nil || len(ids) != 6 || len(dropped) != 3 {
		t.Errorf("Mozilla intermediate = %d suites, %d dropped, %v; docs/tls.md says its 6 ECDHE suites are offered and its 3 DHE names are not", len(ids), len(dropped), err)
	}
	if len(defaultSuites()) != 10 {
		t.Errorf("Go's default set has %d suites; docs/tls.md lists 10", len(defaultSuites()))
	}
}
