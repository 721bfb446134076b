package disk

import (
	"cmp"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/tiercache/tiercache"
)

// found is an entry file seen by the open scan.
type found struct {
	e     *entry
	mtime int64
}

// load removes temporary files left by a crash and expired or malformed
// entry files, and rebuilds the index from the remaining files, least
// recently modified first. Subdirectories are created by the first Put that
// needs them, so opening an empty Dir costs one ReadDir.
func (s *Store) load() error {
	now := unixNano(s.cfg.Now())
	top, err := os.ReadDir(s.dir)
	if err != nil {
		return fmt.Errorf("disk: open %s: %w", s.dir, err)
	}
	var all []found
	for _, sd := range top {
		if isSubdirName(sd.Name()) {
			all = s.loadSubdir(sd, now, all)
		}
	}
	slices.SortFunc(all, func(a, b found) int { return cmp.Compare(a.mtime, b.mtime) })
	es := make([]*entry, len(all))
	for i, f := range all {
		es[i] = f.e
	}
	s.dropVictims(s.idx.load(es))
	return nil
}

// loadSubdir scans one fan-out subdirectory. One that is not a directory
// (a plain file, a link) is removed, so that the first Put that needs it
// creates it again; one that cannot be read is skipped, its files unknown to
// the index (they are neither served nor counted in MaxBytes). Both are
// reported: one bad subdirectory must not keep the cache from opening.
func (s *Store) loadSubdir(sd fs.DirEntry, now int64, all []found) []found {
	sub := filepath.Join(s.dir, sd.Name())
	if !sd.IsDir() {
		err := fmt.Errorf("disk: open %s: fan-out %s is not a directory (%v): removed", s.dir, sub, sd.Type())
		if rerr := removePath(sub); rerr != nil {
			err = fmt.Errorf("disk: open %s: fan-out %s is not a directory (%v) and cannot be removed: %w", s.dir, sub, sd.Type(), rerr)
		}
		s.corrupt.Add(1)
		s.report("", err)
		return all
	}
	des, err := os.ReadDir(sub)
	if err != nil {
		s.report("", fmt.Errorf("disk: open %s: skipping fan-out %s: %w", s.dir, sub, err))
		return all
	}
	for _, de := range des {
		all = s.loadOne(sub, de.Name(), now, all)
	}
	return all
}

// isSubdirName reports whether name is a fan-out subdirectory: two
// lowercase hex digits.
func isSubdirName(name string) bool {
	if len(name) != 2 || strings.ToLower(name) != name {
		return false // checked first: hex.Decode panics when name is too long for b
	}
	var b [1]byte
	_, err := hex.Decode(b[:], []byte(name))
	return err == nil
}

// loadOne handles one directory entry of the open scan and appends a valid,
// live entry file to all.
func (s *Store) loadOne(sub, name string, now int64, all []found) []found {
	path := filepath.Join(sub, name)
	if strings.HasPrefix(name, tempPrefix) {
		if err := removePath(path); err != nil {
			s.report("", fmt.Errorf("disk: remove leftover %s: %w", path, err))
		}
		return all
	}
	h, ok := parseName(filepath.Base(sub), name)
	if !ok {
		return all // not ours: leave it alone
	}
	hd, mtime, err := readHeader(path)
	switch {
	case err == nil && expired(hd.deadline, now):
		if err := removePath(path); err != nil {
			s.report("", fmt.Errorf("disk: remove expired %s: %w", path, err))
		}
		s.expired.Add(1)
	case err == nil:
		e := &entry{h: h, size: fileSize(hd.keyLen, hd.valueLen), deadline: hd.deadline}
		all = append(all, found{e, mtime})
	case errors.Is(err, fs.ErrNotExist):
	default:
		err = errors.Join(fmt.Errorf("disk: %s: %w", path, err), removePath(path))
		s.corrupt.Add(1)
		s.report("", err)
	}
	return all
}

// parseName returns the hash an entry file name encodes, if it is one: 64
// lowercase hex digits whose first two name its subdirectory.
func parseName(sub, name string) (keyHash, bool) {
	var h keyHash
	if len(name) != 2*len(h) || !strings.HasPrefix(name, sub) || strings.ToLower(name) != name {
		return h, false
	}
	if _, err := hex.Decode(h[:], []byte(name)); err != nil {
		return h, false
	}
	return h, true
}

// readHeader reads and checks the fixed header of a regular entry file (see
// openEntry) and returns it with the file's modification time.
func readHeader(path string) (header, int64, error) {
	f, fi, err := openEntry(path)
	if err != nil {
		return header{}, 0, err
	}
	defer f.Close()
	var b [headerSize]byte
	if _, err := io.ReadFull(f, b[:]); err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return header{}, 0, err
	}
	hd, err := parseHeader(b[:], fi.Size())
	return hd, fi.ModTime().UnixNano(), err
}

// Sweep removes every expired entry now and returns how many it removed.
// The periodic sweep calls it; it holds the index lock for one pass over
// the index and unlinks files outside it.
func (s *Store) Sweep() (int, error) {
	s.life.RLock()
	defer s.life.RUnlock()
	if s.closed {
		return 0, errClosed
	}
	n := 0
	for _, e := range s.idx.expired(unixNano(s.cfg.Now())) {
		if s.removeEntry(e) {
			s.expired.Add(1)
			n++
		}
	}
	return n, nil
}

// sweepLoop runs Sweep every interval until Close. Nothing a sweep meets
// stops it: a panic (of the OnError hook, the only outside code it runs) is
// recovered in sweepOnce, and a runtime.Goexit, which ends the goroutine,
// starts a new loop. Both are counted in Stats.Panics.
func (s *Store) sweepLoop(every time.Duration) {
	stopped := false
	defer func() {
		if stopped {
			close(s.done)
			return
		}
		s.panics.Add(1)
		go s.sweepLoop(every)
	}()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			stopped = true
			return
		case <-t.C:
			s.sweepOnce()
		}
	}
}

// sweepOnce runs one periodic Sweep. A panic is recovered, counted and
// reported to OnError as a *tiercache.PanicError wrapping
// tiercache.ErrPanic (a second panic of the hook while reporting it is only
// counted).
func (s *Store) sweepOnce() {
	defer func() {
		if v := recover(); v != nil {
			s.panics.Add(1)
			s.reportRecovering("", tiercache.NewPanicError("disk sweep of "+s.dir, v))
		}
	}()
	_, _ = s.Sweep()
}

// reportRecovering reports err to OnError and recovers (and counts) a
// panic of the hook.
func (s *Store) reportRecovering(key string, err error) {
	defer func() {
		if recover() != nil {
			s.panics.Add(1)
		}
	}()
	s.report(key, err)
}
