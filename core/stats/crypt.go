package stats

import (
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"errors"
	"hash"
	"strconv"
	"strings"
)

// SHA-crypt ($5$ SHA-256 and $6$ SHA-512), written from Ulrich Drepper's
// public specification "Unix crypt using SHA-256 and SHA-512", so that
// `stats auth` and userlists can hold crypt(3) hashes instead of plain
// passwords, exactly as glibc's crypt(3) produces them.

const (
	cryptRoundsDefault = 5000
	cryptRoundsMin     = 1000
	cryptRoundsMax     = 999999999
	cryptSaltMax       = 16
	itoa64             = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
)

// ErrUnsupportedHash is returned for hash formats other than $5$ and $6$.
var ErrUnsupportedHash = errors.New("stats: unsupported crypt hash (want $5$ or $6$)")

// IsCryptHash reports whether s looks like a SHA-crypt hash.
func IsCryptHash(s string) bool {
	return strings.HasPrefix(s, "$6$") || strings.HasPrefix(s, "$5$")
}

// CryptVerify checks password against a $5$/$6$ hash in constant time with
// respect to the hash contents.
func CryptVerify(hashed, password string) (bool, error) {
	i := strings.LastIndexByte(hashed, '$')
	if i < 3 {
		return false, ErrUnsupportedHash
	}
	got, err := Crypt(password, hashed[:i])
	if err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare([]byte(got), []byte(hashed)) == 1, nil
}

// Crypt hashes password with setting, which is "$6$salt", "$6$rounds=N$salt"
// (or $5$), optionally followed by "$" and an old hash that is ignored.
func Crypt(password, setting string) (string, error) {
	var newHash func() hash.Hash
	var id string
	switch {
	case strings.HasPrefix(setting, "$6$"):
		newHash, id = sha512.New, "$6$"
	case strings.HasPrefix(setting, "$5$"):
		newHash, id = sha256.New, "$5$"
	default:
		return "", ErrUnsupportedHash
	}
	rest := setting[3:]
	rounds, custom := cryptRoundsDefault, false
	if strings.HasPrefix(rest, "rounds=") {
		end := strings.IndexByte(rest, '$')
		if end < 0 {
			return "", errors.New("stats: crypt: rounds= without salt")
		}
		n, err := strconv.ParseUint(rest[len("rounds="):end], 10, 64)
		if err != nil {
			return "", errors.New("stats: crypt: bad rounds")
		}
		rounds, custom = int(min(max(n, cryptRoundsMin), cryptRoundsMax)), true
		rest = rest[end+1:]
	}
	salt := rest
	if i := strings.IndexByte(salt, '$'); i >= 0 {
		salt = salt[:i]
	}
	if len(salt) > cryptSaltMax {
		salt = salt[:cryptSaltMax]
	}
	sum := shaCrypt(newHash, []byte(password), []byte(salt), rounds)

	var b strings.Builder
	b.WriteString(id)
	if custom {
		b.WriteString("rounds=")
		b.WriteString(strconv.Itoa(rounds))
		b.WriteByte('$')
	}
	b.WriteString(salt)
	b.WriteByte('$')
	encodeCrypt(&b, sum)
	return b.String(), nil
}

func shaCrypt(newHash func() hash.Hash, p, s []byte, rounds int) []byte {
	// Digest B = H(P S P).
	h := newHash()
	h.Write(p)
	h.Write(s)
	h.Write(p)
	db := h.Sum(nil)
	size := len(db)

	// Digest A = H(P S, B repeated over len(P), then per bit of len(P): B or P).
	h = newHash()
	h.Write(p)
	h.Write(s)
	n := len(p)
	for ; n > size; n -= size {
		h.Write(db)
	}
	h.Write(db[:n])
	for n = len(p); n > 0; n >>= 1 {
		if n&1 != 0 {
			h.Write(db)
		} else {
			h.Write(p)
		}
	}
	da := h.Sum(nil)

	// P sequence: H(P repeated len(P) times), stretched to len(P).
	h = newHash()
	for range len(p) {
		h.Write(p)
	}
	dp := h.Sum(nil)
	pseq := stretch(dp, len(p))

	// S sequence: H(S repeated 16+A[0] times), stretched to len(S).
	h = newHash()
	for range 16 + int(da[0]) {
		h.Write(s)
	}
	ds := h.Sum(nil)
	sseq := stretch(ds, len(s))

	c := da
	for i := range rounds {
		h = newHash()
		if i&1 != 0 {
			h.Write(pseq)
		} else {
			h.Write(c)
		}
		if i%3 != 0 {
			h.Write(sseq)
		}
		if i%7 != 0 {
			h.Write(pseq)
		}
		if i&1 != 0 {
			h.Write(c)
		} else {
			h.Write(pseq)
		}
		c = h.Sum(c[:0])
	}
	return c
}

func stretch(d []byte, n int) []byte {
	out := make([]byte, 0, n)
	for len(out)+len(d) <= n {
		out = append(out, d...)
	}
	return append(out, d[:n-len(out)]...)
}

// encodeCrypt writes the digest in crypt's base64 with the byte permutation
// the specification defines for each hash size.
func encodeCrypt(b *strings.Builder, d []byte) {
	b64 := func(b2, b1, b0 byte, n int) {
		w := uint(b2)<<16 | uint(b1)<<8 | uint(b0)
		for range n {
			b.WriteByte(itoa64[w&0x3f])
			w >>= 6
		}
	}
	if len(d) == 64 {
		for k := 0; k < 21; k++ {
			x, y, z := d[k], d[k+21], d[k+42]
			switch k % 3 {
			case 0:
				b64(x, y, z, 4)
			case 1:
				b64(y, z, x, 4)
			case 2:
				b64(z, x, y, 4)
			}
		}
		b64(0, 0, d[63], 2)
		return
	}
	for k := 0; k < 10; k++ {
		x, y, z := d[k], d[k+10], d[k+20]
		switch k % 3 {
		case 0:
			b64(x, y, z, 4)
		case 1:
			b64(z, x, y, 4)
		case 2:
			b64(y, z, x, 4)
		}
	}
	b64(0, d[31], d[30], 3)
}
