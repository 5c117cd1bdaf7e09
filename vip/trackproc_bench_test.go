package vip

import "testing"

// BenchmarkScanProcs is one scan of the real /proc, by name only and
// with command lines (the cost vrrp_track_process pays every
// ProcScanInterval).
func BenchmarkScanProcs(b *testing.B) {
	for _, cmd := range []bool{false, true} {
		name := "comm"
		if cmd {
			name = "cmdline"
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if len(scanProcs(cmd)) == 0 {
					b.Fatal("no process found")
				}
			}
		})
	}
}
