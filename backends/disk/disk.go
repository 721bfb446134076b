// Package disk is a tiercache backend that keeps entries in files under one
// directory: content-addressed, integrity-checked, written atomically and
// bounded in size.
//
// Each key maps to one file named by the hex SHA-256 of the key (never by
// the key itself), fanned out over 256 subdirectories (Dir/ab/abcd...), each
// created by the first Put that needs it. A file is, big-endian:
//
//	"TCDE" | version 1 | 3 zero bytes | deadline (int64 Unix ns) |
//	key length (uint32) | value length (uint64) | key | value |
//	CRC-32C (Castagnoli) of everything before it
//
// A file that fails any check (size, magic, version, checksum), or holds
// another key, is a miss that is removed, counted in Stats.Corrupt and
// reported to Config.OnError.
//
// A Put writes a temporary file (".tmp-*") in the target's subdirectory,
// fsyncs it per Config.Sync and renames it into place, so a reader sees the
// old file or the new one and a crash, even SIGKILL mid-write, never leaves
// an entry that reads back wrong; leftover temporary files are removed on
// open. See SyncMode for what survives a power loss.
//
// Entries expire at the deadline recorded in the file (the ttl, which a
// Manager takes from Policy.KeepFor). Expired files are misses, removed when
// read, on open and by a periodic sweep. The total size of the entry files
// stays within Config.MaxBytes by evicting the least recently used entries;
// recency is exact within a process and seeded from file modification times
// on open (access times on disk are not used: many systems mount noatime).
//
// One Store per Dir: opening a Dir that an open Store holds fails with
// ErrDirInUse, in this process through a registry and, on Linux and the
// BSDs, across processes through flock on Dir/.lock (released when the
// holder exits or crashes). Elsewhere two processes on one Dir are not
// supported.
package disk

import (
	"context"

	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/codec"
)

// Manager is a tiercache.Manager storing responses in a directory: a Store
// adapted by codec.NewManager with Config.Codec. It is safe for concurrent
// use. A Get costs one file read and a decode; the returned response may
// alias the bytes read (they are not shared with anyone else) and, as with
// every Manager, is to be treated as read-only.
type Manager struct {
	store *Store
	m     *codec.Manager
}

var _ tiercache.Manager = (*Manager)(nil)

// New opens the directory cfg.Dir as a Manager (see NewStore for what the
// open costs). Close it to stop its sweep and release the directory.
func New(cfg Config) (*Manager, error) {
	s, err := NewStore(cfg)
	if err != nil {
		return nil, err
	}
	m := codec.NewManager(s, codec.WithCodec(cfg.Codec), codec.WithClock(cfg.Now), codec.WithOnError(cfg.OnError))
	return &Manager{store: s, m: m}, nil
}

// Get returns the response and policy stored under key, or (nil, nil, nil)
// on a miss (absent, expired, corrupt or undecodable).
func (m *Manager) Get(ctx context.Context, key string) (*tiercache.Response, *tiercache.Policy, error) {
	return m.m.Get(ctx, key)
}

// Put stores resp under key for pol.KeepFor(now) and returns resp; a policy
// with no retention left deletes key instead. Errors wrap
// tiercache.ErrInvalid, tiercache.ErrTooLarge, tiercache.ErrClosed or the
// I/O error (ENOSPC, ...).
func (m *Manager) Put(ctx context.Context, key string, resp *tiercache.Response, pol *tiercache.Policy) (*tiercache.Response, error) {
	return m.m.Put(ctx, key, resp, pol)
}

// Delete removes key; deleting a missing key is not an error.
func (m *Manager) Delete(ctx context.Context, key string) error {
	return m.m.Delete(ctx, key)
}

// Store returns the underlying Store (for Stats, Sweep, or byte-level use).
func (m *Manager) Store() *Store { return m.store }

// Stats returns the Store's counters; Corrupt also counts entries the codec
// could not decode.
func (m *Manager) Stats() Stats {
	st := m.store.Stats()
	st.Corrupt += m.m.Stats().Corrupt
	return st
}

// Close stops the periodic sweep and releases the directory; afterwards
// every call returns an error wrapping tiercache.ErrClosed. It is
// idempotent.
func (m *Manager) Close() error { return m.store.Close() }
