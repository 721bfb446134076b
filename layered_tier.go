package tiercache

// Tier returns the i-th tier of l (0 is the front, Tiers()-1 the
// authority), or nil when i is out of range. Reading a tier directly
// bypasses promotion; writing one directly bypasses the rules of
// layered_guard.go for that key, so use it for keys the Layered itself
// never writes (httpcache keeps its purge generations in the authority
// this way, so that no process reads them from a private upper tier).
func (l *Layered) Tier(i int) Manager {
	if i < 0 || i >= len(l.tiers) {
		return nil
	}
	return l.tiers[i]
}
