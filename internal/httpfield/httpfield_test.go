package httpfield

import (
	"slices"
	"strings"
	"testing"
)

func TestElements(t *testing.T) {
	tests := []struct {
		lines []string
		want  []string
	}{
		{nil, nil},
		{[]string{""}, nil},
		{[]string{" , ,"}, nil},
		{[]string{"a, b", "c"}, []string{"a", "b", "c"}},
		{[]string{`no-cache="a, b", max-age=5`}, []string{`no-cache="a, b"`, "max-age=5"}},
		{[]string{`"x,y", W/"z"`}, []string{`"x,y"`, `W/"z"`}},
		{[]string{`a="q\", r", b`}, []string{`a="q\", r"`, "b"}},
		{[]string{`foo="unterminated, bar`, "baz"}, []string{`foo="unterminated, bar`, "baz"}},
		{[]string{"\tgzip ,\tbr\t"}, []string{"gzip", "br"}},
	}
	for _, tc := range tests {
		got := slices.Collect(Elements(tc.lines))
		if !slices.Equal(got, tc.want) {
			t.Errorf("Elements(%q) = %q, want %q", tc.lines, got, tc.want)
		}
	}
	// Stopping early is honoured.
	for range Elements([]string{"a, b"}) {
		break
	}
}

func TestFirstAndHasToken(t *testing.T) {
	if got := First([]string{" , 7200, 0", "5"}); got != "7200" {
		t.Errorf("First = %q", got)
	}
	if got := First(nil); got != "" {
		t.Errorf("First(nil) = %q", got)
	}
	if !HasToken([]string{"x", "No-Cache"}, "no-cache") || HasToken([]string{`a="no-cache"`}, "no-cache") {
		t.Error("HasToken")
	}
}

func TestNormalize(t *testing.T) {
	tests := []struct {
		lines []string
		want  string
	}{
		{nil, ""},
		{[]string{" gzip "}, "gzip"},
		{[]string{"gzip,  br"}, "gzip,br"},
		{[]string{"gzip", "br"}, "gzip,br"},
		{[]string{"gzip, , br,"}, "gzip,br"},
	}
	for _, tc := range tests {
		if got := Normalize(tc.lines); got != tc.want {
			t.Errorf("Normalize(%q) = %q, want %q", tc.lines, got, tc.want)
		}
		if !EqualNormalized(tc.lines, tc.want) {
			t.Errorf("EqualNormalized(%q, %q) = false", tc.lines, tc.want)
		}
	}
	for _, tc := range []struct {
		lines []string
		norm  string
	}{
		{[]string{"gzip"}, "gzip,br"}, {[]string{"gzip", "br"}, "gzip"}, {[]string{"gz"}, "gzip"},
		{[]string{"gzip"}, "gzip,"}, {nil, "x"}, {[]string{"br,gzip"}, "gzip,br"},
	} {
		if EqualNormalized(tc.lines, tc.norm) {
			t.Errorf("EqualNormalized(%q, %q) = true", tc.lines, tc.norm)
		}
	}
	if n := testing.AllocsPerRun(100, func() { EqualNormalized([]string{"gzip, br"}, "gzip,br") }); n != 0 {
		t.Errorf("EqualNormalized allocates %v times", n)
	}
}

func TestFieldNames(t *testing.T) {
	names, star := FieldNames([]string{"accept-encoding, X-Y", "Accept-Encoding"})
	if !slices.Equal(names, []string{"Accept-Encoding", "X-Y"}) || star {
		t.Errorf("FieldNames = %q, %v", names, star)
	}
	if names, star := FieldNames([]string{"a, *"}); !star || len(names) != 1 {
		t.Errorf("star: %q %v", names, star)
	}
}

func TestDirectives(t *testing.T) {
	got := slices.Collect(Directives([]string{`Max-Age=60, no-cache="Set-Cookie, X", =5`, `private, ext="a\"b"`, `s-maxage="7`}))
	want := []Directive{
		{Name: "max-age", Value: "60", HasValue: true},
		{Name: "no-cache", Value: "Set-Cookie, X", HasValue: true},
		{Name: "private"},
		{Name: "ext", Value: `a"b`, HasValue: true},
		{Name: "s-maxage", Value: "7", HasValue: true},
	}
	if !slices.Equal(got, want) {
		t.Errorf("Directives = %+v\nwant %+v", got, want)
	}
}

func TestDeltaSeconds(t *testing.T) {
	tests := []struct {
		v    string
		want int64
		ok   bool
	}{
		{"0", 0, true}, {"60", 60, true}, {"2147483648", MaxDeltaSeconds, true},
		{"99999999999999999999999", MaxDeltaSeconds, true},
		{"", 0, false}, {"-1", 0, false}, {"+1", 0, false}, {"1.5", 0, false}, {"abc", 0, false}, {" 1", 0, false},
	}
	for _, tc := range tests {
		if got, ok := DeltaSeconds(tc.v); got != tc.want || ok != tc.ok {
			t.Errorf("DeltaSeconds(%q) = %d, %v; want %d, %v", tc.v, got, ok, tc.want, tc.ok)
		}
	}
}

func TestSingleRange(t *testing.T) {
	tests := []struct {
		v         string
		size      int64
		first, n  int64
		satisfied bool
	}{
		{"bytes=0-4", 10, 0, 5, true},
		{"bytes=5-", 10, 5, 5, true},
		{"bytes=-3", 10, 7, 3, true},
		{"bytes=-30", 10, 0, 10, true},
		{"bytes=8-100", 10, 8, 2, true},
		{"Bytes = 2-2", 10, 2, 1, true},
		{"bytes=10-", 10, 0, 0, false},     // unsatisfiable
		{"bytes=-0", 10, 0, 0, false},      // unsatisfiable
		{"bytes=5-4", 10, 0, 0, false},     // invalid
		{"bytes=0-1,3-4", 10, 0, 0, false}, // several
		{"bytes=0-1, ", 10, 0, 1 + 1, true},
		{"items=0-1", 10, 0, 0, false},
		{"bytes=a-b", 10, 0, 0, false},
		{"bytes=0-1", 0, 0, 0, false},
		{"bytes 0-1", 10, 0, 0, false},
		{"bytes=99999999999999999999-", 10, 0, 0, false},
		{"bytes=0-99999999999999999999", 10, 0, 10, true},
	}
	for _, tc := range tests {
		first, n, ok := SingleRange(tc.v, tc.size)
		if ok != tc.satisfied || ok && (first != tc.first || n != tc.n) {
			t.Errorf("SingleRange(%q, %d) = %d, %d, %v; want %d, %d, %v", tc.v, tc.size, first, n, ok, tc.first, tc.n, tc.satisfied)
		}
	}
}

func FuzzSingleRange(f *testing.F) {
	for _, s := range []string{"bytes=0-4", "bytes=-3", "bytes=5-", "bytes=1-2,3-4", `bytes="0-1"`} {
		f.Add(s, int64(10))
	}
	f.Fuzz(func(t *testing.T, v string, size int64) {
		first, n, ok := SingleRange(v, size)
		if ok && (first < 0 || n <= 0 || first+n > size) {
			t.Fatalf("SingleRange(%q, %d) = %d, %d outside the representation", v, size, first, n)
		}
	})
}

func FuzzElements(f *testing.F) {
	f.Add(`a, "b,c", d="e\"f", g`)
	f.Fuzz(func(t *testing.T, line string) {
		for e := range Elements([]string{line}) {
			if e == "" || e != strings.TrimSpace(e) && strings.ContainsAny(e[:1]+e[len(e)-1:], " \t") {
				t.Fatalf("element %q is empty or untrimmed", e)
			}
		}
		Normalize([]string{line})
		for range Directives([]string{line}) {
		}
	})
}
