package tier_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/tier"
	"github.com/tiercache/tiercache/tiercachetest"
)

func TestReadOnlyWritesNothing(t *testing.T) {
	ctx := context.Background()
	f := newFake()
	old := resp("old")
	tiercachetest.MustPut(t, f, "k", old, fresh())
	f.puts.Store(0)
	ro := tier.ReadOnly(f)
	tiercachetest.MustPut(t, ro, "k", resp("new"), fresh())
	tiercachetest.MustPut(t, ro, "other", resp("other"), fresh())
	if err := ro.Delete(ctx, "k"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := ro.Put(ctx, "k", nil, fresh()); !errors.Is(err, tiercache.ErrInvalid) {
		t.Fatalf("Put(nil) error = %v, want ErrInvalid", err)
	}
	if n := f.puts.Load() + f.deletes.Load(); n != 0 {
		t.Fatalf("%d writes reached the read-only tier", n)
	}
	tiercachetest.MustGet(t, ro, "k", old)
	tiercachetest.MustGet(t, ro, "other", nil)
}

func TestPrefixKeys(t *testing.T) {
	cases := []struct {
		name string
		wrap func(tiercache.Manager) tiercache.Manager
		want []string
	}{
		{"One", func(m tiercache.Manager) tiercache.Manager { return tier.Prefix(m, "v1/") }, []string{"v1/a", "v1/b"}},
		{"Nested", func(m tiercache.Manager) tiercache.Manager { return tier.Prefix(tier.Prefix(m, "svc/"), "v1/") },
			[]string{"svc/v1/a", "svc/v1/b"}},
		{"Empty", func(m tiercache.Manager) tiercache.Manager { return tier.Prefix(m, "") }, []string{"a", "b"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake()
			m := tc.wrap(f)
			for _, k := range []string{"a", "b", "c"} {
				tiercachetest.MustPut(t, m, k, resp(k), fresh())
			}
			if err := m.Delete(context.Background(), "c"); err != nil {
				t.Fatalf("Delete: %v", err)
			}
			if got := f.keys(); !slices.Equal(got, tc.want) {
				t.Fatalf("inner keys = %q, want %q", got, tc.want)
			}
			tiercachetest.MustGet(t, m, "a", resp("a"))
			tiercachetest.MustGet(t, f, tc.want[0], resp("a"))
		})
	}
	if _, err := tier.Prefix(newFake(), "p/").Put(context.Background(), "", resp("a"), fresh()); !errors.Is(err, tiercache.ErrInvalid) {
		t.Fatalf("Put with an empty key under a prefix: error = %v, want ErrInvalid", err)
	}
	// The empty key never reaches the bare prefix, which is another user's key.
	f := newFake()
	tiercachetest.MustPut(t, f, "p/", resp("other"), fresh())
	p := tier.Prefix(f, "p/")
	tiercachetest.MustGet(t, p, "", nil)
	if err := p.Delete(context.Background(), ""); err != nil {
		t.Fatalf("Delete of the empty key: %v", err)
	}
	tiercachetest.MustGet(t, f, "p/", resp("other"))
}

func TestAdmit(t *testing.T) {
	cases := []struct {
		name   string
		admit  tier.AdmitFunc
		body   int
		stored bool
	}{
		{"SmallAdmitted", tier.MaxBodySize(10), 10, true},
		{"LargeRejected", tier.MaxBodySize(10), 11, false},
		{"NegativeLimitAdmitsEmpty", tier.MaxBodySize(-1), 0, true},
		{"NegativeLimitRejects", tier.MaxBodySize(-1), 1, false},
		{"NilAdmitsAll", nil, 1 << 16, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake()
			tiercachetest.MustPut(t, f, "k", resp("older"), fresh())
			m := tier.Admit(f, tc.admit)
			r := tiercachetest.Response("new", tc.body)
			tiercachetest.MustPut(t, m, "k", r, fresh())
			want := r
			if !tc.stored {
				want = nil // the older value is gone too
			}
			tiercachetest.MustGet(t, f, "k", want)
		})
	}
}

func TestAdmitRemovalFailure(t *testing.T) {
	f := newFake()
	m := tier.Admit(f, func(string, *tiercache.Response, *tiercache.Policy) bool { return false })
	f.setErr(errTier, "delete")
	r := resp("x")
	got, err := m.Put(context.Background(), "k", r, fresh())
	if got != r || !errors.Is(err, errTier) {
		t.Fatalf("Put = %p, %v; want the response and the removal's error", got, err)
	}
	if _, err := m.Put(context.Background(), "k", r, nil); !errors.Is(err, tiercache.ErrInvalid) {
		t.Fatalf("Put(nil policy) error = %v, want ErrInvalid", err)
	}
}
