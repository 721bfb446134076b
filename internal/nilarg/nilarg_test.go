package nilarg

import (
	"fmt"
	"io"
	"strings"
	"testing"
)

type ptr struct{}

func (*ptr) Read([]byte) (int, error) { return 0, io.EOF }

type fn func([]byte) (int, error)

func (f fn) Read(b []byte) (int, error) { return f(b) }

type slice []byte

func (slice) Read([]byte) (int, error) { return 0, io.EOF }

func TestCheck(t *testing.T) {
	tests := []struct {
		name string
		v    io.Reader
		want string // panic message, "" for none
	}{
		{"plain nil", nil, "pkg: F: r is nil"},
		{"nil pointer", (*ptr)(nil), "pkg: F: r is a nil *nilarg.ptr"},
		{"nil func", fn(nil), "pkg: F: r is a nil nilarg.fn"},
		{"pointer", &ptr{}, ""},
		{"nil slice is usable", slice(nil), ""},
		{"value", strings.NewReader(""), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := func() (msg string) {
				defer func() {
					if v := recover(); v != nil {
						msg = fmt.Sprint(v)
					}
				}()
				Check("pkg: F", "r", tc.v)
				return ""
			}()
			if got != tc.want {
				t.Fatalf("Check panic = %q, want %q", got, tc.want)
			}
		})
	}
}
