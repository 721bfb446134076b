package memcached

import (
	"fmt"
	"net"
	"strconv"
	"strings"
)

// maxWeight bounds a server's weight; the circle has about 160 points per
// server whatever the weights, so larger values would only lose precision.
const maxWeight = 1 << 20

// serverSpec is one parsed Config.Servers entry.
type serverSpec struct {
	name   string   // the address as configured, without the weight
	point  string   // the name its ketama points are hashed from
	weight int      // >= 1
	addr   net.Addr // resolved; String() is cached
}

// same reports whether s and o describe the same server, so that
// SetServers keeps its state.
func (s serverSpec) same(o serverSpec) bool {
	return s.name == o.name && s.point == o.point && s.weight == o.weight && s.addr.String() == o.addr.String()
}

// parseServers parses and resolves Config.Servers entries. An entry is
// "host:port" or a unix socket path (containing "/"), optionally followed
// by whitespace and a weight from 1 to maxWeight (default 1). An address
// listed twice is an error: give it a weight instead. Host names are
// resolved now (a DNS lookup for names that are not IP addresses).
func parseServers(entries []string) ([]serverSpec, error) {
	specs := make([]serverSpec, 0, len(entries))
	seen := make(map[string]string, len(entries))
	for _, e := range entries {
		s, err := parseServer(e)
		if err != nil {
			return nil, err
		}
		if prev, dup := seen[s.addr.String()]; dup {
			return nil, fmt.Errorf("server %q is listed twice (as %q): give it a weight instead", e, prev)
		}
		seen[s.addr.String()] = e
		specs = append(specs, s)
	}
	return specs, nil
}

// parseServer parses one Config.Servers entry.
func parseServer(entry string) (serverSpec, error) {
	f := strings.Fields(entry)
	if len(f) == 0 || len(f) > 2 {
		return serverSpec{}, fmt.Errorf("server %q: want \"host:port\" or a socket path, optionally followed by a weight", entry)
	}
	s := serverSpec{name: f[0], weight: 1}
	if len(f) == 2 {
		w, err := strconv.Atoi(f[1])
		if err != nil || w < 1 || w > maxWeight {
			return serverSpec{}, fmt.Errorf("server %q: weight %q is not an integer from 1 to %d", entry, f[1], maxWeight)
		}
		s.weight = w
	}
	if strings.Contains(s.name, "/") {
		ua, err := net.ResolveUnixAddr("unix", s.name)
		if err != nil {
			return serverSpec{}, fmt.Errorf("server %q: %v", entry, err)
		}
		s.addr, s.point = newStaticAddr(ua), pointName(s.name, "")
		return s, nil
	}
	host, port, err := net.SplitHostPort(s.name)
	if err != nil {
		return serverSpec{}, fmt.Errorf("server %q: %v", entry, err)
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 1 || p > 65535 {
		return serverSpec{}, fmt.Errorf("server %q: bad port %q", entry, port)
	}
	ta, err := net.ResolveTCPAddr("tcp", s.name)
	if err != nil {
		return serverSpec{}, fmt.Errorf("server %q: %v", entry, err)
	}
	s.addr, s.point = newStaticAddr(ta), pointName(host, strconv.Itoa(p))
	return s, nil
}

// staticAddr is a net.Addr whose Network and String are computed once:
// gomemcache calls String on every request.
type staticAddr struct{ network, str string }

func newStaticAddr(a net.Addr) net.Addr { return &staticAddr{a.Network(), a.String()} }

func (a *staticAddr) Network() string { return a.network }
func (a *staticAddr) String() string  { return a.str }
