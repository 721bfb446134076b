package disk

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tiercache/tiercache"
)

// Store is a size-bounded directory of entry files, one per key; it
// implements tiercache.Store, so it can be paired with any codec through
// codec.NewManager. New wraps it with the default codec.
//
// Files are named by the SHA-256 of the key and fanned out over 256
// subdirectories; a Put writes a temporary file in the target's directory
// and renames it into place, so a reader sees the old or the new file, never
// a partial one. Every read checks the file's checksum, key and deadline.
//
// A Store is safe for concurrent use. An in-memory index (one mutex, no file
// I/O under it) tracks each entry's size, deadline and recency; Puts, Deletes
// and removals of one key are serialised by one of 256 striped mutexes, held
// only around the rename or unlink, while Gets read without them.
type Store struct {
	dir        string // absolute, symlinks resolved
	cfg        Config
	idx        *index
	stripes    [256]sync.Mutex
	bufs       sync.Pool // *[]byte encode buffers
	createTemp func(dir, pattern string) (tempFile, error)
	fsyncDir   func(dir string) error // syncDir; a seam for tests
	release    func() error           // unregisters and unlocks dir

	life      sync.RWMutex // read-held by every call; Close write-locks it
	closed    bool
	closeOnce sync.Once
	closeErr  error
	stop      chan struct{}
	done      chan struct{}

	hits, misses, evictions, expired, corrupt, panics atomic.Uint64
}

var _ tiercache.Store = (*Store)(nil)

// tempFile is the part of *os.File a Put writes through (a seam for tests
// that simulate a full disk).
type tempFile interface {
	io.Writer
	Sync() error
	Close() error
	Name() string
}

func osCreateTemp(dir, pattern string) (tempFile, error) { return os.CreateTemp(dir, pattern) }

// maxPooledBuf is the largest encode buffer kept for reuse.
const maxPooledBuf = 1 << 20

var errClosed = fmt.Errorf("disk: %w", tiercache.ErrClosed)

// NewStore opens (creating if needed) the directory cfg.Dir, removes
// temporary files left by a crash, rebuilds the index by reading each entry
// file's 28-byte header (one open and read per file, never a whole file),
// removes expired and malformed files, evicts down to MaxBytes and starts
// the periodic sweep. Close stops it and releases the directory.
func NewStore(cfg Config) (*Store, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	dir, release, err := acquireDir(cfg.Dir)
	if err != nil {
		return nil, err
	}
	s := &Store{
		dir:        dir,
		cfg:        cfg,
		idx:        newIndex(cfg.MaxBytes),
		createTemp: osCreateTemp,
		fsyncDir:   syncDir,
		release:    release,
		stop:       make(chan struct{}),
		done:       make(chan struct{}),
	}
	if err := s.load(); err != nil {
		return nil, errors.Join(err, release())
	}
	if cfg.SweepInterval > 0 {
		go s.sweepLoop(cfg.SweepInterval)
	} else {
		close(s.done)
	}
	return s, nil
}

// Dir returns the absolute path of the cache directory.
func (s *Store) Dir() string { return s.dir }

// enter read-locks the Store against Close; leave with s.life.RUnlock.
func (s *Store) enter(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.life.RLock()
	if s.closed {
		s.life.RUnlock()
		return errClosed
	}
	return nil
}

// Get returns the value stored under key, or (nil, nil) on a miss. A hit
// costs one index lookup, one file read (open, fstat, read, close), one
// allocation of the file's size and a CRC-32C pass. A corrupt file is a miss
// that is removed and reported; an I/O error is returned. The caller owns
// the returned slice.
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	if err := s.enter(ctx); err != nil {
		return nil, err
	}
	defer s.life.RUnlock()
	v, err := s.get(key)
	if v == nil && err == nil {
		s.misses.Add(1)
	} else if err == nil {
		s.hits.Add(1)
	}
	return v, err
}

func (s *Store) get(key string) ([]byte, error) {
	h := hashKey(key)
	e := s.idx.touch(h)
	if e == nil {
		return nil, nil
	}
	now := unixNano(s.cfg.Now())
	if expired(e.deadline, now) {
		s.expireEntry(e)
		return nil, nil
	}
	path := s.path(h)
	data, fi, err := readFile(path, s.cfg.MaxBytes)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		s.removeEntry(e) // removed behind our back
		return nil, nil
	case errors.Is(err, tiercache.ErrCorrupt):
		s.removeCorrupt(key, h, fi, err)
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("disk: get: %w", err)
	}
	stored, value, deadline, err := decodeEntry(data)
	if err != nil {
		s.removeCorrupt(key, h, fi, err)
		return nil, nil
	}
	if string(stored) != key {
		if hashKey(string(stored)) != h {
			s.removeCorrupt(key, h, fi, fmt.Errorf("%w: stored key does not match the file name", tiercache.ErrCorrupt))
		}
		return nil, nil // else a SHA-256 collision: a miss
	}
	if expired(deadline, now) {
		if s.removeFile(h, fi) {
			s.expired.Add(1)
		}
		return nil, nil
	}
	return value, nil
}

// readFile reads a whole regular file of at most limit bytes (see
// openEntry) and returns its FileInfo, so that a later removal can check it
// is still the same file.
func readFile(path string, limit int64) ([]byte, os.FileInfo, error) {
	f, fi, err := openEntry(path)
	if err != nil {
		return nil, fi, err
	}
	defer f.Close()
	if n := fi.Size(); n > limit {
		return nil, fi, fmt.Errorf("%w: %d-byte file above the %d-byte limit", tiercache.ErrCorrupt, n, limit)
	}
	buf := make([]byte, fi.Size())
	if _, err := io.ReadFull(f, buf); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			err = fmt.Errorf("%w: file shrank while read", tiercache.ErrCorrupt)
		}
		return nil, fi, err
	}
	return buf, fi, nil
}

// Set stores value under key for ttl. The file is written under a temporary
// name, fsynced per Config.Sync and renamed into place; least recently used
// entries are evicted first when the new file would not fit in MaxBytes. A
// ttl <= 0 deletes key instead. A key longer than MaxKeyLen, or a file larger
// than MaxBytes, is refused with an error wrapping tiercache.ErrTooLarge. It
// costs one buffer of the file's size (pooled up to 1 MiB), a file create,
// write, close and rename, and the fsyncs chosen. Set does not keep value.
func (s *Store) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if err := s.enter(ctx); err != nil {
		return err
	}
	defer s.life.RUnlock()
	if key == "" {
		return fmt.Errorf("disk: %w: empty key", tiercache.ErrInvalid)
	}
	if ttl <= 0 {
		return s.delete(key)
	}
	if len(key) > MaxKeyLen {
		return fmt.Errorf("disk: %w: key of %d bytes (max %d)", tiercache.ErrTooLarge, len(key), MaxKeyLen)
	}
	size := fileSize(len(key), len(value))
	if size > s.cfg.MaxBytes {
		return fmt.Errorf("disk: %w: entry file of %d bytes exceeds MaxBytes %d", tiercache.ErrTooLarge, size, s.cfg.MaxBytes)
	}
	s.dropVictims(s.idx.reserve(size))
	e := &entry{h: hashKey(key), size: size, deadline: deadlineAfter(unixNano(s.cfg.Now()), ttl)}
	return s.write(e, key, value)
}

// write writes e's file and publishes e in the index. e.size must be
// reserved: write returns the reservation when it fails before the rename;
// after it, e is committed and its bytes stay counted even if the directory
// fsync fails.
func (s *Store) write(e *entry, key string, value []byte) error {
	bp := s.buffer(e.size)
	buf := appendEntry((*bp)[:0], key, value, e.deadline)
	tmp, err := s.writeTemp(s.subdir(e.h), buf)
	s.recycle(bp, buf)
	if err != nil {
		s.idx.release(e.size)
		return err
	}
	mu := &s.stripes[e.h[1]]
	mu.Lock()
	if err := os.Rename(tmp, s.path(e.h)); err != nil {
		mu.Unlock()
		_ = os.Remove(tmp)
		s.idx.release(e.size)
		return fmt.Errorf("disk: put: %w", err)
	}
	victims := s.idx.commit(e)
	mu.Unlock()
	s.dropVictims(victims)
	if s.cfg.Sync == SyncDir {
		if err := s.fsyncDir(s.subdir(e.h)); err != nil {
			return fmt.Errorf("disk: put: fsync dir: %w", err)
		}
	}
	return nil
}

// writeTemp writes data to a new temporary file in dir and returns its
// name. On failure (ENOSPC, EIO) the temporary file is removed.
func (s *Store) writeTemp(dir string, data []byte) (string, error) {
	f, err := s.createTemp(dir, tempPattern)
	if errors.Is(err, fs.ErrNotExist) { // first entry in this subdirectory
		if err = os.Mkdir(dir, dirPerm); err == nil || errors.Is(err, fs.ErrExist) {
			err = nil
			if s.cfg.Sync == SyncDir {
				err = s.fsyncDir(s.dir)
			}
		}
		if err == nil {
			f, err = s.createTemp(dir, tempPattern)
		}
	}
	if err != nil {
		return "", fmt.Errorf("disk: put: %w", err)
	}
	_, err = f.Write(data)
	if err == nil && s.cfg.Sync != NoSync {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(f.Name())
		return "", fmt.Errorf("disk: put: write %s: %w", f.Name(), err)
	}
	return f.Name(), nil
}

func (s *Store) buffer(size int64) *[]byte {
	if size <= maxPooledBuf {
		if bp, ok := s.bufs.Get().(*[]byte); ok && int64(cap(*bp)) >= size {
			return bp
		}
	}
	b := make([]byte, 0, size)
	return &b
}

func (s *Store) recycle(bp *[]byte, buf []byte) {
	if cap(buf) <= maxPooledBuf {
		*bp = buf[:0]
		s.bufs.Put(bp)
	}
}

// Delete removes key and its file; deleting a missing key is not an error.
// It costs one unlink under the key's stripe lock.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := s.enter(ctx); err != nil {
		return err
	}
	defer s.life.RUnlock()
	return s.delete(key)
}

func (s *Store) delete(key string) error {
	h := hashKey(key)
	mu := &s.stripes[h[1]]
	mu.Lock()
	s.idx.remove(h, nil)
	err := removePath(s.path(h))
	mu.Unlock()
	if err != nil {
		return fmt.Errorf("disk: delete: %w", err)
	}
	return nil
}

// Close stops the periodic sweep and releases the directory; later calls
// return an error wrapping tiercache.ErrClosed. It waits for calls in
// progress. Close is idempotent and returns the first result again.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		close(s.stop)
		<-s.done
		s.life.Lock()
		s.closed = true
		s.life.Unlock()
		s.closeErr = s.release()
	})
	return s.closeErr
}

// Stats is a snapshot of a Store's gauges (int64) and counters (uint64,
// since New).
type Stats struct {
	Entries   int64  // entries in the index
	Bytes     int64  // bytes of the entry files, plus Puts in flight
	MaxBytes  int64  // the configured bound
	Hits      uint64 // Gets that returned a value
	Misses    uint64 // Gets that returned nothing (absent, expired, corrupt)
	Evictions uint64 // entries removed to stay within MaxBytes
	Expired   uint64 // expired entries removed (by Get, the sweeps or open)
	Corrupt   uint64 // malformed files removed (by Get or open)
	Panics    uint64 // panics and runtime.Goexit calls recovered in the periodic sweep (the OnError hook's)
}

// Stats returns a snapshot of the counters. It takes the index lock once.
func (s *Store) Stats() Stats {
	n, used := s.idx.totals()
	return Stats{
		Entries: int64(n), Bytes: used, MaxBytes: s.cfg.MaxBytes,
		Hits: s.hits.Load(), Misses: s.misses.Load(), Evictions: s.evictions.Load(),
		Expired: s.expired.Load(), Corrupt: s.corrupt.Load(), Panics: s.panics.Load(),
	}
}
