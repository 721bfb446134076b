package httpcache

import (
	"net/http"
	"slices"
	"testing"
)

func TestResponseHeaderCopy(t *testing.T) {
	src := http.Header{"A": {"1", "2"}, "B": {"3"}, "Age": {"99"}, "Cache-Status": {"up; hit"}, "N": nil}
	h := (&Transport{}).responseHeader(nil, src, "7", "tiercache; hit")
	if h.Get("Age") != "7" || !slices.Equal(h["Cache-Status"], []string{"up; hit", "tiercache; hit"}) {
		t.Fatalf("header %v", h)
	}
	if v, ok := h["N"]; !ok || v != nil {
		t.Fatalf("nil value not kept: %v", h)
	}
	h["A"] = append(h["A"], "x") // must not write into another field's values
	h["A"][0] = "y"
	if !slices.Equal(h["B"], []string{"3"}) || !slices.Equal(src["A"], []string{"1", "2"}) {
		t.Fatalf("copy shares values: %v / %v", h, src)
	}
	if h := (&Transport{}).responseHeader(nil, http.Header{"A": {"1"}}, "0", ""); len(h) != 2 || h["Cache-Status"] != nil {
		t.Fatalf("without Cache-Status: %v", h)
	}
}
