//go:build wasip1

package varde

import "time"

// Get reads key from the policy's shared table (numbers come back in
// decimal text).
func Get(key string) ([]byte, bool) {
	p, l := ptr(key)
	b, c := base()
	n := sharedGet(p, l, b, c)
	if !fits(n) {
		b, c = base()
		n = sharedGet(p, l, b, c)
	}
	return got(n)
}

// Set stores value under key for ttl (0: no expiry); false when the table
// is full.
func Set(key, value string, ttl time.Duration) bool {
	kp, kn := ptr(key)
	vp, vn := ptr(value)
	return sharedSet(kp, kn, vp, vn, ttl.Milliseconds()) == 1
}

// Incr adds delta to the number under key and returns the new value (NaN
// when the table is full).
func Incr(key string, delta float64, ttl time.Duration) float64 {
	p, n := ptr(key)
	return sharedIncr(p, n, delta, ttl.Milliseconds())
}

// Del removes key.
func Del(key string) {
	p, n := ptr(key)
	sharedDel(p, n)
}

// Log levels.
const (
	LevelDebug = 0
	LevelInfo  = 1
	LevelWarn  = 2
	LevelError = 3
)

// Log writes a line to varde's log (rate-limited by the host).
func Log(level int, msg string) {
	p, n := ptr(msg)
	hostLog(int32(level), p, n)
}
