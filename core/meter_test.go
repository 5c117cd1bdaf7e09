package core

import (
	"testing"
	"time"
)

func TestRateOverLastSecond(t *testing.T) {
	base := int64(1000) * int64(time.Second)
	ms := func(n int64) int64 { return base + n*int64(time.Millisecond) }
	tests := []struct {
		name   string
		events []int64 // times of Add
		at     int64
		want   uint32
	}{
		{"none", nil, ms(0), 0},
		{"same second", []int64{ms(100), ms(200), ms(300)}, ms(900), 3},
		// 4 events in the previous second, 2 now, 250 ms into this one:
		// 2 + 4*0.75 = 5 (HAProxy's read_freq_ctr).
		{"previous weighted", []int64{ms(-900), ms(-800), ms(-700), ms(-600), ms(100), ms(200)}, ms(250), 5},
		{"only previous", []int64{ms(-500), ms(-400)}, ms(500), 1},
		{"stale", []int64{ms(-3000)}, ms(500), 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var r Rate
			for _, e := range tc.events {
				r.Add(e)
			}
			if got := r.At(tc.at); got != tc.want {
				t.Errorf("At = %d, want %d", got, tc.want)
			}
		})
	}
	var r Rate
	for i := int64(0); i < 10; i++ {
		r.Add(ms(i))
	}
	if r.Max() != 10 {
		t.Errorf("Max = %d after 10 events in 10 ms, want 10", r.Max())
	}
}

// TestTimeStatsLikeHAProxy: the sliding sum grows until TimeSamples
// requests, then loses 1/512 per sample, and the average divides by the
// request count until then.
func TestTimeStatsLikeHAProxy(t *testing.T) {
	var ts TimeStats
	for i := uint64(1); i <= 3; i++ {
		ts.Observe(i, 0, 2, 10, 20)
	}
	if got := ts.Averages(3); got != [4]uint32{0, 2, 10, 20} {
		t.Errorf("after 3 samples: %v", got)
	}
	if got := ts.Maxima(); got != [4]uint32{0, 2, 10, 20} {
		t.Errorf("maxima: %v", got)
	}
	// Many samples of 100 ms converge to 100.
	for i := uint64(4); i < 5000; i++ {
		ts.Observe(i, 0, 0, 100, 100)
	}
	if got := ts.Averages(5000)[2]; got < 99 || got > 101 {
		t.Errorf("rtime after 5000 samples of 100 = %d", got)
	}
	ts.Observe(5000, -1, -1, -1, -1) // unreached phases count as 0, as HAProxy
}

func TestUpDown(t *testing.T) {
	var u UpDown
	s := int64(time.Second)
	u.Update(true, 10*s)
	u.Update(false, 20*s)
	u.Update(false, 25*s)
	u.Update(true, 30*s)
	u.Update(false, 40*s)
	down, trans, lastchg, downtime := u.Read(45 * s)
	if !down || trans != 2 || lastchg != 5 || downtime != 15 {
		t.Errorf("down %v trans %d lastchg %d downtime %d; want true 2 5 15", down, trans, lastchg, downtime)
	}
}

func TestMetersEnded(t *testing.T) {
	var m Meters
	for _, term := range []string{"CD", "cD", "CH", "CR", "SD", "SH", "ID", "--", "SC"} {
		m.Ended(term[0], term[1])
	}
	if m.CliAbrt.Load() != 3 || m.SrvAbrt.Load() != 1 || m.Eint.Load() != 1 {
		t.Errorf("cli %d srv %d eint %d; want 3 1 1", m.CliAbrt.Load(), m.SrvAbrt.Load(), m.Eint.Load())
	}
	m.Response(204)
	m.Response(503)
	m.Response(99)
	if m.Resp[2].Load() != 1 || m.Resp[5].Load() != 1 || m.Resp[0].Load() != 1 || m.HTTPReq.Load() != 3 {
		t.Errorf("responses %v", [6]uint64{m.Resp[0].Load(), m.Resp[1].Load(), m.Resp[2].Load(), m.Resp[3].Load(), m.Resp[4].Load(), m.Resp[5].Load()})
	}
}
