package peers

import (
	"bufio"
	"bytes"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
)

// TestVarintLengths: the byte counts of HAProxy's doc/peers-v2.0.txt
// table (and PEER_ENC_*BYTES_MIN of src/peers.c) at each boundary.
func TestVarintLengths(t *testing.T) {
	for _, tc := range []struct {
		v    uint64
		want int
	}{
		{0, 1}, {239, 1}, {240, 2}, {2287, 2}, {2288, 3}, {264431, 3}, {264432, 4},
		{33818863, 4}, {33818864, 5}, {4328786159, 5}, {4328786160, 6}, {math.MaxUint64, 10},
	} {
		b := AppendVarint(nil, tc.v)
		if len(b) != tc.want {
			t.Errorf("%d: %d bytes (% x), want %d", tc.v, len(b), b, tc.want)
		}
		got, n, err := Varint(append(b, 0xff))
		if err != nil || got != tc.v || n != len(b) {
			t.Errorf("%d: decoded %d in %d bytes, err %v", tc.v, got, n, err)
		}
	}
}

// TestVarintKnownBytes pins encodings computed by hand from intencode.
func TestVarintKnownBytes(t *testing.T) {
	for _, tc := range []struct {
		v    uint64
		want []byte
	}{
		{5, []byte{5}},
		{240, []byte{0xf0, 0x00}},
		{1000, []byte{0xf8, 0x2f}},    // 1000|0xf0=0xf8, (1000-240)>>4=47
		{2288, []byte{0xf0, 0x80, 0}}, // (2288-240)>>4=128 -> 0x80, (128-128)>>7=0
	} {
		if got := AppendVarint(nil, tc.v); !bytes.Equal(got, tc.want) {
			t.Errorf("%d: % x, want % x", tc.v, got, tc.want)
		}
	}
}

func TestVarintErrors(t *testing.T) {
	for _, tc := range []struct {
		in   []byte
		want error
	}{
		{nil, ErrTruncated},
		{[]byte{0xf0}, ErrTruncated},
		{[]byte{0xf0, 0x80, 0x80}, ErrTruncated},
		{bytes.Repeat([]byte{0xff}, 12), ErrTooLong},
	} {
		if _, _, err := Varint(tc.in); !errors.Is(err, tc.want) {
			t.Errorf("% x: %v, want %v", tc.in, err, tc.want)
		}
	}
}

func TestHello(t *testing.T) {
	h := Hello{Major: 2, Minor: 1, Remote: "lb2", Local: "lb1", PID: 4242, RelPID: 1}
	b := AppendHello(nil, h)
	if string(b) != "HAProxyS 2.1\nlb2\nlb1 4242 1\n" {
		t.Fatalf("hello %q", b)
	}
	got, st, err := ReadHello(bufio.NewReader(bytes.NewReader(b)))
	if err != nil || st != StatusOK || got != h {
		t.Fatalf("read back %+v %d %v", got, st, err)
	}
	for _, tc := range []struct {
		in   string
		want int
	}{
		{"HAProxyS 2.0\nlb2\nlb1 1 1\n", StatusOK},
		{"HAProxyS 2.2\nlb2\nlb1 1 1\n", StatusErrVersion},
		{"HAProxyS 3.0\nlb2\nlb1 1 1\n", StatusErrVersion},
		{"HAProxyX 2.1\nlb2\nlb1 1 1\n", StatusErrProto},
		{"HAProxyS 2.1\nlb2\nlb1 1\n", StatusErrProto},
		{"HAProxyS 2.1\nlb2\nlb1 x 1\n", StatusErrProto},
		{"HAProxyS 2.1\nlb2", StatusErrProto},
		{"HAProxyS 2.1\n" + strings.Repeat("a", 2000) + "\n", StatusErrProto},
	} {
		if _, st, _ := ReadHello(bufio.NewReader(strings.NewReader(tc.in))); st != tc.want {
			t.Errorf("%q: status %d, want %d", tc.in, st, tc.want)
		}
	}
}

func TestMessageFraming(t *testing.T) {
	var b []byte
	b = AppendMessage(b, ClassControl, CtrlHeartbeat, nil)
	big := bytes.Repeat([]byte("x"), 3000)
	b = AppendMessage(b, ClassStickTable, StktAck, big)
	r := bufio.NewReader(bytes.NewReader(b))
	m, err := ReadMessage(r, MaxMessage)
	if err != nil || m.Class != ClassControl || m.Type != CtrlHeartbeat || m.Data != nil {
		t.Fatalf("first: %+v %v", m, err)
	}
	m, err = ReadMessage(r, MaxMessage)
	if err != nil || m.Type != StktAck || !bytes.Equal(m.Data, big) {
		t.Fatalf("second: %d bytes, %v", len(m.Data), err)
	}
	if _, err := ReadMessage(bufio.NewReader(bytes.NewReader(AppendMessage(nil, ClassStickTable, StktAck, big))), 100); !errors.Is(err, ErrTooBig) {
		t.Fatalf("over the limit: %v", err)
	}
}

// testDef is a table with an integer, a rate and an array of each kind.
func testDef() *TableDef {
	d := &TableDef{ID: 3, Name: "be", KeyType: KeyIPv4, KeyLen: 4, Expire: 60000,
		Data: 1<<DTServerID | 1<<DTGPC0 | 1<<DTHTTPReqRate | 1<<DTBytesOutCnt | 1<<DTGPC | 1<<DTGPCRate}
	d.Period[DTHTTPReqRate] = 10000
	d.NbElem[DTGPC], d.NbElem[DTGPCRate], d.Period[DTGPCRate] = 2, 1, 1000
	return d
}

func TestTableDefAndUpdateRoundTrip(t *testing.T) {
	d := testDef()
	msg := AppendTableDef(nil, d)
	m, err := ReadMessage(bufio.NewReader(bytes.NewReader(msg)), MaxMessage)
	if err != nil || m.Class != ClassStickTable || m.Type != StktDefine {
		t.Fatalf("define: %+v %v", m, err)
	}
	got, err := ParseTableDef(m.Data)
	if err != nil || !reflect.DeepEqual(got, d) {
		t.Fatalf("define: %+v %v, want %+v", got, err, d)
	}
	u := &Update{ID: 77, HasID: true, Expire: 59000, HasTimed: true, Key: []byte{10, 1, 2, 3}, Values: []Value{
		{Type: DTServerID, Int: 2}, {Type: DTGPC0, Int: 1 << 40}, {Type: DTHTTPReqRate, Freq: Freq{Age: 1234, Curr: 7, Prev: 3}},
		{Type: DTBytesOutCnt, Int: 99999}, {Type: DTGPC, Int: 1}, {Type: DTGPC, Int: 2}, {Type: DTGPCRate, Freq: Freq{Age: 1, Curr: 2, Prev: 3}},
	}}
	msg = AppendUpdate(nil, d, u)
	m, err = ReadMessage(bufio.NewReader(bytes.NewReader(msg)), MaxMessage)
	if err != nil || m.Type != StktUpdateTimed {
		t.Fatalf("update: %+v %v", m, err)
	}
	gu, err := ParseUpdate(m.Type, d, m.Data)
	if err != nil || !reflect.DeepEqual(gu, u) {
		t.Fatalf("update: %+v %v, want %+v", gu, err, u)
	}
	sd := &TableDef{ID: 1, Name: "s", KeyType: KeyStr, KeyLen: 33, Data: 1 << DTGPT0}
	su := &Update{Key: []byte("hello"), Values: []Value{{Type: DTGPT0, Int: 5}}}
	m, _ = ReadMessage(bufio.NewReader(bytes.NewReader(AppendUpdate(nil, sd, su))), MaxMessage)
	if gu, err := ParseUpdate(m.Type, sd, m.Data); err != nil || m.Type != StktIncUpdate || !reflect.DeepEqual(gu, su) {
		t.Fatalf("string key update: %+v %v", gu, err)
	}
	a := Ack{TableID: 3, Update: 77}
	m, _ = ReadMessage(bufio.NewReader(bytes.NewReader(AppendAck(nil, a))), MaxMessage)
	if ga, err := ParseAck(m.Data); err != nil || ga != a {
		t.Fatalf("ack: %+v %v", ga, err)
	}
}

// TestTableDefErrors: definitions HAProxy ignores or refuses.
func TestTableDefErrors(t *testing.T) {
	full := AppendTableDef(nil, testDef())
	m, _ := ReadMessage(bufio.NewReader(bytes.NewReader(full)), MaxMessage)
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"no name", []byte{1, 0, 4, 4, 0}},
		{"truncated params", m.Data[:len(m.Data)-1]},
		{"array without size (2.0 form)", AppendVarint([]byte{1, 1, 'x', 4, 4}, 1<<DTGPC)},
		{"params out of order", append(AppendVarint([]byte{1, 1, 'x', 4, 4}, 1<<DTConnRate), 0, 6, 100)},
	} {
		if _, err := ParseTableDef(tc.data); err == nil {
			t.Errorf("%s: accepted", tc.name)
		}
	}
	// A 2.0 definition (no expire, no parameters) is accepted.
	if d, err := ParseTableDef(AppendVarint([]byte{1, 1, 'x', 4, 4}, 1<<DTConnRate)); err != nil || !d.Has(DTConnRate) {
		t.Fatalf("2.0 definition: %+v %v", d, err)
	}
}
