package file_test

import (
	"bufio"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/varde-lb/varde/core/logrec"
	"github.com/varde-lb/varde/logpipe"
	"github.com/varde-lb/varde/plugins/sink/file"
)

func record(worker, i int) *logrec.Record {
	r := &logrec.Record{}
	r.Reset()
	r.Mode = logrec.ModeHTTP
	r.Accept = time.Now().UnixNano()
	r.Client = netip.MustParseAddrPort("192.0.2.77:40000")
	r.Frontend, r.Backend, r.Server = "fe", "be", "s1"
	r.Status, r.BytesOut = 200, 512
	r.TR, r.Tw, r.Tc, r.Tr, r.Ta = 0, 0, 1, 2, 3
	r.RequestLine.Set(fmt.Appendf(nil, "GET /w%d/r%d HTTP/1.1", worker, i))
	return r
}

// readAll returns every line of every file in dir (gzipped or not).
func readAll(t *testing.T, dir string) (lines []string, files int) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".tmp") {
			t.Errorf("leftover temp file %s", e.Name())
			continue
		}
		f, err := os.Open(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		var rd io.Reader = f
		if strings.HasSuffix(e.Name(), ".gz") {
			zr, err := gzip.NewReader(f)
			if err != nil {
				t.Fatalf("%s: %v", e.Name(), err)
			}
			rd = zr
		}
		sc := bufio.NewScanner(rd)
		for sc.Scan() {
			lines = append(lines, sc.Text())
		}
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
		f.Close()
		files++
	}
	return lines, files
}

func TestRotationUnderLoadKeepsEveryRecordOnce(t *testing.T) {
	for _, compress := range []bool{false, true} {
		t.Run(fmt.Sprintf("compress=%v", compress), func(t *testing.T) {
			dir := t.TempDir()
			spec := logpipe.TargetSpec{Scheme: "file", Address: filepath.Join(dir, "access.log"), Raw: "file@access.log",
				Facility: 16, Level: 6, RotateSize: 16 << 10, Compress: compress,
				Anon: logpipe.AnonSpec{Mode: logpipe.AnonIP, V4Bits: 24, V6Bits: 48}}
			p, err := logpipe.NewFromSpecs([]logpipe.ProxySpec{{Name: "fe", Format: "httplog", Targets: []logpipe.TargetSpec{spec}}},
				logpipe.Options{Batch: 50, Flush: 5 * time.Millisecond, Block: true, QueueSize: 256}, nil)
			if err != nil {
				t.Fatal(err)
			}
			p.Start()
			const workers, per = 4, 2500
			var wg sync.WaitGroup
			for w := 0; w < workers; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; i < per; i++ {
						p.Log(record(w, i))
					}
				}()
			}
			wg.Wait()
			if err := p.Close(context.Background()); err != nil {
				t.Fatal(err)
			}
			lines, files := readAll(t, dir)
			if files < 20 {
				t.Errorf("only %d files: rotation did not happen often enough", files)
			}
			seen := map[string]bool{}
			re := regexp.MustCompile(`^192\.0\.2\.0:40000 .* "GET (/w\d/r\d+) HTTP/1\.1"$`)
			for _, l := range lines {
				m := re.FindStringSubmatch(l)
				if m == nil {
					t.Fatalf("bad line %q", l)
				}
				if seen[m[1]] {
					t.Fatalf("duplicated record %s", m[1])
				}
				seen[m[1]] = true
			}
			if len(seen) != workers*per {
				t.Errorf("%d distinct records in %d files, want %d", len(seen), files, workers*per)
			}
		})
	}
}

func write(t *testing.T, s *file.Sink, lines ...string) {
	t.Helper()
	var buf []byte
	var ends []int
	for _, l := range lines {
		buf = append(buf, l...)
		buf = append(buf, '\n')
		ends = append(ends, len(buf))
	}
	if err := s.Write(buf, ends); err != nil {
		t.Fatal(err)
	}
}

func TestKeepAndRetention(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.log")
	// Files of someone else and an old rotated file of ours.
	old := filepath.Join(dir, "a-2020-01-01T00-00-00.000.log")
	foreign := filepath.Join(dir, "a-notes.log")
	for _, p := range []string{old, foreign} {
		os.WriteFile(p, []byte("x\n"), 0o600)
		os.Chtimes(p, time.Now().Add(-48*time.Hour), time.Now().Add(-48*time.Hour))
	}
	s, err := file.Open(file.Config{Path: path, Keep: 2, Retention: 24 * time.Hour}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := os.Stat(old); !os.IsNotExist(err) {
		t.Errorf("rotated file past retention not deleted at start: %v", err)
	}
	if _, err := os.Stat(foreign); err != nil {
		t.Errorf("a file that is not ours was touched: %v", err)
	}
	for i := 0; i < 5; i++ {
		write(t, s, fmt.Sprintf("line %d", i))
		if err := s.Rotate(); err != nil {
			t.Fatal(err)
		}
	}
	ents, _ := filepath.Glob(filepath.Join(dir, "a-2*.log"))
	if len(ents) != 2 {
		t.Errorf("keep 2: %d rotated files: %v", len(ents), ents)
	}
}

func TestRetentionTimerRotatesAndDeletes(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.log")
	s, err := file.Open(file.Config{Path: path, Retention: 2 * time.Second}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	write(t, s, "first")
	// Within the retention the record's file is rotated (every R/4) and
	// later deleted (at 0.7 R): nothing holding it survives 2 s.
	deadline := time.Now().Add(10 * time.Second)
	for {
		lines, _ := readAll(t, dir)
		found := false
		for _, l := range lines {
			found = found || l == "first"
		}
		if !found {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("record still on disk 10 s after a 2 s retention")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
