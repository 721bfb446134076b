package memcached

// Stats is a snapshot of a Store's (or Manager's) counters. Counters are
// monotonic since New (a server's since it was first listed); gauges are
// int64.
type Stats struct {
	// Corrupt and Expired are the codec adapter's counters (Manager only):
	// entries that failed to decode (and were removed), and entries read
	// back with no retention left (returned as misses).
	Corrupt uint64
	Expired uint64
	// Servers are the servers in the ring, in configuration order (with a
	// Selector: the order it lists them in, then any it picked unlisted).
	Servers []ServerStats
}

// ServerStats are one server's counters and state. A call that goes to
// several replicas counts once on each.
type ServerStats struct {
	// Server is the address as configured, without the weight.
	Server string
	// Weight is the configured weight (1 with a Selector).
	Weight int64
	// State is ServerLive or ServerEjected (a gauge).
	State ServerState
	// Failures is the current count of consecutive failures (a gauge).
	Failures int64
	// Gets are the lookups sent to the server, Hits and Misses their
	// outcomes (a lookup that failed is neither).
	Gets, Hits, Misses uint64
	// Sets and Deletes are the writes sent to the server (a chunked value
	// counts once).
	Sets, Deletes uint64
	// Errors are the calls to the server that failed: the server could not
	// be reached or did not answer in time, or answered with an error line.
	// A call cut short by its caller's context is not counted.
	Errors uint64
	// Ejections and Rejoins count the server leaving and coming back into
	// the ring; Probes and ProbeErrors the probes sent to it while ejected
	// or suspected of hanging, and those that failed.
	Ejections, Rejoins, Probes, ProbeErrors uint64
}

// Stats returns a snapshot of the servers' counters and states. It is safe
// for concurrent use and costs one allocation (the Servers slice) and a few
// atomic loads per server; nothing is counted on the call path but atomic
// increments.
func (s *Store) Stats() Stats {
	t := s.c.top.Load()
	st := Stats{Servers: make([]ServerStats, len(t.servers))}
	for i, srv := range t.servers {
		ss := &st.Servers[i]
		ss.Server, ss.Weight = srv.spec.name, int64(srv.spec.weight)
		if srv.ejected.Load() {
			ss.State = ServerEjected
		}
		ss.Failures = int64(srv.failures.Load())
		ss.Gets, ss.Hits, ss.Misses = srv.gets.Load(), srv.hits.Load(), srv.misses.Load()
		ss.Sets, ss.Deletes, ss.Errors = srv.sets.Load(), srv.deletes.Load(), srv.errors.Load()
		ss.Ejections, ss.Rejoins = srv.ejections.Load(), srv.rejoins.Load()
		ss.Probes, ss.ProbeErrors = srv.probes.Load(), srv.probeErrors.Load()
	}
	return st
}
