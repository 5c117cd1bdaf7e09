package stats

import (
	"fmt"
	"html/template"
	"strings"
	"sync"
	"time"
)

// HistoryLen and HistoryStep size the stats page's inline history: 60
// samples 5 s apart, the last five minutes.
const (
	HistoryLen  = 60
	HistoryStep = 5 * time.Second
)

// History keeps, per backend, the request rate and the 5xx rate of the
// last minutes in a small ring, sampled from the snapshot source every
// HistoryStep. HAProxy has no such thing; it draws as inline SVG so the
// page needs no external asset.
type History struct {
	src  Source
	mu   sync.Mutex
	last map[string][2]uint64     // totals at the previous sample: requests, 5xx
	ring map[string]*[2][]float64 // per second: requests, 5xx (oldest first)
	stop chan struct{}
	done chan struct{}
}

// NewHistory returns a history of src's backends; Start samples it.
func NewHistory(src Source) *History {
	return &History{src: src, last: map[string][2]uint64{}, ring: map[string]*[2][]float64{}}
}

// Start samples every step until Stop.
func (h *History) Start(step time.Duration) {
	h.stop, h.done = make(chan struct{}), make(chan struct{})
	h.Sample(step)
	go func() {
		defer close(h.done)
		t := time.NewTicker(step)
		defer t.Stop()
		for {
			select {
			case <-h.stop:
				return
			case <-t.C:
				h.Sample(step)
			}
		}
	}()
}

// Stop ends the sampling (nil-safe, idempotent).
func (h *History) Stop() {
	if h == nil || h.stop == nil {
		return
	}
	select {
	case <-h.stop:
	default:
		close(h.stop)
		<-h.done
	}
}

// Sample records one point per backend: the requests and 5xx answers per
// second since the previous sample.
func (h *History) Sample(step time.Duration) {
	snap := h.src.Snapshot()
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, p := range snap.Proxies {
		c := p.Backend
		if c == nil {
			continue
		}
		cur := [2]uint64{c.Requests, c.Status[5]}
		if p.Mode != "http" {
			cur[0] = c.TotalConns
		}
		prev, seen := h.last[p.Name]
		h.last[p.Name] = cur
		if !seen {
			continue
		}
		r := h.ring[p.Name]
		if r == nil {
			r = &[2][]float64{}
			h.ring[p.Name] = r
		}
		for i := range r {
			v := float64(cur[i]-min(prev[i], cur[i])) / step.Seconds()
			r[i] = append(r[i], v)
			if len(r[i]) > HistoryLen {
				r[i] = r[i][len(r[i])-HistoryLen:]
			}
		}
	}
}

// Series returns a backend's request and 5xx rates, oldest first.
func (h *History) Series(backend string) (req, errs []float64) {
	if h == nil {
		return nil, nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if r := h.ring[backend]; r != nil {
		return append([]float64(nil), r[0]...), append([]float64(nil), r[1]...)
	}
	return nil, nil
}

// Sparkline draws a backend's history as an inline SVG: requests/s in
// blue, 5xx/s in red, on a common scale, with the peak as a tooltip.
func (h *History) Sparkline(backend string) template.HTML {
	req, errs := h.Series(backend)
	const w, ht = 180, 28
	peak := 0.0
	for i := range req {
		peak = max(peak, req[i], errs[i])
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="spark" width="%d" height="%d" viewBox="0 0 %d %d" role="img"><title>last %d min: peak %.1f req/s, now %.1f req/s, %.1f 5xx/s</title>`,
		w, ht, w, ht, HistoryLen*int(HistoryStep/time.Second)/60, peak, last(req), last(errs))
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#fff" stroke="#999"/>`, w, ht)
	if len(req) < 2 {
		fmt.Fprintf(&b, `<text x="6" y="18" font-size="10" fill="#666">history: sampling every %ds</text>`, int(HistoryStep/time.Second))
	}
	for i, s := range [][]float64{req, errs} {
		if len(s) == 0 {
			continue
		}
		color := [...]string{"#20408c", "#d00000"}[i]
		b.WriteString(`<polyline fill="none" stroke-width="1.5" stroke="` + color + `" points="`)
		for j, v := range s {
			x := float64(w-1) - float64(len(s)-1-j)*float64(w-2)/float64(HistoryLen-1)
			y := float64(ht - 2)
			if peak > 0 {
				y -= v / peak * float64(ht-4)
			}
			fmt.Fprintf(&b, "%.1f,%.1f ", x, y)
		}
		b.WriteString(`"/>`)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

func last(s []float64) float64 {
	if len(s) == 0 {
		return 0
	}
	return s[len(s)-1]
}
