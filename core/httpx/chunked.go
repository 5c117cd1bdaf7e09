package httpx

// Chunked validates a chunked body as it streams past, without copying or
// decoding it: the proxy forwards the bytes verbatim, so the framing the
// server sees is exactly the framing varde checked. A zero value is ready.
type Chunked struct {
	state   uint8
	size    int64 // remaining data bytes of the current chunk
	digits  int
	lineLen int   // bytes of the current trailer line, bounded
	Data    int64 // payload bytes seen so far
}

const (
	ckSize uint8 = iota
	ckSizeBWS
	ckExt
	ckSizeLF
	ckData
	ckDataCR
	ckDataLF
	ckTrailerStart
	ckTrailer
	ckTrailerLF
	ckLastLF
	ckDone
)

// maxChunkTrailerLine bounds a chunk-ext or trailer line so a peer cannot
// stream an endless one.
const maxChunkTrailerLine = 16384

// Reset prepares c for a new body.
func (c *Chunked) Reset() { *c = Chunked{} }

// Done reports whether the final chunk and trailers were seen.
func (c *Chunked) Done() bool { return c.state == ckDone }

// InData returns how many payload bytes of the current chunk are still to
// come (0 outside a chunk's data): a relay may move them without scanning
// (splicing) and report them with SkipData.
func (c *Chunked) InData() int64 {
	if c.state != ckData {
		return 0
	}
	return c.size
}

// SkipData consumes n payload bytes of the current chunk, 0 <= n <=
// InData(), as if Scan had seen them.
func (c *Chunked) SkipData(n int64) {
	if c.state != ckData || n <= 0 || n > c.size {
		return
	}
	c.size -= n
	c.Data += n
	if c.size == 0 {
		c.state = ckDataCR
	}
}

// Scan consumes p and returns how many bytes belong to the body: all of p,
// or fewer when the body ended inside p (the rest is the next message).
func (c *Chunked) Scan(p []byte) (int, error) {
	i := 0
	for i < len(p) {
		b := p[i]
		switch c.state {
		case ckSize:
			v := unhex(b)
			switch {
			case v >= 0:
				if c.digits >= 15 {
					return i, ErrBadChunk // would overflow int64 soon: refuse
				}
				c.size = c.size<<4 | int64(v)
				c.digits++
			case c.digits == 0:
				return i, ErrBadChunk
			case b == ';':
				c.state, c.lineLen = ckExt, 0
			case b == ' ' || b == '\t':
				c.state = ckSizeBWS
			case b == '\r':
				c.state = ckSizeLF
			default:
				return i, ErrBadChunk
			}
		case ckSizeBWS:
			// BWS is only legal before a chunk extension.
			switch b {
			case ' ', '\t':
			case ';':
				c.state, c.lineLen = ckExt, 0
			default:
				return i, ErrBadChunk
			}
		case ckExt:
			c.lineLen++
			switch {
			case b == '\r':
				c.state = ckSizeLF
			case b == '\n' || (b < 0x20 && b != '\t') || b == 0x7f || c.lineLen > maxChunkTrailerLine:
				return i, ErrBadChunk
			}
		case ckSizeLF:
			if b != '\n' {
				return i, ErrBadChunk
			}
			if c.size == 0 {
				c.state = ckTrailerStart
			} else {
				c.state = ckData
			}
		case ckData:
			n := int64(len(p) - i)
			if n > c.size {
				n = c.size
			}
			c.size -= n
			c.Data += n
			i += int(n)
			if c.size == 0 {
				c.state = ckDataCR
			}
			continue
		case ckDataCR:
			if b != '\r' {
				return i, ErrBadChunk
			}
			c.state = ckDataLF
		case ckDataLF:
			if b != '\n' {
				return i, ErrBadChunk
			}
			c.state, c.digits = ckSize, 0
		case ckTrailerStart:
			switch {
			case b == '\r':
				c.state = ckLastLF
			case b == ' ' || b == '\t' || b == ':' || !isTchar(b):
				return i, ErrBadChunk
			default:
				c.state, c.lineLen = ckTrailer, 1
			}
		case ckTrailer:
			c.lineLen++
			switch {
			case b == '\r':
				c.state = ckTrailerLF
			case b == '\n' || b == 0 || c.lineLen > maxChunkTrailerLine:
				return i, ErrBadChunk
			}
		case ckTrailerLF:
			if b != '\n' {
				return i, ErrBadChunk
			}
			c.state = ckTrailerStart
		case ckLastLF:
			if b != '\n' {
				return i, ErrBadChunk
			}
			c.state = ckDone
			return i + 1, nil
		case ckDone:
			return i, nil
		}
		i++
	}
	return i, nil
}

func unhex(b byte) int {
	switch {
	case '0' <= b && b <= '9':
		return int(b - '0')
	case 'a' <= b && b <= 'f':
		return int(b-'a') + 10
	case 'A' <= b && b <= 'F':
		return int(b-'A') + 10
	}
	return -1
}
