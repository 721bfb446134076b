package memcached

import (
	"crypto/md5"
	"encoding/binary"
	"math"
	"slices"
	"strconv"
)

// Ketama placement, as libmemcached (MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED) and
// twemproxy (distribution: ketama, hash: md5) compute it, so that a key lands
// on the same server for them and for this package:
//
//   - Each server gets points on a 32-bit circle: 160 for an even share,
//     in general floor(float32(w/W * 160 / 4 * n)) * 4, where w is its
//     weight, W the sum of the weights and n the number of servers, all in
//     float32 arithmetic as the C code does (so three servers of weight 1
//     get 160 points each, and uneven weights round down to a multiple of 4).
//   - The points of a server come 4 per MD5 digest: digest i is the MD5 of
//     "<name>-<i>", and its 16 bytes give 4 points, each 4 bytes read
//     little-endian. The name is the host as configured when the port is
//     libmemcached's default 11211 ("10.0.0.1"), and "<host>:<port>"
//     otherwise ("10.0.0.1:11212"); a unix socket is "<path>:0".
//   - Points are sorted by value, ties by the server's position in the
//     configuration (libmemcached's order; twemproxy leaves ties to qsort).
//   - A key's position is the first 4 bytes of the MD5 of the key (the item
//     key, Config.Prefix included), little-endian; it belongs to the first
//     point at or after it, wrapping around to the first point.
//
// Replicas and failover walk on from that point: the next points of other
// servers, skipping ejected ones. Skipping a server moves only its own keys
// (to the server each key would reach next); libmemcached and twemproxy
// rebuild the circle without it instead, which gives the same placement
// when the weights are equal.
const (
	ketamaPoints  = 160     // points of a server with an even share of the weight
	pointsPerHash = 4       // points taken from one MD5 digest
	ketamaPort    = "11211" // libmemcached's default port, left out of point names
)

// point is one point of the circle: a hash value and the index of the server
// it belongs to.
type point struct {
	hash uint32
	srv  int32
}

// ring is an immutable ketama circle over servers 0..n-1.
type ring struct {
	points []point
	n      int // number of servers
}

// newRing builds the circle for servers with the given point names (see
// pointName) and weights (each >= 1), in configuration order.
func newRing(names []string, weights []int) *ring {
	total := 0
	for _, w := range weights {
		total += w
	}
	r := &ring{n: len(names)}
	for i, name := range names {
		count := pointCount(weights[i], total, len(names))
		for d := range count / pointsPerHash {
			sum := md5.Sum([]byte(name + "-" + strconv.Itoa(d)))
			for x := range pointsPerHash {
				h := binary.LittleEndian.Uint32(sum[4*x:])
				r.points = append(r.points, point{hash: h, srv: int32(i)})
			}
		}
	}
	slices.SortFunc(r.points, func(a, b point) int {
		if a.hash != b.hash {
			return cmpUint32(a.hash, b.hash)
		}
		return int(a.srv - b.srv)
	})
	return r
}

func cmpUint32(a, b uint32) int {
	if a < b {
		return -1
	}
	return 1
}

// pointCount returns the points of a server of weight w among n servers of
// total weight total, with libmemcached's float32 arithmetic. Each operation
// is converted explicitly so that the compiler cannot fuse them (Go's spec
// allows fused multiply-add otherwise) and round differently from C.
func pointCount(w, total, n int) int {
	pct := float32(w) / float32(total)
	x := float32(pct * ketamaPoints)
	x = float32(x / pointsPerHash)
	x = float32(x * float32(n))
	x = float32(x + 0.0000000001)
	return int(math.Floor(float64(x))) * pointsPerHash
}

// pointName returns the name a server's points are hashed from: the host
// alone on port 11211, "host:port" otherwise. For a unix socket (host is
// the path, port empty) it is "path:0", as libmemcached names it.
func pointName(host, port string) string {
	switch port {
	case ketamaPort:
		return host
	case "":
		return host + ":0"
	}
	return host + ":" + port
}

// keyHash returns the position of key on the circle: the first 4 bytes of
// its MD5, little-endian. It does not allocate for keys of at most
// MaxKeyLen bytes (every item key).
func keyHash(key string) uint32 {
	var buf [MaxKeyLen]byte
	var sum [md5.Size]byte
	if len(key) <= len(buf) {
		sum = md5.Sum(buf[:copy(buf[:], key)])
	} else {
		sum = md5.Sum([]byte(key))
	}
	return binary.LittleEndian.Uint32(sum[:])
}

// search returns the index of the first point at or after h, wrapping
// around to 0.
func (r *ring) search(h uint32) int {
	i, j := 0, len(r.points)
	for i < j {
		m := int(uint(i+j) >> 1)
		if r.points[m].hash < h {
			i = m + 1
		} else {
			j = m
		}
	}
	if i == len(r.points) {
		return 0
	}
	return i
}

// pick appends to dst the indexes of the first n distinct servers on the
// circle from key's position for which usable returns true, in circle order,
// and returns dst. It appends fewer when fewer servers are usable.
func (r *ring) pick(key string, n int, usable func(int) bool, dst []int) []int {
	if r.n == 0 || n <= 0 {
		return dst
	}
	start := 0
	if r.n > 1 {
		start = r.search(keyHash(key))
	}
	base := len(dst)
	for k := range r.points {
		srv := int(r.points[(start+k)%len(r.points)].srv)
		if !usable(srv) || slices.Contains(dst[base:], srv) {
			continue
		}
		if dst = append(dst, srv); len(dst)-base == n {
			break
		}
	}
	return dst
}
