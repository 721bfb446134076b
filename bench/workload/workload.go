// Package workload generates and replays the cache workloads of the
// tier-layout benchmark (go run ./bench) and of bench/peers: a seeded Zipf
// key distribution, a fixed body size per key drawn from a log-normal mix of
// HTML- and JSON-like documents, and a trace of Get/Put/Delete operations
// that is generated once and replayed identically on every layout.
//
// It depends only on the standard library and tiercache.
package workload

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"

	"github.com/tiercache/tiercache"
)

// Kind is the operation of one trace entry.
type Kind uint8

// Operation kinds.
const (
	Get Kind = iota
	Put
	Delete
)

// String returns the kind's name.
func (k Kind) String() string {
	switch k {
	case Get:
		return "get"
	case Put:
		return "put"
	case Delete:
		return "delete"
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Op is one trace entry: an operation on the key with index Key.
type Op struct {
	Key  uint32
	Kind Kind
}

// Config describes a workload. The zero value is not valid: start from
// DefaultConfig.
type Config struct {
	Keys       int     // distinct keys
	Skew       float64 // Zipf exponent s (>= 0; 0.99 is typical of web traffic)
	MinSize    int     // smallest body in bytes
	MaxSize    int     // largest body in bytes
	MedianSize int     // median body size before clamping
	SizeSigma  float64 // sigma of the log-normal body size
	JSONShare  float64 // fraction of keys whose body is JSON-like (the rest HTML-like)
	Get        float64 // fraction of Get operations
	Put        float64 // fraction of Put operations
	Delete     float64 // fraction of Delete operations
	Warmup     int     // operations replayed before measuring
	Ops        int     // measured operations
	Seed       uint64  // seed of every random choice
	TTL        time.Duration
}

// DefaultConfig returns the configuration of the default benchmark run.
func DefaultConfig() Config {
	return Config{
		Keys: 100_000, Skew: 0.99,
		MinSize: 200, MaxSize: 256 << 10, MedianSize: 6 << 10, SizeSigma: 1.2, JSONShare: 0.3,
		Get: 0.95, Put: 0.04, Delete: 0.01,
		Warmup: 50_000, Ops: 100_000,
		Seed: 1, TTL: time.Hour,
	}
}

// Validate reports the first invalid field.
func (c Config) Validate() error {
	var errs []error
	check := func(ok bool, format string, args ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf(format, args...))
		}
	}
	check(c.Keys > 0 && c.Keys <= math.MaxUint32, "keys must be in [1, 2^32), got %d", c.Keys)
	check(c.Skew >= 0 && !math.IsInf(c.Skew, 0), "skew must be >= 0, got %v", c.Skew)
	check(c.MinSize > 0, "min-size must be positive, got %d", c.MinSize)
	check(c.MaxSize >= c.MinSize, "max-size (%d) must be >= min-size (%d)", c.MaxSize, c.MinSize)
	check(c.MaxSize <= 64<<20, "max-size must be at most 64 MiB, got %d", c.MaxSize)
	check(c.MedianSize > 0, "median-size must be positive, got %d", c.MedianSize)
	check(c.SizeSigma >= 0 && c.SizeSigma <= 5, "size-sigma must be in [0, 5], got %v", c.SizeSigma)
	check(c.JSONShare >= 0 && c.JSONShare <= 1, "json-share must be in [0, 1], got %v", c.JSONShare)
	for _, f := range []struct {
		name string
		v    float64
	}{{"get", c.Get}, {"put", c.Put}, {"del", c.Delete}} {
		check(f.v >= 0 && f.v <= 1, "-%s must be a fraction in [0, 1], got %v", f.name, f.v)
	}
	sum := c.Get + c.Put + c.Delete
	check(math.Abs(sum-1) < 1e-9, "-get + -put + -del must sum to 1, got %v", sum)
	check(c.Warmup >= 0, "warmup must be >= 0, got %d", c.Warmup)
	check(c.Ops > 0, "ops must be positive, got %d", c.Ops)
	check(c.TTL > 0, "ttl must be positive, got %v", c.TTL)
	return errors.Join(errs...)
}

// Workload is a generated workload: keys, one response per key, and the
// warm-up and measured traces. It is immutable and safe for concurrent use;
// the responses are shared and must be treated as read-only.
type Workload struct {
	Config    Config
	Keys      []string              // Keys[i] is the key of index i; index 0 is the most popular
	Responses []*tiercache.Response // Responses[i] is stored under Keys[i]
	Policy    *tiercache.Policy     // the policy of every response
	Warmup    []Op                  // replayed before measuring
	Trace     []Op                  // the measured operations
	Zipf      *Zipf                 // the key distribution
}

// New generates the workload of c. The same Config (including Seed) always
// gives the same keys, bodies and traces.
func New(c Config) (*Workload, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	z, err := NewZipf(c.Keys, c.Skew)
	if err != nil {
		return nil, err
	}
	w := &Workload{Config: c, Zipf: z, Policy: tiercache.NewTTLPolicy(c.TTL)}
	r := rand.New(rand.NewPCG(c.Seed, 0x7469657263616368)) // "tiercach"
	w.buildResponses(r)
	w.Warmup = w.trace(r, c.Warmup)
	w.Trace = w.trace(r, c.Ops)
	return w, nil
}

// bodySize draws a body size: log-normal around MedianSize, clamped.
func (c Config) bodySize(r *rand.Rand) int {
	v := float64(c.MedianSize) * math.Exp(c.SizeSigma*r.NormFloat64())
	return int(min(max(v, float64(c.MinSize)), float64(c.MaxSize)))
}

func (w *Workload) buildResponses(r *rand.Rand) {
	c := w.Config
	html := Corpus(c.Seed, HTML, max(2*c.MaxSize, 1<<20))
	json := Corpus(c.Seed, JSON, max(2*c.MaxSize, 1<<20))
	w.Keys = make([]string, c.Keys)
	w.Responses = make([]*tiercache.Response, c.Keys)
	for i := range w.Keys {
		size := c.bodySize(r)
		corpus, ctype := html, "text/html; charset=utf-8"
		if r.Float64() < c.JSONShare {
			corpus, ctype = json, "application/json"
		}
		off := r.IntN(len(corpus) - size + 1)
		url := "https://bench.example/doc/" + strconv.Itoa(i)
		w.Keys[i] = "GET " + url
		w.Responses[i] = &tiercache.Response{
			Status: http.StatusOK,
			Header: http.Header{
				"Content-Type":   {ctype},
				"Cache-Control":  {"public, max-age=3600"},
				"Etag":           {`"` + strconv.FormatUint(r.Uint64(), 36) + `"`},
				"Content-Length": {strconv.Itoa(size)},
			},
			Body: corpus[off : off+size : off+size],
			URL:  url,
		}
	}
}

func (w *Workload) trace(r *rand.Rand, n int) []Op {
	c := w.Config
	ops := make([]Op, n)
	for i := range ops {
		u := r.Float64()
		kind := Get
		switch {
		case u >= c.Get+c.Put:
			kind = Delete
		case u >= c.Get:
			kind = Put
		}
		ops[i] = Op{Key: uint32(w.Zipf.Sample(r)), Kind: kind}
	}
	return ops
}

// Sizes returns, per key index, the bytes that size(resp) gives for the
// key's response, as float64 for the Che model.
func (w *Workload) Sizes(size func(key string, resp *tiercache.Response) int64) []float64 {
	out := make([]float64, len(w.Keys))
	for i, k := range w.Keys {
		out[i] = float64(size(k, w.Responses[i]))
	}
	return out
}

// TotalBytes returns the sum of the body sizes of all keys.
func (w *Workload) TotalBytes() int64 {
	var n int64
	for _, r := range w.Responses {
		n += int64(len(r.Body))
	}
	return n
}
