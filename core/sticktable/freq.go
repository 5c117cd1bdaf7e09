package sticktable

// Freq is HAProxy's freq_ctr over a period: the events of the current
// period, of the previous one, and when the current one started. The rate
// read at time now is the current count plus the previous period's count
// weighted by the part of the period not yet elapsed, so a rate does not
// fall to zero when a period turns over. Callers hold the entry's lock.
type Freq struct {
	tick       int64 // start of the current period, ms
	cur, prev  uint64
	everUpdate bool
}

// Add counts inc events at now (ms) for a period of period ms.
func (f *Freq) Add(now, period int64, inc uint64) {
	if !f.everUpdate {
		f.everUpdate, f.tick, f.cur = true, now, inc
		return
	}
	if now-f.tick < period {
		f.cur += inc
		return
	}
	f.prev, f.cur = f.cur, inc
	f.tick += period
	if now-f.tick >= period {
		// At least two periods went by without an event.
		f.prev, f.tick = 0, now
	}
}

// Read returns the rate over the last period at now, as HAProxy's
// read_freq_ctr_period (with its correction for very low rates: a lone
// event of the previous period reads as 1 until it is two periods old).
func (f *Freq) Read(now, period int64) uint64 {
	if !f.everUpdate || period <= 0 {
		return 0
	}
	cur, past := f.cur, f.prev
	remain := f.tick + period - now
	if remain < 0 {
		remain += period
		past = 0
		if remain >= 0 {
			past = cur
		}
		cur = 0
	}
	if cur == 0 && past <= 1 {
		return past
	}
	return (past*uint64(remain) + cur*uint64(period)) / uint64(period)
}
