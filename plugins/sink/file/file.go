// Package file registers varde's `file@PATH` log target: batched appends to
// a file with size rotation (`rotate SIZE`), time rotation (`rotate-every
// DUR`), `keep N` old files, `compress` (gzip) and `retention DUR`. External rotation
// (logrotate) reloads varde, whose new generation opens the file anew.
//
// Rotation is done here rather than with lumberjack: lumberjack's size unit
// is a whole megabyte and its backup names have millisecond resolution, so
// two rotations within one millisecond rename onto the same backup name and
// lose a file; under load with small sizes that happens. This rotator splits
// batches at record boundaries (a record is in exactly one file) and never
// reuses a name.
package file

import (
	"compress/gzip"
	"errors"
	"fmt"
	"golang.org/x/sys/unix"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/varde-lb/varde/core"
	"github.com/varde-lb/varde/logpipe"
)

func init() {
	logpipe.RegisterTarget(core.SinkScheme{
		Name:    "file",
		Options: []string{"retention", "rotate", "keep", "compress", "rotate-every"},
		Stores:  true,
		Format:  "raw",
		Len:     64 << 10,
		Parse:   parseTarget,
		Check:   checkTarget,
	}, func(t logpipe.TargetSpec, env logpipe.SinkEnv) (logpipe.Sink, error) {
		return Open(Config{
			Path: t.Address, MaxSize: t.RotateSize, Keep: t.Keep, Compress: t.Compress,
			RotateEvery: t.RotateEvery, Retention: t.Retention,
		}, env.Logger, env.Now)
	})
}

// parseTarget wants an absolute path: a relative one would depend on the
// directory varde happens to be started from.
func parseTarget(t core.LogTarget) error {
	if !filepath.IsAbs(t.Address) {
		return core.ArgErrorf(-1, "write an absolute path: file@/var/log/varde/access.log", "log file path %q is not absolute", t.Address)
	}
	return nil
}

// checkTarget refuses, at configuration time, what Open would: a missing
// directory (Open creates the file, not its directory).
func checkTarget(t core.LogTarget) error {
	dir := filepath.Dir(t.Address)
	st, err := os.Stat(dir)
	switch {
	case err != nil:
		return core.ArgErrorf(-1, "create "+dir+" (writable by varde) or fix the path", "log directory %s: %v", dir, errors.Unwrap(err))
	case !st.IsDir():
		return core.ArgErrorf(-1, "fix the path", "log directory %s is not a directory", dir)
	case unix.Access(dir, unix.W_OK) != nil:
		return core.ArgErrorf(-1, "give varde's user write access to "+dir, "log directory %s is not writable", dir)
	}
	switch st, err := os.Stat(t.Address); {
	case err != nil:
	case st.IsDir():
		return core.ArgErrorf(-1, "name a file, not a directory", "log file %s is a directory", t.Address)
	case unix.Access(t.Address, unix.W_OK) != nil:
		return core.ArgErrorf(-1, "give varde's user write access to "+t.Address, "log file %s is not writable", t.Address)
	}
	return nil
}

// Config is one file target.
type Config struct {
	Path        string
	MaxSize     int64         // rotate before the file would exceed this (0 = never)
	Keep        int           // rotated files kept (0 = all)
	Compress    bool          // gzip rotated files
	RotateEvery time.Duration // rotate on a timer (0 = never)
	Retention   time.Duration // delete files older than this (0 = never)
}

// Sink is an append-only log file with rotation.
type Sink struct {
	cfg    Config
	log    *slog.Logger
	now    func() time.Time
	dir    string
	prefix string // base name without extension, + "-"
	ext    string

	mu     sync.Mutex
	f      *os.File
	size   int64
	opened time.Time
	seq    int
	last   string // last backup name, to never reuse one

	stop chan struct{}
	wg   sync.WaitGroup
}

// Open opens (or creates) the file and starts the rotation/retention timer.
func Open(cfg Config, log *slog.Logger, now func() time.Time) (*Sink, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if now == nil {
		now = time.Now
	}
	if cfg.Path == "" {
		return nil, fmt.Errorf("file sink: empty path")
	}
	ext := filepath.Ext(cfg.Path)
	base := strings.TrimSuffix(filepath.Base(cfg.Path), ext)
	s := &Sink{cfg: cfg, log: log, now: now, dir: filepath.Dir(cfg.Path), prefix: base + "-", ext: ext, stop: make(chan struct{})}
	if err := s.openLocked(); err != nil {
		return nil, err
	}
	s.sweep() // retention at start
	if every := s.rotateInterval(); every > 0 || cfg.Retention > 0 {
		s.wg.Add(1)
		go s.timer(every)
	}
	return s, nil
}

// rotateInterval: rotate-every, and at least every quarter of the retention
// so the active file never holds records older than the retention allows
// (see sweep for the arithmetic).
func (s *Sink) rotateInterval() time.Duration {
	every := s.cfg.RotateEvery
	if r := s.cfg.Retention / 4; r > 0 && (every == 0 || r < every) {
		every = r
	}
	return every
}

// deleteAfter is the age (by modification time, i.e. the newest record) at
// which a rotated file is deleted. A rotated file holds records at most one
// rotation interval older than its mtime, and the sweep runs every
// retention/20, so deleting at 70% of the retention keeps every record's
// age under the retention: 0.70 + 0.25 + 0.05 = 1.
func (s *Sink) deleteAfter() time.Duration {
	return s.cfg.Retention * 7 / 10
}

func (s *Sink) timer(every time.Duration) {
	defer s.wg.Done()
	sweepEvery := time.Duration(0)
	if s.cfg.Retention > 0 {
		sweepEvery = min(max(s.cfg.Retention/20, 100*time.Millisecond), 10*time.Minute)
	}
	var rot, sw <-chan time.Time
	if every > 0 {
		t := time.NewTicker(every)
		defer t.Stop()
		rot = t.C
	}
	if sweepEvery > 0 {
		t := time.NewTicker(sweepEvery)
		defer t.Stop()
		sw = t.C
	}
	for {
		select {
		case <-s.stop:
			return
		case <-rot:
			s.mu.Lock()
			if s.size > 0 {
				if err := s.rotateLocked(); err != nil {
					s.log.Error("log rotation failed", "path", s.cfg.Path, "err", err)
				}
			}
			s.mu.Unlock()
		case <-sw:
			s.sweep()
		}
	}
}

func (s *Sink) openLocked() error {
	f, err := os.OpenFile(s.cfg.Path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return fmt.Errorf("file sink: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("file sink: %w", err)
	}
	s.f, s.size, s.opened = f, st.Size(), s.now()
	return nil
}

// Framing implements logpipe.Sink.
func (s *Sink) Framing() logpipe.Framing { return logpipe.FrameNewline }

// Write appends the batch, rotating between records when the next record
// would push the file past MaxSize.
func (s *Sink) Write(buf []byte, ends []int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		if err := s.openLocked(); err != nil {
			return err
		}
	}
	if s.cfg.MaxSize <= 0 {
		return s.writeLocked(buf)
	}
	start, i := 0, 0
	for i < len(ends) {
		room := s.cfg.MaxSize - s.size
		end, j := start, i
		for j < len(ends) && int64(ends[j]-start) <= room {
			end = ends[j]
			j++
		}
		if j == i { // the next record does not fit
			if s.size > 0 {
				if err := s.rotateLocked(); err != nil {
					return err
				}
				continue
			}
			end, j = ends[i], i+1 // larger than MaxSize on its own: alone in a file
		}
		if err := s.writeLocked(buf[start:end]); err != nil {
			return err
		}
		start, i = end, j
		if s.size >= s.cfg.MaxSize {
			if err := s.rotateLocked(); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *Sink) writeLocked(b []byte) error {
	n, err := s.f.Write(b)
	s.size += int64(n)
	if err != nil {
		return fmt.Errorf("file sink: %w", err)
	}
	return nil
}

// backupName is PREFIX-2006-01-02T15-04-05.000EXT, with -N added when that
// name was already used (several rotations in one millisecond).
func (s *Sink) backupName() string {
	ts := s.now().UTC().Format("2006-01-02T15-04-05.000")
	name := s.prefix + ts
	if name == s.last || exists(filepath.Join(s.dir, name+s.ext)) || exists(filepath.Join(s.dir, name+s.ext+".gz")) {
		for {
			s.seq++
			cand := fmt.Sprintf("%s-%d", name, s.seq)
			if !exists(filepath.Join(s.dir, cand+s.ext)) && !exists(filepath.Join(s.dir, cand+s.ext+".gz")) {
				name = cand
				break
			}
		}
	} else {
		s.seq = 0
	}
	s.last = name
	return filepath.Join(s.dir, name+s.ext)
}

func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

func (s *Sink) rotateLocked() error {
	if s.f != nil {
		if err := s.f.Close(); err != nil {
			s.log.Error("closing log file before rotation", "path", s.cfg.Path, "err", err)
		}
		s.f = nil
	}
	backup := s.backupName()
	if err := os.Rename(s.cfg.Path, backup); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("file sink: rotate: %w", err)
	}
	if err := s.openLocked(); err != nil {
		return err
	}
	if s.cfg.Compress {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			if err := compress(backup); err != nil {
				s.log.Error("compressing rotated log failed", "path", backup, "err", err)
			}
			s.prune()
		}()
	} else {
		s.prune()
	}
	return nil
}

// compress gzips src into src.gz (keeping its mtime, which retention
// reads) and removes src.
func compress(src string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		return err
	}
	tmp := src + ".gz.tmp"
	out, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		return err
	}
	zw := gzip.NewWriter(out)
	_, err = io.Copy(zw, in)
	if cerr := zw.Close(); err == nil {
		err = cerr
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chtimes(tmp, st.ModTime(), st.ModTime())
	}
	if err == nil {
		err = os.Rename(tmp, src+".gz")
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Remove(src)
}

type backup struct {
	path string
	mod  time.Time
}

// backups lists rotated files of this target, oldest first.
func (s *Sink) backups() []backup {
	ents, err := os.ReadDir(s.dir)
	if err != nil {
		return nil
	}
	var out []backup
	for _, e := range ents {
		n := e.Name()
		if !strings.HasPrefix(n, s.prefix) || !(strings.HasSuffix(n, s.ext) || strings.HasSuffix(n, s.ext+".gz")) {
			continue
		}
		if !isStamp(strings.TrimPrefix(n, s.prefix)) {
			continue
		}
		info, err := e.Info()
		if err != nil || !info.Mode().IsRegular() {
			continue
		}
		out = append(out, backup{filepath.Join(s.dir, n), info.ModTime()})
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].mod.Equal(out[j].mod) {
			return out[i].mod.Before(out[j].mod)
		}
		return out[i].path < out[j].path
	})
	return out
}

// isStamp checks that a name continues with the backup timestamp, so
// "access-old.log" written by someone else is never touched.
func isStamp(s string) bool {
	const layout = "2006-01-02T15-04-05.000"
	if len(s) < len(layout) {
		return false
	}
	_, err := time.Parse(layout, s[:len(layout)])
	return err == nil
}

// prune enforces keep N.
func (s *Sink) prune() {
	if s.cfg.Keep <= 0 {
		return
	}
	b := s.backups()
	for i := 0; i < len(b)-s.cfg.Keep; i++ {
		if err := os.Remove(b[i].path); err != nil && !os.IsNotExist(err) {
			s.log.Error("removing old log file failed", "path", b[i].path, "err", err)
		}
	}
}

// sweep enforces retention on rotated files.
func (s *Sink) sweep() {
	if s.cfg.Retention <= 0 {
		return
	}
	cut := s.now().Add(-s.deleteAfter())
	for _, b := range s.backups() {
		if b.mod.Before(cut) {
			if err := os.Remove(b.path); err != nil && !os.IsNotExist(err) {
				s.log.Error("deleting log file past retention failed", "path", b.path, "err", err)
			} else {
				s.log.Info("deleted log file past retention", "path", b.path, "modified", b.mod)
			}
		}
	}
}

// Rotate rotates now (used by tests and `rotate-every`).
func (s *Sink) Rotate() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rotateLocked()
}

// Close stops the timer, waits for compression and closes the file.
func (s *Sink) Close() error {
	select {
	case <-s.stop:
	default:
		close(s.stop)
	}
	s.wg.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return nil
	}
	err := s.f.Close()
	s.f = nil
	return err
}
