package lru

import "math/bits"

// sketch estimates how often each key was requested recently: a count-min
// sketch of 4-bit counters with a doorkeeper, aged by halving.
//
// Layout. The table is an array of 64-byte blocks, one CPU cache line each,
// so that recording or estimating a key touches one line:
//
//	words 0-5  96 counters of 4 bits; a key uses 4 of them, one in each
//	           quarter (counters 0-23, 24-47, 48-71, 72-95), so its 4 are
//	           always distinct
//	words 6-7  the doorkeeper: 128 bits, of which a key uses 2
//
// The block is chosen by the top bits of the key's 64-bit hash, the
// positions inside it by the bits of a second mix of the hash.
//
// Recording. The first request for a key in a period only sets its two
// doorkeeper bits; later ones add 1 to each of its counters that is at the
// minimum of the four and below 15 (a conservative update: it never
// raises a counter above the key's own estimate + 1). One-hit wonders thus
// never reach the counters, which stay accurate with few of them. The
// estimate is the minimum of the key's four counters, plus 1 when both
// doorkeeper bits are set: 0 to 16.
//
// Ageing. After period recorded requests (resetFactor times the capacity)
// every counter is halved and the doorkeeper cleared, so that the sketch
// follows a changing popularity and a counter saturated at 15 can fall.
//
// Memory. One block per entriesPerBlock entries of capacity, rounded up to
// a power of two: 8 to 16 bytes per entry. The capacity grows with the
// shard (grow), each block splitting into the blocks its keys now map to,
// so that the counts survive a resize.
type sketch struct {
	table  []uint64
	shift  uint // 64 - log2(blocks): the hash's top bits select the block
	cap    int  // entries the table is sized for
	added  int  // requests recorded since the last reset
	period int  // requests between resets
	resets uint64
}

const (
	blockWords      = 8
	counterWords    = 6
	counterQuarter  = 24 // counters per quarter of a block
	entriesPerBlock = 8
	resetFactor     = 10
	counterMax      = 15
	halfMask        = 0x7777777777777777 // every counter's top bit clear
	mixConstant     = 0x9e3779b97f4a7c15 // 2^64 / golden ratio, odd
)

// grow sizes the sketch for at least capacity entries. It never shrinks.
func (s *sketch) grow(capacity int) {
	if capacity <= s.cap && s.table != nil {
		return
	}
	blocks := 1
	for blocks*entriesPerBlock < capacity {
		blocks <<= 1
	}
	old, oldBlocks := s.table, len(s.table)/blockWords
	s.table = make([]uint64, blocks*blockWords)
	s.shift = 64 - uint(bits.TrailingZeros(uint(blocks)))
	if oldBlocks > 0 {
		// Block i of the old table holds the keys whose top bits are i;
		// they now spread over blocks i*f to i*f+f-1.
		f := blocks / oldBlocks
		for i := range blocks {
			copy(s.table[i*blockWords:(i+1)*blockWords], old[(i/f)*blockWords:])
		}
	}
	s.cap = max(capacity, blocks*entriesPerBlock/2)
	s.period = resetFactor * s.cap
}

// block returns the offset of h's block in the table.
func (s *sketch) block(h uint64) int {
	if s.shift >= 64 {
		return 0
	}
	return int(h>>s.shift) * blockWords
}

// counterAt returns the word index and bit offset of h's counter i in the
// block at b. r is the second mix of h.
func counterAt(b int, r uint64, i int) (int, uint) {
	idx := counterQuarter*i + int(((r>>(8*i))&0xff)*counterQuarter>>8)
	return b + idx>>4, uint(idx&15) << 2
}

// doorkeeper returns h's two doorkeeper word indexes and masks.
func doorkeeper(b int, r uint64) (w0 int, m0 uint64, w1 int, m1 uint64) {
	d0, d1 := (r>>32)&127, (r>>39)&127
	return b + counterWords + int(d0>>6), 1 << (d0 & 63), b + counterWords + int(d1>>6), 1 << (d1 & 63)
}

// add records one request for the key of hash h. It reports whether a
// reset is due (the caller runs it off the hit path, see reset).
func (s *sketch) add(h uint64) bool {
	if s.table == nil {
		return false
	}
	s.added++
	b, r := s.block(h), h*mixConstant
	w0, m0, w1, m1 := doorkeeper(b, r)
	t := s.table
	if t[w0]&m0 == 0 || t[w1]&m1 == 0 {
		t[w0] |= m0
		t[w1] |= m1
		return s.added >= s.period
	}
	var w [4]int
	var off [4]uint
	least := uint64(counterMax)
	for i := range 4 {
		w[i], off[i] = counterAt(b, r, i)
		least = min(least, t[w[i]]>>off[i]&0xf)
	}
	if least < counterMax {
		for i := range 4 {
			if t[w[i]]>>off[i]&0xf == least {
				t[w[i]] += 1 << off[i]
			}
		}
	}
	return s.added >= s.period
}

// estimate returns the recent request count of the key of hash h, 0 to 16.
func (s *sketch) estimate(h uint64) int {
	if s.table == nil {
		return 0
	}
	b, r := s.block(h), h*mixConstant
	w0, m0, w1, m1 := doorkeeper(b, r)
	t := s.table
	if t[w0]&m0 == 0 || t[w1]&m1 == 0 {
		return 0
	}
	least := uint64(counterMax)
	for i := range 4 {
		w, off := counterAt(b, r, i)
		least = min(least, t[w]>>off&0xf)
	}
	return int(least) + 1
}

// reset halves every counter and clears the doorkeeper.
func (s *sketch) reset() {
	for b := 0; b < len(s.table); b += blockWords {
		for i := range counterWords {
			s.table[b+i] = (s.table[b+i] >> 1) & halfMask
		}
		s.table[b+counterWords], s.table[b+counterWords+1] = 0, 0
	}
	s.added = 0
	s.resets++
}
