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
	now := s.cfg.Now().UnixNano()
	top, err := os.ReadDir(s.dir)
	if err != nil {
		return fmt.Errorf("disk: open %s: %w", s.dir, err)
	}
	var all []found
	for _, sd := range top {
		if !isSubdirName(sd.Name()) {
			continue
		}
		sub := filepath.Join(s.dir, sd.Name())
		if !sd.IsDir() {
			return fmt.Errorf("disk: open %s: %s is not a directory", s.dir, sub)
		}
		des, err := os.ReadDir(sub)
		if err != nil {
			return fmt.Errorf("disk: open %s: %w", s.dir, err)
		}
		for _, de := range des {
			all = s.loadOne(sub, de.Name(), now, all)
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
	case err == nil && hd.deadline <= now:
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

// readHeader reads and checks the fixed header of an entry file and returns
// it with the file's modification time.
func readHeader(path string) (header, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return header{}, 0, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return header{}, 0, err
	}
	if !fi.Mode().IsRegular() {
		return header{}, 0, fmt.Errorf("not a regular file: %v", fi.Mode())
	}
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
	for _, e := range s.idx.expired(s.cfg.Now().UnixNano()) {
		if s.removeEntry(e) {
			s.expired.Add(1)
			n++
		}
	}
	return n, nil
}

func (s *Store) sweepLoop(every time.Duration) {
	defer close(s.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			_, _ = s.Sweep()
		}
	}
}
