package workload

import (
	"container/list"
	"math"
	"math/rand/v2"
	"testing"
)

// TestCheUniform: for n equally popular keys and room for C of them the
// Che equation gives exactly C/n.
func TestCheUniform(t *testing.T) {
	probs := make([]float64, 10)
	for i := range probs {
		probs[i] = 0.1
	}
	hit, _ := Che(CheModel{Probs: probs, MaxEntries: 4, RefShare: 1})
	if math.Abs(hit-0.4) > 1e-6 {
		t.Errorf("hit = %v, want 0.4", hit)
	}
	hit, T := Che(CheModel{Probs: probs, MaxEntries: 20, RefShare: 1})
	if math.Abs(hit-1) > 1e-9 || !math.IsInf(T, 1) {
		t.Errorf("everything fits: hit = %v, T = %v; want 1, +Inf", hit, T)
	}
	// Bytes: every key is 10 bytes and 40 fit: the same as 4 entries.
	sizes := make([]float64, 10)
	for i := range sizes {
		sizes[i] = 10
	}
	hit, _ = Che(CheModel{Probs: probs, Sizes: sizes, MaxBytes: 40, RefShare: 1})
	if math.Abs(hit-0.4) > 1e-6 {
		t.Errorf("byte bound: hit = %v, want 0.4", hit)
	}
}

// TestCheTwoKeys solves the two-key, one-slot case by hand:
// (1-e^{-0.75T}) + (1-e^{-0.25T}) = 1.
func TestCheTwoKeys(t *testing.T) {
	hit, T := Che(CheModel{Probs: []float64{0.75, 0.25}, MaxEntries: 1, RefShare: 1})
	if fill := -math.Expm1(-0.75*T) - math.Expm1(-0.25*T); math.Abs(fill-1) > 1e-9 {
		t.Fatalf("T = %v fills %v entries, want 1", T, fill)
	}
	want := 0.75*-math.Expm1(-0.75*T) + 0.25*-math.Expm1(-0.25*T)
	if math.Abs(hit-want) > 1e-12 {
		t.Errorf("hit = %v, want %v", hit, want)
	}
}

// TestCheMatchesSimulation compares the model, deletes included, with an
// exact LRU simulation on a small Zipf trace.
func TestCheMatchesSimulation(t *testing.T) {
	const keys, capacity, ops = 500, 50, 400_000
	z, err := NewZipf(keys, 0.9)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(3, 4))
	lru := list.New()
	where := map[int]*list.Element{}
	var gets, hits int
	for i := range ops {
		k := z.Sample(r)
		del := r.Float64() < 0.05
		e, ok := where[k]
		switch {
		case del:
			if ok {
				lru.Remove(e)
				delete(where, k)
			}
			continue
		case ok:
			lru.MoveToFront(e)
		default:
			where[k] = lru.PushFront(k)
			if lru.Len() > capacity {
				delete(where, lru.Remove(lru.Back()).(int))
			}
		}
		if i > ops/10 { // after warm-up
			gets++
			if ok {
				hits++
			}
		}
	}
	measured := float64(hits) / float64(gets)
	model, _ := Che(CheModel{Probs: z.Probs(), MaxEntries: capacity, RefShare: 0.95})
	if math.Abs(measured-model) > 0.01 {
		t.Errorf("simulated LRU hit ratio %.4f, Che %.4f: differ by more than 1 point", measured, model)
	}
}
