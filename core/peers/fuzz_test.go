package peers

import (
	"bufio"
	"bytes"
	"testing"
)

// FuzzDecode feeds a byte stream to the message decoder as a session
// would: framed messages, a table definition then updates for it, acks.
// Nothing may panic, loop or allocate beyond the message limit; whatever
// decodes must encode back to what was read.
func FuzzDecode(f *testing.F) {
	d := testDef()
	var seed []byte
	seed = AppendMessage(seed, ClassControl, CtrlResyncReq, nil)
	seed = AppendTableDef(seed, d)
	seed = AppendUpdate(seed, d, &Update{ID: 1, HasID: true, Key: []byte{127, 0, 0, 1}, Values: []Value{
		{Type: DTServerID, Int: 1}, {Type: DTGPC0, Int: 2}, {Type: DTHTTPReqRate, Freq: Freq{1, 2, 3}},
		{Type: DTBytesOutCnt, Int: 4}, {Type: DTGPC}, {Type: DTGPC}, {Type: DTGPCRate}}})
	seed = AppendAck(seed, Ack{TableID: 3, Update: 1})
	f.Add(seed)
	f.Add(AppendTableDef(nil, &TableDef{ID: 1, Name: "s", KeyType: KeyStr, KeyLen: 33, Data: 1<<DTServerKey | 1<<DTGPT}))
	f.Add([]byte{10, 0x82, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, in []byte) {
		r := bufio.NewReader(bytes.NewReader(in))
		var def *TableDef
		for range 64 {
			m, err := ReadMessage(r, 4096)
			if err != nil {
				return
			}
			if len(m.Data) > 4096 {
				t.Fatalf("%d bytes of data past the limit", len(m.Data))
			}
			if m.Class != ClassStickTable {
				continue
			}
			switch m.Type {
			case StktDefine:
				if nd, err := ParseTableDef(m.Data); err == nil {
					def = nd
					checkDefRoundTrip(t, nd)
				}
			case StktUpdate, StktIncUpdate, StktUpdateTimed, StktIncUpdateTimed:
				if def == nil {
					continue
				}
				if u, err := ParseUpdate(m.Type, def, m.Data); err == nil {
					checkUpdateRoundTrip(t, def, u)
				}
			case StktAck:
				_, _ = ParseAck(m.Data)
			}
		}
	})
}

func checkDefRoundTrip(t *testing.T, d *TableDef) {
	m, err := ReadMessage(bufio.NewReader(bytes.NewReader(AppendTableDef(nil, d))), MaxMessage*4)
	if err != nil {
		t.Fatalf("re-read define: %v", err)
	}
	back, err := ParseTableDef(m.Data)
	if err != nil || back.Name != d.Name || back.Data != d.Data || back.KeyLen != d.KeyLen {
		t.Fatalf("define round trip: %+v %v, want %+v", back, err, d)
	}
}

func checkUpdateRoundTrip(t *testing.T, d *TableDef, u *Update) {
	m, err := ReadMessage(bufio.NewReader(bytes.NewReader(AppendUpdate(nil, d, u))), MaxMessage*4)
	if err != nil {
		t.Fatalf("re-read update: %v", err)
	}
	back, err := ParseUpdate(m.Type, d, m.Data)
	if err != nil || !bytes.Equal(back.Key, u.Key) || len(back.Values) != len(u.Values) {
		t.Fatalf("update round trip: %+v %v, want %+v", back, err, u)
	}
}
