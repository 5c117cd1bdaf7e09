package sample

import (
	"errors"
	"math/rand/v2"
)

// UniqueIDer is implemented by request views of a frontend with a
// unique-id-format: UniqueID returns the transaction's id, building it the
// first time it is needed (HAProxy's stream_generate_unique_id), and false
// when the frontend has no format.
type UniqueIDer interface {
	UniqueID() ([]byte, bool)
}

func init() {
	RegisterFetch(&Fetch{
		Name: "unique-id", Out: TypeStr, Where: AtAny,
		Eval: func(c *Ctx, _ *Args, out *Value) bool {
			u, ok := c.Req.(UniqueIDer)
			if !ok {
				return false
			}
			id, ok := u.UniqueID()
			if ok {
				out.SetStr(id)
			}
			return ok
		},
		Doc: "the transaction's unique id built from the frontend's unique-id-format (no sample without one)",
	})
	RegisterFetch(&Fetch{
		Name: "uuid", MaxArgs: 1, Out: TypeStr, Where: AtRequest | AtResponse | AtLog,
		Compile: func(args []string, _ *Args) error {
			if len(args) > 0 && args[0] != "4" {
				return errors.New("uuid: only version 4 is supported, as in HAProxy 2.6")
			}
			return nil
		},
		EvalBuf: func(_ *Ctx, _ *Args, out *Value, scratch []byte) ([]byte, bool) {
			start := len(scratch)
			scratch = appendUUID4(scratch)
			out.SetStr(scratch[start:])
			return scratch, true
		},
		Doc: "a random version 4 UUID, lower case (uuid or uuid(4))",
	})
}

// appendUUID4 appends a random RFC 4122 version 4 UUID.
func appendUUID4(dst []byte) []byte {
	const hex = "0123456789abcdef"
	var b [16]byte
	hi, lo := rand.Uint64(), rand.Uint64()
	for i := 0; i < 8; i++ {
		b[i], b[8+i] = byte(hi>>(8*i)), byte(lo>>(8*i))
	}
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // RFC 4122 variant
	for i, c := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			dst = append(dst, '-')
		}
		dst = append(dst, hex[c>>4], hex[c&15])
	}
	return dst
}
