package redistest

import (
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// ClusterReadyTimeout bounds the wait for a new cluster to report
// cluster_state:ok on every node.
const ClusterReadyTimeout = 30 * time.Second

// Cluster is a Redis Cluster of masters started by StartCluster.
type Cluster struct {
	Nodes []*Server
}

// Addrs returns the nodes' addresses, for a cluster client's seed list.
func (c *Cluster) Addrs() []string {
	addrs := make([]string, len(c.Nodes))
	for i, n := range c.Nodes {
		addrs[i] = n.Addr
	}
	return addrs
}

// Close stops every node and removes their directories.
func (c *Cluster) Close() {
	for _, n := range c.Nodes {
		n.Close()
	}
}

// StartCluster starts masters (at least 3) servers with
// "--cluster-enabled yes", each on a free port with its cluster bus on
// another free port, joins them with "redis-cli --cluster create ...
// --cluster-replicas 0 --cluster-yes" (slots spread evenly), waits until
// every node reports cluster_state:ok and registers a t.Cleanup that stops
// them. It skips (or, under CI=true, fails) the test when redis-server or
// redis-cli is missing.
func StartCluster(tb testing.TB, masters int) *Cluster {
	tb.Helper()
	if !Available(tb) {
		return nil
	}
	if _, ok := cliBinary.Require(tb, "redistest"); !ok {
		return nil
	}
	c, err := StartClusterProcess(masters)
	if err != nil {
		tb.Fatalf("redistest: %v", err)
		return nil
	}
	tb.Cleanup(c.Close)
	return c
}

// StartClusterProcess is StartCluster without a testing.TB; the caller must
// call Close.
func StartClusterProcess(masters int) (*Cluster, error) {
	if masters < 3 {
		return nil, fmt.Errorf("redistest: a cluster needs at least 3 masters, not %d", masters)
	}
	cli, err := CLIBinary()
	if err != nil {
		return nil, err
	}
	c := &Cluster{}
	for range masters {
		n, err := startClusterNode()
		if err != nil {
			c.Close()
			return nil, err
		}
		c.Nodes = append(c.Nodes, n)
	}
	args := append([]string{"--cluster", "create"}, c.Addrs()...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.Command(cli, args...).CombinedOutput(); err != nil {
		c.Close()
		return nil, fmt.Errorf("redistest: %s %s: %w: %s", cli, strings.Join(args, " "), err, out)
	}
	if err := c.waitOK(); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// waitOK polls CLUSTER INFO on every node until each says cluster_state:ok.
func (c *Cluster) waitOK() error {
	deadline := time.Now().Add(ClusterReadyTimeout)
	for _, n := range c.Nodes {
		for {
			info, err := Command(n.Addr, "CLUSTER", "INFO")
			if err == nil && strings.Contains(info, "cluster_state:ok") {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("redistest: cluster node %s not ok after %v: %v %q", n.Addr, ClusterReadyTimeout, err, info)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return nil
}

// startClusterNode starts one node in cluster mode. Its cluster bus listens
// on a free port given with --cluster-port (Redis 7 and Valkey); older
// servers use the client port + 10000, which StartProcess cannot choose,
// so the start is retried until that port is free too.
func startClusterNode() (*Server, error) {
	args := []string{"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "5000"}
	if clusterPortOption() {
		busPort, err := FreePort()
		if err != nil {
			return nil, err
		}
		return StartProcess(Options{Args: append(args, "--cluster-port", strconv.Itoa(busPort))})
	}
	var lastErr error
	for range 10 {
		n, err := StartProcess(Options{Args: args})
		if err == nil {
			return n, nil
		}
		lastErr = err // the bus port (port+10000) was taken or out of range
	}
	return nil, lastErr
}

// clusterPortOption reports whether the server accepts --cluster-port:
// Redis 7 and later, and every Valkey.
func clusterPortOption() bool {
	bin, err := Binary()
	if err != nil {
		return false
	}
	out, err := exec.Command(bin, "--version").Output()
	if err != nil {
		return false
	}
	v := string(out)
	if strings.Contains(strings.ToLower(v), "valkey") {
		return true
	}
	i := strings.Index(v, " v=")
	if i < 0 {
		return false
	}
	major, _, _ := strings.Cut(v[i+3:], ".")
	n, err := strconv.Atoi(major)
	return err == nil && n >= 7
}
