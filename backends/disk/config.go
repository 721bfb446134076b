package disk

import (
	"errors"
	"fmt"
	"time"

	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/codec"
)

// Defaults of the Config fields.
const (
	// DefaultMaxBytes bounds a Store whose Config.MaxBytes is zero: 1 GiB.
	DefaultMaxBytes = 1 << 30
	// DefaultSweepInterval is how often expired files are removed when
	// Config.SweepInterval is zero.
	DefaultSweepInterval = time.Minute
)

// ErrDirInUse reports a Dir that another open Store holds, in this process
// or (on systems with flock) in another one.
var ErrDirInUse = errors.New("disk: directory already in use")

// SyncMode says what a Put makes durable before it returns.
type SyncMode int

const (
	// SyncFile, the default, fsyncs each entry file before renaming it into
	// place, but not the directory. After a power loss a recently stored
	// entry may be missing (the rename was not yet durable), or an older
	// version may be back, but a file under its final name is always
	// complete: nothing ever reads back wrong. It costs one fsync per Put.
	SyncFile SyncMode = iota
	// SyncDir also fsyncs the directory after the rename, so an entry whose
	// Put returned survives a power loss. It costs a second fsync per Put.
	SyncDir
	// NoSync skips fsync. A crash of the process loses nothing that was
	// renamed, but after a power loss a file may hold garbage; the checksum
	// then turns it into a miss that is removed. Fastest, for caches that
	// may lose anything.
	NoSync
)

// String returns the mode's name.
func (m SyncMode) String() string {
	switch m {
	case SyncFile:
		return "SyncFile"
	case SyncDir:
		return "SyncDir"
	case NoSync:
		return "NoSync"
	}
	return fmt.Sprintf("SyncMode(%d)", int(m))
}

// Config configures New and NewStore. Only Dir is required; every zero value
// means the documented default.
type Config struct {
	// Dir is the cache directory; it is created (with parents) if missing.
	// One open Store per Dir: a second one fails with ErrDirInUse.
	Dir string
	// MaxBytes bounds the total size of the entry files (headers, keys and
	// values). Default DefaultMaxBytes (1 GiB). An entry whose file alone
	// exceeds it is refused with an error wrapping tiercache.ErrTooLarge.
	MaxBytes int64
	// SweepInterval is the period of the background removal of expired
	// files (default DefaultSweepInterval; negative disables it). Expired
	// entries are misses either way; the sweep only frees their space.
	SweepInterval time.Duration
	// Sync chooses the fsync policy of Put (default SyncFile).
	Sync SyncMode
	// OnError, if set, is called for every entry found corrupt (it is then
	// removed and counted in Stats.Corrupt), for files that cannot be
	// removed, for a bad fan-out subdirectory found on open, for a panic
	// recovered in the periodic sweep (a *tiercache.PanicError wrapping
	// tiercache.ErrPanic), and, in a Manager, for entries the codec cannot
	// decode. key is "" when the key is unknown (the open scan, the sweep).
	// It is called without locks held and must be safe for concurrent use;
	// a panic of it in the sweep goroutine is recovered and counted in
	// Stats.Panics.
	OnError func(key string, err error)
	// Now is the clock for expiry and, in a Manager, for Policy.KeepFor
	// (default time.Now).
	Now func() time.Time
	// Codec encodes the entries of a Manager (default codec.Binary{}).
	// NewStore ignores it.
	Codec codec.Codec
}

// withDefaults validates c and fills in defaults.
func (c Config) withDefaults() (Config, error) {
	switch {
	case c.Dir == "":
		return c, fmt.Errorf("disk: %w: empty Dir", tiercache.ErrInvalid)
	case c.MaxBytes < 0:
		return c, fmt.Errorf("disk: %w: negative MaxBytes %d", tiercache.ErrInvalid, c.MaxBytes)
	case c.Sync < SyncFile || c.Sync > NoSync:
		return c, fmt.Errorf("disk: %w: unknown %v", tiercache.ErrInvalid, c.Sync)
	}
	if c.MaxBytes == 0 {
		c.MaxBytes = DefaultMaxBytes
	}
	if c.SweepInterval == 0 {
		c.SweepInterval = DefaultSweepInterval
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.OnError == nil {
		c.OnError = func(string, error) {}
	}
	return c, nil
}
