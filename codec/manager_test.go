package codec

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/tiercachetest"
)

// memStore is an in-memory tiercache.Store test double. It records the TTL
// of each Set, hands out copies, and fails every call while err is set.
type memStore struct {
	mu   sync.Mutex
	m    map[string][]byte
	ttls map[string]time.Duration
	err  error
}

func newMemStore() *memStore {
	return &memStore{m: map[string][]byte{}, ttls: map[string]time.Duration{}}
}

func (s *memStore) Get(_ context.Context, key string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return nil, s.err
	}
	v, ok := s.m[key]
	if !ok {
		return nil, nil
	}
	return bytes.Clone(v), nil
}

func (s *memStore) Set(_ context.Context, key string, value []byte, ttl time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	if ttl <= 0 {
		return errors.New("memStore: ttl <= 0")
	}
	s.m[key], s.ttls[key] = bytes.Clone(value), ttl
	return nil
}

func (s *memStore) Delete(_ context.Context, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	delete(s.m, key)
	return nil
}

func (s *memStore) has(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.m[key]
	return ok
}

func TestManagerConformance(t *testing.T) {
	for _, c := range codecs {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel() // the suite's real-time waits overlap
			tiercachetest.TestManager(t, func(t *testing.T) tiercache.Manager {
				return NewManager(newMemStore(), WithCodec(c.c))
			})
		})
	}
}

func TestManagerCorruptEntry(t *testing.T) {
	for _, c := range codecs {
		t.Run(c.name, func(t *testing.T) {
			s := newMemStore()
			var hooked []string
			var hookErr error
			m := NewManager(s, WithCodec(c.c), WithOnError(func(key string, err error) {
				hooked, hookErr = append(hooked, key), err
			}))
			tiercachetest.MustPut(t, m, "k", tiercachetest.Response("k", 100), tiercache.NewTTLPolicy(time.Hour))
			s.m["k"] = s.m["k"][:len(s.m["k"])/2] // truncate in place
			tiercachetest.MustGet(t, m, "k", nil)
			if len(hooked) != 1 || hooked[0] != "k" || !errors.Is(hookErr, tiercache.ErrCorrupt) {
				t.Fatalf("hook calls = %q, last error %v; want one for k wrapping ErrCorrupt", hooked, hookErr)
			}
			if s.has("k") {
				t.Fatalf("corrupt entry was not deleted")
			}
			if st := m.Stats(); st.Corrupt != 1 {
				t.Fatalf("Stats = %+v, want Corrupt 1", st)
			}
		})
	}
}

func TestManagerStoreErrors(t *testing.T) {
	ctx := context.Background()
	boom := errors.New("boom")
	s := newMemStore()
	m := NewManager(s)
	tiercachetest.MustPut(t, m, "k", tiercachetest.Response("k", 10), tiercache.NewTTLPolicy(time.Hour))
	s.err = boom
	check := func(op string, err error) {
		t.Helper()
		if !errors.Is(err, boom) || !strings.Contains(err.Error(), `"k"`) {
			t.Errorf("%s error = %v, want one wrapping boom and naming the key", op, err)
		}
	}
	resp, pol, err := m.Get(ctx, "k")
	if resp != nil || pol != nil {
		t.Errorf("Get on a failing store returned a value")
	}
	check("Get", err)
	_, err = m.Put(ctx, "k", tiercachetest.Response("k", 10), tiercache.NewTTLPolicy(time.Hour))
	check("Put", err)
	_, err = m.Put(ctx, "k", tiercachetest.Response("k", 10), tiercache.NewTTLPolicy(0))
	check("Put expired", err)
	check("Delete", m.Delete(ctx, "k"))
	if st := m.Stats(); st.Corrupt != 0 {
		t.Errorf("store errors counted as corrupt entries: %+v", st)
	}
}

func TestManagerClock(t *testing.T) {
	ctx := context.Background()
	now := base
	s := newMemStore()
	m := NewManager(s, WithClock(func() time.Time { return now }))
	pol := testPolicies(t)["shared s-maxage swr sie"] // must-revalidate: keep = ttl + grace
	resp := tiercachetest.Response("c", 10)
	tiercachetest.MustPut(t, m, "c", resp, pol)
	if got, want := s.ttls["c"], pol.KeepFor(base); got != want {
		t.Fatalf("Set ttl = %v, want KeepFor(now) = %v", got, want)
	}
	now = base.Add(pol.KeepFor(base) - time.Second)
	tiercachetest.MustGet(t, m, "c", resp)
	now = base.Add(pol.KeepFor(base)) // the store still holds it (1 s granularity)
	tiercachetest.MustGet(t, m, "c", nil)
	if st := m.Stats(); st.Expired != 1 || st.Corrupt != 0 {
		t.Fatalf("Stats = %+v, want Expired 1", st)
	}
	// A Put whose policy allows no retention at the clock removes the key.
	tiercachetest.MustPut(t, m, "c", resp, pol)
	if s.has("c") {
		t.Fatalf("Put with no retention left kept the key")
	}
	if _, err := m.Put(ctx, "", resp, pol); !errors.Is(err, tiercache.ErrInvalid) {
		t.Fatalf("Put with an empty key: %v", err)
	}
}

func TestManagerEncodeErrorKeepsOld(t *testing.T) {
	ctx := context.Background()
	s := newMemStore()
	m := NewManager(s, WithCodec(Binary{MaxSize: 1024}))
	old := tiercachetest.Response("old", 10)
	tiercachetest.MustPut(t, m, "k", old, tiercache.NewTTLPolicy(time.Hour))
	_, err := m.Put(ctx, "k", tiercachetest.Response("big", 4096), tiercache.NewTTLPolicy(time.Hour))
	if !errors.Is(err, tiercache.ErrTooLarge) {
		t.Fatalf("Put over MaxSize: error = %v, want ErrTooLarge", err)
	}
	tiercachetest.MustGet(t, m, "k", old)
}

func TestNewManagerDefaults(t *testing.T) {
	m := NewManager(newMemStore(), WithCodec(nil), WithClock(nil), WithOnError(nil))
	if _, ok := m.codec.(Binary); !ok || m.now == nil {
		t.Fatalf("nil options replaced the defaults: codec %T", m.codec)
	}
}

// TestNewManagerRejectsTypedNil: a nil Store, or a nil pointer in a non-nil
// one, panics at construction with a message naming it.
func TestNewManagerRejectsTypedNil(t *testing.T) {
	for _, tc := range []struct {
		s    tiercache.Store
		want string
	}{
		{nil, "codec: NewManager: s is nil"},
		{(*memStore)(nil), "codec: NewManager: s is a nil *codec.memStore"},
		{newMemStore(), ""},
	} {
		got := func() (msg string) {
			defer func() {
				if v := recover(); v != nil {
					msg = fmt.Sprint(v)
				}
			}()
			NewManager(tc.s)
			return ""
		}()
		if got != tc.want {
			t.Errorf("NewManager(%#v): panic %q, want %q", tc.s, got, tc.want)
		}
	}
}

// An entry this reader cannot read but that is not damaged (a newer format
// version, or over this reader's MaxSize) is a miss that is reported but
// kept for the readers that understand it.
func TestManagerKeepsUnreadableEntries(t *testing.T) {
	cases := []struct {
		name   string
		reader Codec
		damage func([]byte)
		want   error
	}{
		{"newer version", Binary{}, func(b []byte) { b[3] = BinaryVersion + 1 }, tiercache.ErrVersion},
		{"over this reader's MaxSize", Binary{MaxSize: 64}, func([]byte) {}, tiercache.ErrTooLarge},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newMemStore()
			tiercachetest.MustPut(t, NewManager(s), "k", tiercachetest.Response("k", 100), tiercache.NewTTLPolicy(time.Hour))
			c.damage(s.m["k"])
			var hookErr error
			m := NewManager(s, WithCodec(c.reader), WithOnError(func(_ string, err error) { hookErr = err }))
			tiercachetest.MustGet(t, m, "k", nil)
			if !errors.Is(hookErr, c.want) {
				t.Fatalf("hook error %v, want %v", hookErr, c.want)
			}
			if !s.has("k") {
				t.Fatal("an undamaged entry was deleted")
			}
		})
	}
}

// TestManagerErrorsQuoteKeysShortly (issue 13, item 8): a Store error for a
// 1 MiB key used to give a 1 MiB error message; keys are now truncated.
func TestManagerErrorsQuoteKeysShortly(t *testing.T) {
	huge := strings.Repeat("k", 1<<20)
	s := newMemStore()
	s.err = errors.New("store down")
	m := NewManager(s)
	_, _, gerr := m.Get(context.Background(), huge)
	_, perr := m.Put(context.Background(), huge, tiercachetest.Response("v", 8), tiercache.NewTTLPolicy(time.Hour))
	derr := m.Delete(context.Background(), huge)
	for i, err := range []error{gerr, perr, derr} {
		if err == nil || len(err.Error()) > 512 {
			t.Errorf("call %d: error of %d bytes for a 1 MiB key, want a short one", i, len(fmt.Sprint(err)))
		}
	}
}
