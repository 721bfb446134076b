package main

import (
	"io"
	"net/http"
	"testing"
)

// TestTransportPeersHit checks that each Transport peer serves the second
// request from its cache, which is what BenchmarkTransportHit measures.
func TestTransportPeersHit(t *testing.T) {
	srv := newTransportOrigin()
	defer srv.Close()
	for _, p := range transportPeers {
		t.Run(p.name, func(t *testing.T) {
			rt, closeFn, err := p.open(srv.Client().Transport)
			if err != nil {
				t.Fatal(err)
			}
			defer closeFn()
			for i := range 2 {
				req, _ := http.NewRequest(http.MethodGet, srv.URL+"/"+p.name, nil)
				resp, err := rt.RoundTrip(req)
				if err != nil {
					t.Fatal(err)
				}
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil || string(body) != transportBody {
					t.Fatalf("request %d: %d bytes, %v", i, len(body), err)
				}
				if hit := p.isHit(resp); hit != (i == 1) {
					t.Fatalf("request %d: hit = %v (%v)", i, hit, resp.Header)
				}
			}
		})
	}
}
