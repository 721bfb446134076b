package singleflight

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
)

func TestDoCoalesces(t *testing.T) {
	var g Group[int]
	var calls atomic.Int32
	release := make(chan struct{})
	entered := make(chan struct{})
	const n = 8
	var wg sync.WaitGroup
	results := make([]int, n)
	wg.Add(1)
	go func() {
		defer wg.Done()
		results[0], _, _ = g.Do(context.Background(), "k", func() (int, error) {
			calls.Add(1)
			close(entered)
			<-release
			return 42, nil
		})
	}()
	<-entered
	var joined sync.WaitGroup
	for i := 1; i < n; i++ {
		wg.Add(1)
		joined.Add(1)
		go func() {
			defer wg.Done()
			joined.Done()
			results[i], _, _ = g.Do(context.Background(), "k", func() (int, error) {
				calls.Add(1)
				return 42, nil
			})
		}()
	}
	joined.Wait()
	close(release)
	wg.Wait()
	// Late callers may start their own flight after the first one ended,
	// so only the results are exact; at least one call was made.
	if c := calls.Load(); c < 1 || c > n {
		t.Fatalf("calls = %d", c)
	}
	for i, r := range results {
		if r != 42 {
			t.Fatalf("result %d = %d, want 42", i, r)
		}
	}
}

func TestDoPanicReleasesWaiters(t *testing.T) {
	var g Group[int]
	entered := make(chan struct{})
	release := make(chan struct{})
	done := make(chan error)
	go func() {
		defer func() { _ = recover() }()
		_, _, _ = g.Do(context.Background(), "k", func() (int, error) {
			close(entered)
			<-release
			panic("boom")
		})
	}()
	<-entered
	go func() {
		_, err, _ := g.Do(context.Background(), "k", func() (int, error) { return 0, nil })
		done <- err
	}()
	close(release)
	// Either the waiter joined the panicking flight (ErrPanicked) or it ran
	// its own flight after the first was forgotten (nil). It must not hang.
	if err := <-done; err != nil && !errors.Is(err, ErrPanicked) {
		t.Fatalf("waiter error = %v", err)
	}
	// The key is usable again.
	v, err, _ := g.Do(context.Background(), "k", func() (int, error) { return 7, nil })
	if v != 7 || err != nil {
		t.Fatalf("Do after panic = %d, %v", v, err)
	}
}

func TestDoWaiterContext(t *testing.T) {
	var g Group[int]
	entered := make(chan struct{})
	release := make(chan struct{})
	go func() {
		_, _, _ = g.Do(context.Background(), "k", func() (int, error) {
			close(entered)
			<-release
			return 1, nil
		})
	}()
	<-entered
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err, shared := g.Do(ctx, "k", func() (int, error) { return 2, nil })
	close(release)
	if !errors.Is(err, context.Canceled) || !shared {
		t.Fatalf("Do with cancelled ctx = %v, shared %v", err, shared)
	}
}
