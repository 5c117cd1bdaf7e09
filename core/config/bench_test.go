package config

import (
	"os"
	"testing"

	"github.com/varde-lb/varde/core/diag"
)

// BenchmarkParseValidate measures reading a realistic configuration: it runs
// at start-up and on every reload, so it only needs to stay far below a
// millisecond-scale budget.
func BenchmarkParseValidate(b *testing.B) {
	src, err := os.ReadFile("testdata/persist.cfg")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		d := &diag.List{}
		c := Parse("persist.cfg", src, nil, d)
		c.Validate(d)
	}
}
