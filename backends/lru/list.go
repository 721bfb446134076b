package lru

// node is one key in an ARC or Adaptive shard: a resident entry, or (ARC
// only) a ghost that remembers a recently evicted key. Nodes are linked into
// exactly one list at a time, so moving a key between lists (an ARC T1 hit,
// an Adaptive probation hit) relinks it without allocating.
type node struct {
	prev, next *node
	key        string
	hash       uint64 // maphash of key, for the frequency sketch (Adaptive)
	entry             // the zero entry for a ghost
	where      uint8  // the list the node is on (see the evictors)
	refused    bool   // Adaptive: the key was refused admission lately
	saturated  uint32 // Adaptive: the sketch generation in which its counters were full
}

// list is an intrusive, circular, doubly linked list of nodes with a
// sentinel, plus the count and bytes of its nodes. The front is the least
// recently used end (the next victim), the back the most recent. The zero
// list must be initialised with init. Not safe for concurrent use.
type list struct {
	root  node
	len   int
	bytes int64
}

func (l *list) init() {
	l.root.next, l.root.prev = &l.root, &l.root
	l.len, l.bytes = 0, 0
}

// front returns the least recently used node, or nil.
func (l *list) front() *node {
	if l.len == 0 {
		return nil
	}
	return l.root.next
}

// following returns the node after n towards the back, or nil at the end.
func (l *list) following(n *node) *node {
	if n.next == &l.root {
		return nil
	}
	return n.next
}

// pushBack links n, which is on no list, as the most recent node of l.
func (l *list) pushBack(n *node) {
	last := l.root.prev
	n.prev, n.next = last, &l.root
	last.next, l.root.prev = n, n
	l.len++
	l.bytes += n.size
}

// unlink removes n from l, which it must be on.
func (l *list) unlink(n *node) {
	n.prev.next, n.next.prev = n.next, n.prev
	n.prev, n.next = nil, nil
	l.len--
	l.bytes -= n.size
}

// moveToBack makes n, which is on l, the most recent node of l.
func (l *list) moveToBack(n *node) {
	if l.root.prev == n {
		return
	}
	n.prev.next, n.next.prev = n.next, n.prev
	last := l.root.prev
	n.prev, n.next = last, &l.root
	last.next, l.root.prev = n, n
}
