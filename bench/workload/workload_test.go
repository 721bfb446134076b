package workload

import (
	"bytes"
	"slices"
	"testing"
)

func smallConfig() Config {
	c := DefaultConfig()
	c.Keys, c.Warmup, c.Ops = 2000, 1000, 20_000
	return c
}

func TestDeterministic(t *testing.T) {
	a, err := New(smallConfig())
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(smallConfig())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a.Keys, b.Keys) || !slices.Equal(a.Trace, b.Trace) || !slices.Equal(a.Warmup, b.Warmup) {
		t.Fatal("same seed gave different keys or traces")
	}
	for i := range a.Responses {
		ra, rb := a.Responses[i], b.Responses[i]
		if !bytes.Equal(ra.Body, rb.Body) || ra.Header.Get("Etag") != rb.Header.Get("Etag") {
			t.Fatalf("same seed gave a different response for key %d", i)
		}
	}
	c := smallConfig()
	c.Seed++
	d, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Equal(a.Trace, d.Trace) {
		t.Fatal("different seeds gave the same trace")
	}
}

func TestMixAndSizes(t *testing.T) {
	c := smallConfig()
	w, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	var n [3]int
	for _, op := range w.Trace {
		n[op.Kind]++
		if int(op.Key) >= c.Keys {
			t.Fatalf("key %d out of range", op.Key)
		}
	}
	// 20,000 ops: 6 standard deviations of the Get count is about 185.
	total := float64(len(w.Trace))
	for k, want := range []float64{c.Get, c.Put, c.Delete} {
		if got := float64(n[k]) / total; got < want-0.01 || got > want+0.01 {
			t.Errorf("%v share %.4f, want %.2f", Kind(k), got, want)
		}
	}
	var html, json int
	for i, r := range w.Responses {
		if len(r.Body) < c.MinSize || len(r.Body) > c.MaxSize {
			t.Fatalf("key %d: body of %d bytes outside [%d, %d]", i, len(r.Body), c.MinSize, c.MaxSize)
		}
		switch r.Header.Get("Content-Type") {
		case "application/json":
			json++
		default:
			html++
		}
	}
	if json == 0 || html == 0 {
		t.Errorf("size mix has %d HTML and %d JSON bodies, want both", html, json)
	}
}

func TestValidate(t *testing.T) {
	for name, mutate := range map[string]func(*Config){
		"keys":     func(c *Config) { c.Keys = 0 },
		"skew":     func(c *Config) { c.Skew = -1 },
		"min":      func(c *Config) { c.MinSize = 0 },
		"max<min":  func(c *Config) { c.MaxSize = c.MinSize - 1 },
		"sum":      func(c *Config) { c.Get = 0.5 },
		"negative": func(c *Config) { c.Put, c.Get = -0.04, 1.03 },
		"ops":      func(c *Config) { c.Ops = 0 },
	} {
		c := DefaultConfig()
		mutate(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("%s: Validate accepted %+v", name, c)
		}
	}
	if err := DefaultConfig().Validate(); err != nil {
		t.Errorf("DefaultConfig: %v", err)
	}
}
