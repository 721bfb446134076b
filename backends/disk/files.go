package disk

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

const (
	tempPrefix  = ".tmp-"
	tempPattern = tempPrefix + "*" // os.CreateTemp pattern of entries being written
	dirPerm     = 0o755
)

// subdir returns the directory of the entry file for h.
func (s *Store) subdir(h keyHash) string {
	var b strings.Builder
	b.Grow(len(s.dir) + 3)
	b.WriteString(s.dir)
	b.WriteByte(os.PathSeparator)
	b.WriteString(hex.EncodeToString(h[:1]))
	return b.String()
}

// path returns the path of the entry file for h: Dir/ab/abcd...(64 hex).
func (s *Store) path(h keyHash) string {
	var name [2 * len(keyHash{})]byte
	hex.Encode(name[:], h[:])
	var b strings.Builder
	b.Grow(len(s.dir) + 4 + len(name))
	b.WriteString(s.dir)
	b.WriteByte(os.PathSeparator)
	b.Write(name[:2])
	b.WriteByte(os.PathSeparator)
	b.Write(name[:])
	return b.String()
}

// removePath removes a file; a missing file is not an error.
func removePath(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// report sends err to the OnError hook.
func (s *Store) report(key string, err error) { s.cfg.OnError(key, err) }

// removeEntry removes e from the index and its file from disk, unless e has
// been replaced or removed meanwhile. It reports whether it removed e.
func (s *Store) removeEntry(e *entry) bool {
	mu := &s.stripes[e.h[1]]
	mu.Lock()
	removed := s.idx.remove(e.h, e)
	var err error
	if removed {
		err = removePath(s.path(e.h))
	}
	mu.Unlock()
	if err != nil {
		s.report("", fmt.Errorf("disk: remove: %w", err))
	}
	return removed
}

// expireEntry removes an entry whose deadline has passed.
func (s *Store) expireEntry(e *entry) {
	if s.removeEntry(e) {
		s.expired.Add(1)
	}
}

// removeFile removes the file for h if it is still the file described by
// fi (a concurrent Put may have renamed a new one into place), together with
// its index entry. It reports whether it removed the file.
func (s *Store) removeFile(h keyHash, fi os.FileInfo) bool {
	if fi == nil {
		return false
	}
	path := s.path(h)
	mu := &s.stripes[h[1]]
	mu.Lock()
	cur, err := os.Lstat(path)
	same := err == nil && os.SameFile(fi, cur)
	if same {
		err = removePath(path)
		s.idx.remove(h, nil) // under the stripe lock the index describes this file
	} else if errors.Is(err, fs.ErrNotExist) {
		err = nil
	}
	mu.Unlock()
	if err != nil {
		s.report("", fmt.Errorf("disk: remove %s: %w", path, err))
	}
	return same
}

// removeCorrupt removes a file that failed a check, counts and reports it.
func (s *Store) removeCorrupt(key string, h keyHash, fi os.FileInfo, cause error) {
	if s.removeFile(h, fi) {
		s.corrupt.Add(1)
		s.report(key, fmt.Errorf("disk: %s: %w", s.path(h), cause))
	}
}

// dropVictims removes the files of evicted entries. A victim's file is kept
// when a newer entry for the same key was committed meanwhile (the rename
// already replaced the evicted file).
func (s *Store) dropVictims(victims []*entry) {
	for _, v := range victims {
		mu := &s.stripes[v.h[1]]
		mu.Lock()
		var err error
		if s.idx.lookup(v.h) == nil {
			err = removePath(s.path(v.h))
		}
		mu.Unlock()
		s.evictions.Add(1)
		if err != nil {
			s.report("", fmt.Errorf("disk: evict: %w", err))
		}
	}
}

// syncDir fsyncs a directory, making renames in it durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
