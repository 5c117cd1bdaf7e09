package logpipe

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// keyRing holds the HMAC keys of `anonymize hmac KEYFILE [rotate DUR]`.
//
// The key file has one key per line, "PERIOD_START_UNIX HEXKEY", written by
// varde (0600). With rotate DUR a new random key is made for each period of
// DUR; keys whose period ended more than the target's retention ago are
// removed from the file and wiped from memory, so pseudonyms in logs older
// than the retention can no longer be linked to an address, not even by us.
// Without rotate there is one key for ever (linkable across all time).
type keyRing struct {
	mu        sync.Mutex
	path      string
	rotate    time.Duration
	retention time.Duration
	keys      []periodKey // ascending by start
}

type periodKey struct {
	start int64 // unix seconds
	key   []byte
}

func (k *keyRing) periodStart(now time.Time) int64 {
	if k.rotate <= 0 {
		return 0
	}
	sec := int64(k.rotate / time.Second)
	return now.Unix() / sec * sec
}

// openKeyRing loads path, creating it (and the key for now) when needed.
func openKeyRing(path string, rotate, retention time.Duration, now time.Time) (*keyRing, error) {
	k, err := readKeyRing(path, rotate, retention)
	if err != nil {
		return nil, err
	}
	if _, _, err := k.currentErr(now); err != nil {
		return nil, err
	}
	return k, nil
}

// readKeyRing loads path if it exists, changing nothing (what `varde
// check` runs).
func readKeyRing(path string, rotate, retention time.Duration) (*keyRing, error) {
	k := &keyRing{path: path, rotate: rotate, retention: retention}
	f, err := os.Open(path)
	switch {
	case err == nil:
		sc := bufio.NewScanner(f)
		line := 0
		for sc.Scan() {
			line++
			txt := strings.TrimSpace(sc.Text())
			if txt == "" || txt[0] == '#' {
				continue
			}
			fields := strings.Fields(txt)
			if len(fields) != 2 {
				f.Close()
				return nil, fmt.Errorf("anonymize hmac: %s:%d: want \"PERIOD_START HEXKEY\"", path, line)
			}
			start, err1 := strconv.ParseInt(fields[0], 10, 64)
			key, err2 := hex.DecodeString(fields[1])
			if err1 != nil || err2 != nil || len(key) < 16 {
				f.Close()
				return nil, fmt.Errorf("anonymize hmac: %s:%d: bad key line (need a unix time and >= 16 hex-encoded bytes)", path, line)
			}
			k.keys = append(k.keys, periodKey{start: start, key: key})
		}
		f.Close()
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("anonymize hmac: read %s: %w", path, err)
		}
	case os.IsNotExist(err):
	default:
		return nil, fmt.Errorf("anonymize hmac: %w", err)
	}
	return k, nil
}

// current returns the key for now, creating (and persisting) it when a new
// period starts. On a write error it keeps using the newest key in memory:
// logging must not stop because the key file's disk is full.
func (k *keyRing) current(now time.Time) (int64, []byte) {
	id, key, _ := k.currentErr(now)
	return id, key
}

func (k *keyRing) currentErr(now time.Time) (int64, []byte, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	ps := k.periodStart(now)
	if n := len(k.keys); n > 0 && (k.rotate <= 0 || ps <= k.keys[n-1].start) {
		// The period's key, or for a clock that stepped back, the newest
		// key: never create a key for a past period.
		for i := n - 1; i >= 0; i-- {
			if k.keys[i].start == ps {
				return ps, k.keys[i].key, nil
			}
		}
		return k.keys[n-1].start, k.keys[n-1].key, nil
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return 0, nil, fmt.Errorf("anonymize hmac: random key: %w", err)
	}
	k.keys = append(k.keys, periodKey{start: ps, key: key})
	k.pruneLocked(now)
	return ps, key, k.saveLocked()
}

// prune destroys keys whose period ended more than retention ago.
func (k *keyRing) prune(now time.Time) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if !k.pruneLocked(now) {
		return nil
	}
	return k.saveLocked()
}

func (k *keyRing) pruneLocked(now time.Time) bool {
	if k.rotate <= 0 || k.retention <= 0 {
		return false
	}
	cut := now.Add(-k.retention).Unix()
	kept := k.keys[:0]
	changed := false
	for i, pk := range k.keys {
		end := pk.start + int64(k.rotate/time.Second)
		if i < len(k.keys)-1 && end < cut {
			clear(pk.key) // wipe before dropping the reference
			changed = true
			continue
		}
		kept = append(kept, pk)
	}
	k.keys = kept
	return changed
}

// saveLocked rewrites the key file atomically (temp file + rename), 0600.
func (k *keyRing) saveLocked() error {
	var b bytes.Buffer
	b.WriteString("# varde anonymize hmac keys: PERIOD_START_UNIX HEXKEY (managed by varde; do not share)\n")
	for _, pk := range k.keys {
		fmt.Fprintf(&b, "%d %s\n", pk.start, hex.EncodeToString(pk.key))
	}
	tmp, err := os.CreateTemp(filepath.Dir(k.path), ".varde-keys-*")
	if err != nil {
		return fmt.Errorf("anonymize hmac: save keys: %w", err)
	}
	if err := tmp.Chmod(0o600); err == nil {
		_, err = tmp.Write(b.Bytes())
		if err == nil {
			err = tmp.Sync()
		}
		if cerr := tmp.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Rename(tmp.Name(), k.path)
		}
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("anonymize hmac: save keys %s: %w", k.path, err)
	}
	return nil
}

func (k *keyRing) count() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.keys)
}
