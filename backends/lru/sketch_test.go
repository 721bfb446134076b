package lru

import (
	"math/rand/v2"
	"testing"
)

// newTestSketch returns a sketch for capacity entries that never halves on
// its own.
func newTestSketch(capacity int) *sketch {
	s := new(sketch)
	s.grow(capacity)
	s.period = 1 << 62
	return s
}

// record adds counts[i] requests for hs[i], interleaved as a trace would.
func record(s *sketch, hs []uint64, counts []int) {
	for round := range 16 {
		for i, h := range hs {
			if counts[i] > round {
				s.add(h)
			}
		}
	}
}

func randomKeys(n int, seed uint64) (hs []uint64, counts []int) {
	rng := rand.New(rand.NewPCG(seed, 17))
	hs, counts = make([]uint64, n), make([]int, n)
	for i := range hs {
		hs[i], counts[i] = rng.Uint64(), rng.IntN(17) // 0 to 16 requests
	}
	return hs, counts
}

// TestSketchError pins the stated error: an estimate is never below the
// key's requests since the last halving (up to 16), and is exact for at
// least 99% of keys when as many distinct keys as the capacity were
// recorded, for at least 85% at four times the capacity.
func TestSketchError(t *testing.T) {
	const capacity = 4096
	for _, tc := range []struct {
		load      int // distinct keys per entry of capacity
		wantExact float64
	}{{1, 0.99}, {2, 0.97}, {4, 0.85}} {
		s := newTestSketch(capacity)
		hs, counts := randomKeys(tc.load*capacity, uint64(tc.load))
		record(s, hs, counts)
		exact := 0
		for i, h := range hs {
			switch e := s.estimate(h); {
			case e < counts[i]:
				t.Fatalf("load %d: key %d requested %d times, estimate %d", tc.load, i, counts[i], e)
			case e == counts[i]:
				exact++
			}
		}
		if got := float64(exact) / float64(len(hs)); got < tc.wantExact {
			t.Errorf("load %d: %.3f of estimates exact, want >= %.2f", tc.load, got, tc.wantExact)
		}
	}
}

func TestSketchSaturates(t *testing.T) {
	s := newTestSketch(64)
	for range 100 {
		s.add(42)
	}
	if e := s.estimate(42); e != counterMax+1 {
		t.Fatalf("estimate after 100 requests = %d, want %d", e, counterMax+1)
	}
}

// TestSketchHalving: a halving halves every counter and clears the
// doorkeeper, and comes due after period requests.
func TestSketchHalving(t *testing.T) {
	s := newTestSketch(1024)
	hs, counts := randomKeys(1024, 3)
	record(s, hs, counts)
	before := make([]int, len(hs))
	for i, h := range hs {
		before[i] = s.estimate(h)
	}
	s.reset()
	for i, h := range hs {
		// before = counter + doorkeeper; after = counter/2, no doorkeeper.
		if want := max(before[i]-1, 0) / 2; s.estimate(h) != want {
			t.Fatalf("key %d: estimate %d before halving, %d after, want %d", i, before[i], s.estimate(h), want)
		}
	}

	s = new(sketch)
	s.grow(100) // period = resetFactor * 100
	due := 0
	for i := range 10 * resetFactor * 100 {
		if s.add(uint64(i) * mixConstant) {
			due++
			s.reset()
		}
	}
	if due != 10 || s.resets != 10 {
		t.Fatalf("%d halvings due in 10 periods (%d done), want 10", due, s.resets)
	}
}

// TestSketchDoorkeeper: the first request of a key sets only its doorkeeper
// bits (estimate 1, counters untouched); the second reaches the counters;
// a halving clears the doorkeeper, so a key seen once before it counts 0.
func TestSketchDoorkeeper(t *testing.T) {
	s := newTestSketch(1024)
	const once, twice = 0x1234_5678_9abc_def1, 0x0fed_cba9_8765_4321
	s.add(once)
	s.add(twice)
	s.add(twice)
	blk, r := s.block(once)
	o0, o1, o2, o3 := counterOffsets(r)
	if c := blk[0]>>o0&15 + blk[1]>>o1&15 + blk[2]>>o2&15 + blk[3]>>o3&15; c != 0 {
		t.Fatalf("a key seen once reached its counters (sum %d)", c)
	}
	if s.estimate(once) != 1 || s.estimate(twice) != 2 {
		t.Fatalf("estimates %d and %d, want 1 and 2", s.estimate(once), s.estimate(twice))
	}
	s.reset()
	if s.estimate(once) != 0 || s.estimate(twice) != 0 {
		t.Fatalf("after halving: estimates %d and %d, want 0 and 0 (doorkeeper cleared, counter 1 halved)",
			s.estimate(once), s.estimate(twice))
	}
	s.add(once)
	if s.estimate(once) != 1 {
		t.Fatalf("after halving, one request: estimate %d, want 1 (doorkeeper again)", s.estimate(once))
	}
}

// TestSketchGrowKeepsCounts: growing the table keeps every key's estimate
// at least what it was (counts are copied to the blocks the keys move to).
func TestSketchGrowKeepsCounts(t *testing.T) {
	s := newTestSketch(256)
	hs, counts := randomKeys(256, 5)
	record(s, hs, counts)
	s.grow(1000) // not a multiple: blocks map by scaling
	s.period = 1 << 62
	for i, h := range hs {
		if e := s.estimate(h); e < counts[i] {
			t.Fatalf("key %d: %d requests, estimate %d after growing", i, counts[i], e)
		}
	}
	if want := (1000 + entriesPerBlock - 1) / entriesPerBlock * blockWords; len(s.table) != want {
		t.Fatalf("table of %d words for 1000 entries, want %d (16 bytes an entry)", len(s.table), want)
	}
}

// TestSketchRefused: a refused key is remembered once, until it is asked
// about, and for at most two generations of capacity/refusedTurn refusals.
func TestSketchRefused(t *testing.T) {
	const capacity = 3000
	s := newTestSketch(capacity)
	const key = 0x5555_aaaa_5555_aaab
	if s.wasRefused(key) {
		t.Fatal("a key never refused counts as refused")
	}
	s.refuse(key)
	if !s.wasRefused(key) || s.wasRefused(key) {
		t.Fatal("a refusal must be remembered exactly once")
	}
	s.refuse(key)
	rng := rand.New(rand.NewPCG(9, 9))
	for range 2 * capacity / refusedTurn {
		s.refuse(rng.Uint64())
	}
	if s.wasRefused(key) {
		t.Fatal("a refusal older than two generations is still remembered")
	}
	// False positives: keys never refused, after a generation of refusals.
	fp := 0
	for range 10000 {
		if s.wasRefused(rng.Uint64()) {
			fp++
		}
	}
	if fp > 500 {
		t.Fatalf("%d of 10000 keys never refused count as refused (want < 5%%)", fp)
	}
}
