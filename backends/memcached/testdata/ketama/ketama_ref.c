/*
 * ketama_ref prints which server libmemcached picks for each key, as the
 * independent reference for the placement test (ketama_test.go). It is not
 * built by go test; gen.sh builds and runs it.
 *
 * Usage: ketama_ref SERVER... < keys
 * Each SERVER is a Config.Servers entry: "host:port", "[v6addr]:port" or a
 * unix socket path, optionally followed by " weight". For each key on
 * stdin it prints "key<TAB>index<TAB>name:port", index being the server's
 * position in the arguments (from 0).
 *
 * The distribution is MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED: ketama with MD5
 * for the points and the keys, and points in proportion to the weights.
 */
#include <libmemcached/memcached.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void add(memcached_st *m, const char *arg) {
  char *s = strdup(arg);
  unsigned weight = 1;
  char *w = strrchr(s, ' ');
  if (w) {
    *w = 0;
    weight = (unsigned) atoi(w + 1);
  }
  memcached_return_t rc;
  if (s[0] == '/') {
    rc = memcached_server_add_unix_socket_with_weight(m, s, weight);
  } else {
    char *p = strrchr(s, ':');
    if (!p) {
      fprintf(stderr, "ketama_ref: %s: no port\n", arg);
      exit(2);
    }
    *p = 0;
    char *host = s;
    if (host[0] == '[') { /* [v6]:port: libmemcached takes the bare address */
      host++;
      host[strlen(host) - 1] = 0;
    }
    rc = memcached_server_add_with_weight(m, host, (in_port_t) atoi(p + 1), weight);
  }
  if (rc != MEMCACHED_SUCCESS) {
    fprintf(stderr, "ketama_ref: add %s: %s\n", arg, memcached_strerror(m, rc));
    exit(1);
  }
  free(s);
}

int main(int argc, char **argv) {
  memcached_st *m = memcached_create(NULL);
  if (memcached_behavior_set(m, MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED, 1) != MEMCACHED_SUCCESS) {
    fprintf(stderr, "ketama_ref: cannot select weighted ketama\n");
    return 1;
  }
  for (int i = 1; i < argc; i++) {
    add(m, argv[i]);
  }
  uint32_t n = memcached_server_count(m);
  char line[4096];
  while (fgets(line, sizeof line, stdin)) {
    line[strcspn(line, "\r\n")] = 0;
    memcached_return_t rc;
    const memcached_instance_st *in = memcached_server_by_key(m, line, strlen(line), &rc);
    if (in == NULL || rc != MEMCACHED_SUCCESS) {
      fprintf(stderr, "ketama_ref: key %s: %s\n", line, memcached_strerror(m, rc));
      return 1;
    }
    int index = -1;
    for (uint32_t i = 0; i < n; i++) {
      if (memcached_server_instance_by_position(m, i) == in) {
        index = (int) i;
      }
    }
    printf("%s\t%d\t%s:%u\n", line, index, memcached_server_name(in), memcached_server_port(in));
  }
  memcached_free(m);
  return 0;
}
