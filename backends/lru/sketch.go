package lru

// sketch is Adaptive's memory of the recent past: how often each key was
// requested (a count-min sketch of 4-bit counters with a doorkeeper, aged
// by halving) and which keys the admission refused lately.
//
// Layout. The table is an array of 64-byte blocks, one CPU cache line each,
// so that recording, estimating or marking a key touches one line:
//
//	words 0-3  64 counters of 4 bits; a key uses one in each word
//	words 4-5  the doorkeeper: 128 bits, of which a key uses 2
//	word  6-7  the refused keys of the current and the previous generation:
//	           64 bits each, of which a key uses 2
//
// The block is chosen by the top 32 bits of the key's 64-bit hash scaled
// to the block count, the positions inside it by a second mix of the hash.
//
// Counting. The first request for a key since the last halving only sets
// its doorkeeper bits; later ones add 1 to each of its four counters that
// is at the minimum of the four and below 15 (a conservative update). So
// one-hit wonders never reach the counters, which stay accurate with few
// of them. The estimate is the minimum of the key's counters, plus 1 when
// its doorkeeper bits are set: 0 to 16. Until a halving it never falls
// short of the key's requests (capped at 16) and exceeds them only when
// each of the key's four counters (or both doorkeeper bits) also count
// other keys; TestSketchError measures how often.
//
// Ageing. After period recorded requests (resetFactor per entry of
// capacity) every counter is halved and the doorkeeper cleared, so that
// the sketch follows a changing popularity and a saturated counter can
// fall.
//
// Refusals. A refused key sets its 2 bits in the current generation; the
// generations turn over every cap/2 refusals, dropping the older one, so a
// key counts as refused lately for the next cap/2 to cap refusals, or until
// it is admitted for it.
//
// Memory. One block per entriesPerBlock entries of capacity: 16 bytes per
// entry. The capacity grows with the shard's entry count (grow), each new
// block starting with the counts of the block its keys mapped to, so that
// the history survives a resize.
type sketch struct {
	table   []uint64
	blocks  uint64 // len(table) / blockWords
	cap     int    // entries the table is sized for
	added   int    // requests recorded since the last halving
	period  int    // requests between halvings
	refused int    // refusals marked in the current generation
	resets  uint64
}

const (
	blockWords      = 8
	doorWord        = 4 // first doorkeeper word of a block
	refusedWord     = 6 // current refused generation; 7 is the previous one
	entriesPerBlock = 4
	refusedTurn     = 2 // generations of refused keys per capacity
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
	capacity = max(capacity, 1)
	blocks := uint64((capacity + entriesPerBlock - 1) / entriesPerBlock)
	old, oldBlocks := s.table, s.blocks
	s.table, s.blocks = make([]uint64, blocks*blockWords), blocks
	if oldBlocks > 0 {
		// A key's block is its hash's top 32 bits scaled to the block
		// count, so the keys of new block j were in old blocks j*o/n to
		// ((j+1)*o-1)/n (one or two): it starts with their counts merged,
		// so that no estimate falls.
		for j := range blocks {
			first, last := j*oldBlocks/blocks, ((j+1)*oldBlocks-1)/blocks
			nb := s.table[j*blockWords : (j+1)*blockWords]
			copy(nb, old[first*blockWords:(first+1)*blockWords])
			for i := first + 1; i <= last; i++ {
				ob := old[i*blockWords : (i+1)*blockWords]
				for w := range doorWord {
					nb[w] = nibbleMax(nb[w], ob[w])
				}
				for w := doorWord; w < blockWords; w++ {
					nb[w] |= ob[w]
				}
			}
		}
	}
	s.cap = capacity
	s.period = resetFactor * s.cap
}

// nibbleMax returns the counter-wise maximum of two counter words.
func nibbleMax(a, b uint64) uint64 {
	var m uint64
	for off := 0; off < 64; off += 4 {
		m |= max(a>>off&15, b>>off&15) << off
	}
	return m
}

// block returns the 64-byte block of the key of hash h and the second mix
// of h, whose bits place the key inside the block:
//
//	bits  0-15  the key's counter in words 0-3 (4 bits each)
//	bits 16-21  one of its refused bits
//	bits 40-53  its doorkeeper bits (7 bits each, of 128)
//	bits 54-59  its other refused bit
func (s *sketch) block(h uint64) (*[blockWords]uint64, uint64) {
	b := int((h>>32)*s.blocks>>32) * blockWords
	return (*[blockWords]uint64)(s.table[b : b+blockWords]), h * mixConstant
}

// door returns the key's two doorkeeper words (indexes into its block) and
// bits.
func door(r uint64) (w0, w1 int, m0, m1 uint64) {
	d0, d1 := (r>>40)&127, (r>>47)&127
	return doorWord + int(d0>>6), doorWord + int(d1>>6), 1 << (d0 & 63), 1 << (d1 & 63)
}

// counterOffsets returns the bit offsets of the key's counters in words 0-3.
func counterOffsets(r uint64) (o0, o1, o2, o3 uint) {
	return uint(r&15) << 2, uint(r>>4&15) << 2, uint(r>>8&15) << 2, uint(r>>12&15) << 2
}

// refusedMask returns the key's 2 bits in a refused generation word.
func refusedMask(r uint64) uint64 { return 1<<((r>>54)&63) | 1<<((r>>16)&63) }

// add records one request for the key of hash h. It reports whether a
// halving is due (the caller runs reset off the hit path).
func (s *sketch) add(h uint64) bool {
	due, _ := s.addReport(h)
	return due
}

// generation identifies the counts since the last halving; never 0.
func (s *sketch) generation() uint32 { return uint32(s.resets) + 1 }

// tick counts a request whose counters are known to be saturated, without
// touching them, and reports whether a halving is due.
func (s *sketch) tick() bool {
	s.added++
	return s.added >= s.period
}

// addReport is add, also reporting whether the key's counters are all at
// their maximum (later requests cannot change them until a halving).
func (s *sketch) addReport(h uint64) (due, saturated bool) {
	if s.table == nil {
		return false, false
	}
	s.added++
	blk, r := s.block(h)
	w0, w1, m0, m1 := door(r)
	if blk[w0]&m0 == 0 || blk[w1]&m1 == 0 {
		blk[w0] |= m0
		blk[w1] |= m1
		return s.added >= s.period, false
	}
	o0, o1, o2, o3 := counterOffsets(r)
	c0, c1, c2, c3 := blk[0]>>o0&15, blk[1]>>o1&15, blk[2]>>o2&15, blk[3]>>o3&15
	least := min(c0, c1, c2, c3)
	if least < counterMax {
		if c0 == least {
			blk[0] += 1 << o0
		}
		if c1 == least {
			blk[1] += 1 << o1
		}
		if c2 == least {
			blk[2] += 1 << o2
		}
		if c3 == least {
			blk[3] += 1 << o3
		}
	}
	return s.added >= s.period, least >= counterMax-1
}

// estimate returns the requests for the key of hash h since about the last
// halving, 0 to 16.
func (s *sketch) estimate(h uint64) int {
	if s.table == nil {
		return 0
	}
	blk, r := s.block(h)
	o0, o1, o2, o3 := counterOffsets(r)
	n := int(min(blk[0]>>o0&15, blk[1]>>o1&15, blk[2]>>o2&15, blk[3]>>o3&15))
	if w0, w1, m0, m1 := door(r); blk[w0]&m0 != 0 && blk[w1]&m1 != 0 {
		n++
	}
	return n
}

// reset halves every counter and clears the doorkeeper.
func (s *sketch) reset() {
	for b := 0; b < len(s.table); b += blockWords {
		for i := range doorWord {
			s.table[b+i] = (s.table[b+i] >> 1) & halfMask
		}
		s.table[b+doorWord], s.table[b+doorWord+1] = 0, 0
	}
	s.added = 0
	s.resets++
}

// refuse marks the key of hash h as refused by the admission.
func (s *sketch) refuse(h uint64) {
	if s.table == nil {
		return
	}
	if s.refused++; s.refused > s.cap/refusedTurn {
		for b := 0; b < len(s.table); b += blockWords {
			s.table[b+refusedWord+1], s.table[b+refusedWord] = s.table[b+refusedWord], 0
		}
		s.refused = 1
	}
	blk, r := s.block(h)
	blk[refusedWord] |= refusedMask(r)
}

// wasRefused reports whether the key of hash h was refused lately, and
// forgets it: a key gets one admission for one refusal.
func (s *sketch) wasRefused(h uint64) bool {
	if s.table == nil {
		return false
	}
	blk, r := s.block(h)
	m := refusedMask(r)
	if blk[refusedWord]&m != m && blk[refusedWord+1]&m != m {
		return false
	}
	blk[refusedWord] &^= m
	blk[refusedWord+1] &^= m
	return true
}
