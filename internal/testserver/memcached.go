package testserver

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

// Memcached is the memcached binary: $MEMCACHED_BIN, or "memcached" on
// $PATH.
var Memcached = Binary{Env: "MEMCACHED_BIN", Names: []string{"memcached"}, Install: "memcached (apt-get install memcached)"}

// MemcachedArgs returns the arguments of a memcached on 127.0.0.1:port,
// TCP only, with memoryMB megabytes: "-l 127.0.0.1 -p PORT -U 0 -m MB",
// plus "-u root" when running as root, which memcached requires.
func MemcachedArgs(port, memoryMB int) []string {
	args := []string{"-l", "127.0.0.1", "-p", strconv.Itoa(port), "-U", "0", "-m", strconv.Itoa(memoryMB)}
	if os.Geteuid() == 0 {
		args = append(args, "-u", "root")
	}
	return args
}

// MemcachedStats returns the "stats" of the memcached at addr (e.g.
// "cmd_get", "curr_items", "bytes"), read on a new connection that
// timeout bounds (the dial, then the whole exchange).
func MemcachedStats(addr string, timeout time.Duration) (map[string]string, error) {
	c, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(timeout))
	if _, err := fmt.Fprint(c, "stats\r\n"); err != nil {
		return nil, err
	}
	out := map[string]string{}
	sc := bufio.NewScanner(c)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "END" {
			return out, nil
		}
		f := strings.Fields(line)
		if len(f) != 3 || f[0] != "STAT" {
			return nil, fmt.Errorf("memcached stats: unexpected line %q", line)
		}
		out[f[1]] = f[2]
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return nil, errors.New("memcached stats: connection closed before END")
}
