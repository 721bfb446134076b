package clock

import (
	"runtime"
	"sync"
	"testing"
	"time"
)

func TestAcquireRelease(t *testing.T) {
	before := runtime.NumGoroutine()
	Acquire()
	Acquire()
	if got := Refs(); got != 2 {
		t.Fatalf("Refs() = %d, want 2", got)
	}
	start := Now()
	if d := time.Now().UnixNano() - start; d < 0 || d > int64(time.Second) {
		t.Fatalf("Now() is %v behind after Acquire", time.Duration(d))
	}
	waitAdvance(t, start)
	Release()
	Release()
	if got := Refs(); got != 0 {
		t.Fatalf("Refs() = %d after releasing all, want 0", got)
	}
	waitGoroutines(t, before)
	frozen := Now()
	time.Sleep(5 * Resolution)
	if Now() != frozen {
		t.Fatal("clock advanced with no reference held")
	}
}

func TestRestart(t *testing.T) {
	for range 3 {
		Acquire()
		waitAdvance(t, Now())
		Release()
	}
}

func TestConcurrentAcquire(t *testing.T) {
	before := runtime.NumGoroutine()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 50 {
				Acquire()
				_ = Now()
				Release()
			}
		})
	}
	wg.Wait()
	if got := Refs(); got != 0 {
		t.Fatalf("Refs() = %d, want 0", got)
	}
	waitGoroutines(t, before)
}

func TestReleaseWithoutAcquirePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("Release without Acquire did not panic")
		}
	}()
	Release()
}

func TestNowDoesNotAllocate(t *testing.T) {
	if n := testing.AllocsPerRun(100, func() { _ = Now() }); n != 0 {
		t.Fatalf("Now allocates %v times", n)
	}
}

// waitAdvance waits (up to a generous bound; no timing assertion) for the
// clock to move past start.
func waitAdvance(t *testing.T, start int64) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(Resolution) {
		if Now() > start {
			return
		}
	}
	t.Fatal("clock did not advance")
}

// waitGoroutines waits for the goroutine count to drop back to want.
func waitGoroutines(t *testing.T, want int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if runtime.NumGoroutine() <= want {
			return
		}
	}
	t.Fatalf("%d goroutines, want %d", runtime.NumGoroutine(), want)
}
