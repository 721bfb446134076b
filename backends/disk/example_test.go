package disk_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/backends/disk"
)

func Example() {
	dir, err := os.MkdirTemp("", "tiercache-disk-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	m, err := disk.New(disk.Config{Dir: dir, MaxBytes: 64 << 20})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()

	ctx := context.Background()
	resp := &tiercache.Response{
		Status: http.StatusOK,
		Header: http.Header{"Content-Type": {"text/plain"}},
		Body:   []byte("hello from disk"),
		URL:    "https://example.com/hello",
	}
	if _, err := m.Put(ctx, "GET https://example.com/hello", resp, tiercache.NewTTLPolicy(time.Hour)); err != nil {
		log.Fatal(err)
	}
	got, pol, err := m.Get(ctx, "GET https://example.com/hello")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(got.Status, string(got.Body), pol.TTL(time.Now()) > 59*time.Minute)
	fmt.Println("entries:", m.Stats().Entries)
	// Output:
	// 200 hello from disk true
	// entries: 1
}
