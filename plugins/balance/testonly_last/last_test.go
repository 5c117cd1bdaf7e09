package testonlylast_test

import (
	"strings"
	"testing"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/core/config"
	"github.com/varde-lb/varde/core/diag"
	"github.com/varde-lb/varde/plugins/balance/balancetest"
	testonlylast "github.com/varde-lb/varde/plugins/balance/testonly_last"
)

// TestConfigKnowsTheNewAlgorithm: with nothing but this folder, the
// configuration layer accepts the new keyword, refuses its bad arguments
// with file:line and the plugin's hint, and the engine's constructor
// builds what the configuration accepted.
func TestConfigKnowsTheNewAlgorithm(t *testing.T) {
	for body, want := range map[string]string{
		"balance testonly-last":          "",
		"balance testonly-last skip 1":   "",
		"balance testonly-last skip 0":   "t.cfg:3: error: balance: 'skip' expects a positive integer (got \"0\") (hint: skip 1)",
		"balance testonly-last(2)":       "t.cfg:3: error: balance: testonly-last takes no parameter (hint: balance testonly-last [skip N])",
		"balance testonly-last other":    "t.cfg:3: error: balance: testonly-last only accepts 'skip' (got \"other\") (hint: balance testonly-last [skip N])",
		"balance testonly-lost":          "t.cfg:3: error: balance: unknown balance algorithm \"testonly-lost\" (hint: did you mean `testonly-last`?)",
		"balance testonly-last skip 1 2": "t.cfg:3: error: balance: 'skip' expects one number (hint: skip 1)",
	} {
		var d diag.List
		cfg := config.Parse("t.cfg", []byte("backend b\n mode http\n "+body+"\n"), nil, &d)
		var got []string
		for _, x := range d.Items() {
			if x.Severity == diag.Error {
				got = append(got, x.String())
			}
		}
		if strings.Join(got, "\n") != want {
			t.Errorf("%s:\n got %q\nwant %q", body, got, want)
			continue
		}
		if want != "" {
			continue
		}
		b, err := core.NewBalancer(*cfg.Backends[0].Balance)
		if err != nil {
			t.Fatalf("%s: accepted by check, refused at start: %v", body, err)
		}
		servers := balancetest.Servers(1, 1, 1)
		b.Update(servers)
		wantName := "s3"
		if strings.HasSuffix(body, "skip 1") {
			wantName = "s2"
		}
		if got := b.Pick(&core.PickContext{}); got == nil || got.Name != wantName {
			t.Errorf("%s: picked %v, want %s", body, got, wantName)
		}
	}
	if a, ok := core.LookupAlgorithm(testonlylast.Name); !ok || a.Usage == "" {
		t.Error("not registered with a usage")
	}
}
