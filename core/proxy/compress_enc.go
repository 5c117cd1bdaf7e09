package proxy

import (
	"encoding/binary"
	"hash"
	"hash/adler32"
	"hash/crc32"
	"strconv"
	"sync"

	"github.com/klauspost/compress/flate"
)

// chunkRoom is kept in front of the output for the chunk-size line
// (16 hex digits and CRLF at most), so a block goes out in one write.
const chunkRoom = 18

// compEncoder is one response's compressor and its output buffer; taken
// from a pool only when a response is compressed.
//
// gzip (RFC 1952) and zlib (RFC 1950) framing are written here around raw
// deflate writers, so the level can change in the middle of a body as
// HAProxy's does under maxcomprate: after a sync flush the stream is at a
// block boundary, and a deflate writer started afresh there emits blocks
// that only refer to their own bytes, which is a valid continuation.
type compEncoder struct {
	algo  compAlgo
	level int           // tune.comp.maxlevel
	cur   int           // the level now (0: stored blocks, as HAProxy's level 0)
	w     *flate.Writer // nil for identity; ws[0] or ws[1]
	ws    [2]*flate.Writer
	sum   hash.Hash32 // CRC-32 (gzip) or Adler-32 (zlib)
	size  uint32      // gzip ISIZE
	out   []byte      // chunkRoom bytes of room, then compressed bytes
}

// Write collects the deflate writers' output.
func (e *compEncoder) Write(p []byte) (int, error) {
	e.out = append(e.out, p...)
	return len(p), nil
}

var compPools [compRawDeflate + 1]sync.Pool

// gzipHeader is a minimal RFC 1952 header: no name, no time, Unix.
var gzipHeader = []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3}

// takeEncoder returns a reset encoder for algo at level.
func takeEncoder(algo compAlgo, level int) (*compEncoder, error) {
	e, _ := compPools[algo].Get().(*compEncoder)
	if e == nil || e.level != level {
		e = &compEncoder{algo: algo, level: level, out: make([]byte, chunkRoom, 16<<10)}
		switch algo {
		case compGzip:
			e.sum = crc32.NewIEEE()
		case compDeflate:
			e.sum = adler32.New()
		}
		if algo != compIdentity {
			w, err := flate.NewWriter(e, level)
			if err != nil {
				return nil, err
			}
			e.ws[1] = w
		}
	}
	e.out, e.size, e.cur = e.out[:chunkRoom], 0, e.level
	if e.sum != nil {
		e.sum.Reset()
	}
	if algo == compIdentity {
		return e, nil
	}
	e.w = e.ws[1]
	e.w.Reset(e)
	switch algo {
	case compGzip:
		e.out = append(e.out, gzipHeader...)
	case compDeflate:
		e.out = append(e.out, 0x78, 0x01) // deflate, 32 KiB window, no dictionary
	}
	return e, nil
}

func (e *compEncoder) release() {
	if cap(e.out) > 256<<10 {
		return // a huge block: let it go rather than pin it in the pool
	}
	compPools[e.algo].Put(e)
}

// add compresses p.
func (e *compEncoder) add(p []byte) error {
	if e.w == nil {
		e.out = append(e.out, p...)
		return nil
	}
	if e.sum != nil {
		e.sum.Write(p)
		e.size += uint32(len(p))
	}
	_, err := e.w.Write(p)
	return err
}

// flush sync-flushes so the client can decode everything received so far
// (HAProxy flushes each data block).
func (e *compEncoder) flush() error {
	if e.w == nil {
		return nil
	}
	return e.w.Flush()
}

// setLevel switches between the configured level and 0 (stored blocks)
// at a flush boundary.
func (e *compEncoder) setLevel(level int) error {
	if e.w == nil || level == e.cur {
		return nil
	}
	i := 0
	if level > 0 {
		i = 1
	}
	if e.ws[i] == nil {
		w, err := flate.NewWriter(e, flate.NoCompression)
		if err != nil {
			return err
		}
		e.ws[i] = w
	}
	e.cur, e.w = level, e.ws[i]
	e.w.Reset(e)
	return nil
}

// finish ends the compressed stream and writes the trailer.
func (e *compEncoder) finish() error {
	if e.w == nil {
		return nil
	}
	if err := e.w.Close(); err != nil {
		return err
	}
	switch e.algo {
	case compGzip:
		e.out = binary.LittleEndian.AppendUint32(e.out, e.sum.Sum32())
		e.out = binary.LittleEndian.AppendUint32(e.out, e.size)
	case compDeflate:
		e.out = binary.BigEndian.AppendUint32(e.out, e.sum.Sum32())
	}
	return nil
}

// chunk frames the pending output as one HTTP/1.1 chunk in place, returns
// it (empty when there is nothing), and resets the buffer.
func (e *compEncoder) chunk() (block []byte, data int) {
	data = len(e.out) - chunkRoom
	if data == 0 {
		return nil, 0
	}
	var hex [chunkRoom]byte
	h := strconv.AppendInt(hex[:0], int64(data), 16)
	h = append(h, '\r', '\n')
	start := chunkRoom - len(h)
	copy(e.out[start:], h)
	e.out = append(e.out, '\r', '\n')
	block = e.out[start:]
	e.out = e.out[:chunkRoom]
	return block, data
}
