package stats

import (
	"encoding/json"
	"io"
	"strings"
)

// WriteCSV writes the header line ("# pxname,svname,...") and one line per
// row, in HAProxy's field order, each line ending with a comma as HAProxy's.
func WriteCSV(w io.Writer, rows []Row) error {
	var b strings.Builder
	b.WriteString("# ")
	for i, f := range columns {
		if i == len(Fields) {
			b.WriteString("-,") // HAProxy's separator before the modules' columns
		}
		b.WriteString(f)
		b.WriteByte(',')
	}
	b.WriteByte('\n')
	for _, r := range rows {
		for i, v := range r.Values {
			if i == len(Fields) {
				b.WriteString("-,")
			}
			b.WriteString(csvEscape(v.String()))
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	_, err := io.WriteString(w, b.String())
	return err
}

// csvEscape quotes a cell holding a comma, quote or newline (RFC 4180), which
// only free-text columns (last_chk, agent replies) can contain.
func csvEscape(s string) string {
	if !strings.ContainsAny(s, ",\"\n\r") {
		return s
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// jsonField is HAProxy's typed-field JSON (`show stat json`, `;json`).
type jsonField struct {
	ObjType    string    `json:"objType"`
	ProxyID    int64     `json:"proxyId"`
	ID         int64     `json:"id"`
	Field      jsonName  `json:"field"`
	ProcessNum int       `json:"processNum"`
	Value      jsonValue `json:"value"`
}

type jsonName struct {
	Pos  int    `json:"pos"`
	Name string `json:"name"`
}

type jsonValue struct {
	Type  string `json:"type"`
	Value any    `json:"value"`
}

// WriteJSON writes rows as HAProxy's JSON: an array per row of typed fields,
// omitting empty cells.
func WriteJSON(w io.Writer, rows []Row) error {
	out := make([][]jsonField, 0, len(rows))
	for _, r := range rows {
		obj := [...]string{"Frontend", "Backend", "Server"}[r.Type]
		iid, sid := r.Get("iid").N, r.Get("sid").N
		var fs []jsonField
		for i, v := range r.Values {
			if !v.Set {
				continue
			}
			jv := jsonValue{Type: "str", Value: v.Text}
			if v.Num {
				jv = jsonValue{Type: "u64", Value: v.N}
				if v.N < 0 {
					jv.Type = "s64"
				}
			}
			fs = append(fs, jsonField{ObjType: obj, ProxyID: iid, ID: sid, Field: jsonName{Pos: i, Name: columns[i]}, ProcessNum: 1, Value: jv})
		}
		out = append(out, fs)
	}
	enc := json.NewEncoder(w)
	return enc.Encode(out)
}
