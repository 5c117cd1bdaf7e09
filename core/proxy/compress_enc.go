package proxy

import (
	"io"
	"strconv"
	"sync"

	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zlib"
)

// compWriter is what gzip, zlib and flate writers have in common.
type compWriter interface {
	io.Writer
	Flush() error
	Close() error
	Reset(io.Writer)
}

// chunkRoom is kept in front of the output for the chunk-size line
// (16 hex digits and CRLF at most), so a block goes out in one write.
const chunkRoom = 18

// compEncoder is one response's compressor and its output buffer; taken
// from a pool only when a response is compressed.
type compEncoder struct {
	algo  compAlgo
	level int
	w     compWriter // nil for identity
	out   []byte     // chunkRoom bytes of room, then compressed bytes
}

// Write collects the compressor's output.
func (e *compEncoder) Write(p []byte) (int, error) {
	e.out = append(e.out, p...)
	return len(p), nil
}

var compPools [compRawDeflate + 1]sync.Pool

// takeEncoder returns a reset encoder for algo at level.
func takeEncoder(algo compAlgo, level int) (*compEncoder, error) {
	e, _ := compPools[algo].Get().(*compEncoder)
	if e == nil || e.level != level {
		e = &compEncoder{algo: algo, level: level, out: make([]byte, chunkRoom, 16<<10)}
		var err error
		switch algo {
		case compGzip:
			e.w, err = gzip.NewWriterLevel(e, level)
		case compDeflate:
			e.w, err = zlib.NewWriterLevel(e, level)
		case compRawDeflate:
			e.w, err = flate.NewWriter(e, level)
		}
		if err != nil {
			return nil, err
		}
		return e, nil
	}
	e.out = e.out[:chunkRoom]
	if e.w != nil {
		e.w.Reset(e)
	}
	return e, nil
}

func (e *compEncoder) release() {
	if cap(e.out) > 256<<10 {
		return // a huge block: let it go rather than pin it in the pool
	}
	compPools[e.algo].Put(e)
}

// add compresses p and, when flush is set, sync-flushes so the client can
// decode everything received so far (HAProxy flushes each data block).
func (e *compEncoder) add(p []byte, flush bool) error {
	if e.w == nil {
		e.out = append(e.out, p...)
		return nil
	}
	if _, err := e.w.Write(p); err != nil {
		return err
	}
	if flush {
		return e.w.Flush()
	}
	return nil
}

// finish ends the compressed stream.
func (e *compEncoder) finish() error {
	if e.w == nil {
		return nil
	}
	return e.w.Close()
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
