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
// its doorkeeper bits are set: 0 to 16. A count-min estimate never falls
// short of the true count since the last halving (capped at 16); it
// exceeds it only when all four counters are shared with other keys.
//
// Ageing. After period recorded requests (resetFactor per entry of
// capacity) every counter is halved and the doorkeeper cleared, so that
// the sketch follows a changing popularity and a saturated counter can
// fall.
//
// Refusals. A refused key sets its 2 bits in the current generation; the
// generations turn over every cap/3 refusals, dropping the older one, so a
// key counts as refused lately for the next cap/3 to 2*cap/3 refusals, or
// until it is admitted for it.
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
	refusedTurn     = 3 // generations of refused keys per capacity
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
		// count, so the keys of new block j were in old block about
		// j*oldBlocks/blocks: it starts with that block's counts.
		for j := range blocks {
			i := j * oldBlocks / blocks
			copy(s.table[j*blockWords:(j+1)*blockWords], old[i*blockWords:(i+1)*blockWords])
		}
	}
	s.cap = capacity
	s.period = resetFactor * s.cap
}

// slots are the positions of one key in its block.
type slots struct {
	b   int    // offset of the block in the table
	r   uint64 // second mix of the hash: the in-block positions
	dk  [2]uint64
	dkw [2]int
}

func (s *sketch) slots(h uint64) slots {
	b := int((h>>32)*s.blocks>>32) * blockWords
	r := h * mixConstant
	d0, d1 := (r>>40)&127, (r>>47)&127
	return slots{b: b, r: r,
		dkw: [2]int{b + doorWord + int(d0>>6), b + doorWord + int(d1>>6)},
		dk:  [2]uint64{1 << (d0 & 63), 1 << (d1 & 63)}}
}

// counter returns the word and bit offset of the key's counter i.
func (k *slots) counter(i int) (int, uint) {
	return k.b + i, uint((k.r>>(4*i))&15) << 2
}

// refusedMask returns the key's 2 bits in a refused generation word.
func (k *slots) refusedMask() uint64 {
	return 1<<((k.r>>54)&63) | 1<<((k.r>>16)&63)
}

// add records one request for the key of hash h. It reports whether a
// halving is due (the caller runs reset off the hit path).
func (s *sketch) add(h uint64) bool {
	if s.table == nil {
		return false
	}
	s.added++
	k := s.slots(h)
	t := s.table
	if t[k.dkw[0]]&k.dk[0] == 0 || t[k.dkw[1]]&k.dk[1] == 0 {
		t[k.dkw[0]] |= k.dk[0]
		t[k.dkw[1]] |= k.dk[1]
		return s.added >= s.period
	}
	var w [4]int
	var off [4]uint
	least := uint64(counterMax)
	for i := range 4 {
		w[i], off[i] = k.counter(i)
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

// estimate returns the requests for the key of hash h since about the last
// halving, 0 to 16.
func (s *sketch) estimate(h uint64) int {
	if s.table == nil {
		return 0
	}
	k := s.slots(h)
	t := s.table
	if t[k.dkw[0]]&k.dk[0] == 0 || t[k.dkw[1]]&k.dk[1] == 0 {
		return 0
	}
	least := uint64(counterMax)
	for i := range 4 {
		w, off := k.counter(i)
		least = min(least, t[w]>>off&0xf)
	}
	return int(least) + 1
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
	k := s.slots(h)
	s.table[k.b+refusedWord] |= k.refusedMask()
}

// wasRefused reports whether the key of hash h was refused lately, and
// forgets it: a key gets one admission for one refusal.
func (s *sketch) wasRefused(h uint64) bool {
	if s.table == nil {
		return false
	}
	k := s.slots(h)
	m := k.refusedMask()
	t := s.table[k.b+refusedWord : k.b+refusedWord+2]
	if t[0]&m != m && t[1]&m != m {
		return false
	}
	t[0] &^= m
	t[1] &^= m
	return true
}
