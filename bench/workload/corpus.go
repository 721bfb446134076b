package workload

import (
	"math/rand/v2"
	"strconv"
)

// CorpusKind selects the style of generated text.
type CorpusKind uint8

// Corpus kinds.
const (
	HTML CorpusKind = iota // markup with classes, links and paragraphs
	JSON                   // an array of records with repeated field names
)

// Corpus returns n bytes of deterministic, compressible text in the given
// style, derived from seed. Bodies are slices of a corpus, so the text
// compresses about as well as real pages and API responses (zstd ~4-6x).
func Corpus(seed uint64, kind CorpusKind, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 0x636f72707573+uint64(kind))) // "corpus"
	words := vocabulary(r, 1500)
	b := make([]byte, 0, n+1024)
	for len(b) < n {
		if kind == JSON {
			b = appendRecord(b, r, words)
		} else {
			b = appendBlock(b, r, words)
		}
	}
	return b[:n:n]
}

// vocabulary returns n pseudo-words built from syllables; a Zipf-like pick
// from it (word) gives natural-looking repetition.
func vocabulary(r *rand.Rand, n int) []string {
	syl := []string{"ka", "to", "ri", "ne", "sa", "mo", "lu", "pe", "di", "an", "er", "in",
		"or", "ve", "ta", "con", "pro", "ment", "tion", "al", "ex", "st", "ch", "ou"}
	words := make([]string, n)
	for i := range words {
		w := ""
		for range 1 + r.IntN(4) {
			w += syl[r.IntN(len(syl))]
		}
		words[i] = w
	}
	return words
}

// word picks a word with a skew towards the first ones (squared uniform).
func word(r *rand.Rand, words []string) string {
	u := r.Float64()
	return words[int(u*u*float64(len(words)))]
}

func appendWords(b []byte, r *rand.Rand, words []string, n int) []byte {
	for i := range n {
		if i > 0 {
			b = append(b, ' ')
		}
		b = append(b, word(r, words)...)
	}
	return b
}

var htmlClasses = []string{"card", "nav-item", "product", "price", "title", "summary", "row", "col-md-4", "btn btn-primary", "meta"}

func appendBlock(b []byte, r *rand.Rand, words []string) []byte {
	class := htmlClasses[r.IntN(len(htmlClasses))]
	b = append(b, `<div class="`...)
	b = append(b, class...)
	b = append(b, "\">\n  <h3>"...)
	b = appendWords(b, r, words, 2+r.IntN(4))
	b = append(b, "</h3>\n  <p>"...)
	b = appendWords(b, r, words, 10+r.IntN(40))
	b = append(b, "</p>\n  <a href=\"/"...)
	b = append(b, word(r, words)...)
	b = append(b, '/')
	b = strconv.AppendInt(b, int64(r.IntN(100000)), 10)
	b = append(b, "\" class=\"link\">"...)
	b = appendWords(b, r, words, 1+r.IntN(3))
	b = append(b, "</a>\n</div>\n"...)
	return b
}

func appendRecord(b []byte, r *rand.Rand, words []string) []byte {
	b = append(b, `{"id":`...)
	b = strconv.AppendInt(b, int64(r.IntN(10_000_000)), 10)
	b = append(b, `,"name":"`...)
	b = appendWords(b, r, words, 1+r.IntN(3))
	b = append(b, `","price":`...)
	b = strconv.AppendFloat(b, float64(r.IntN(100000))/100, 'f', 2, 64)
	b = append(b, `,"active":`...)
	b = strconv.AppendBool(b, r.IntN(4) != 0)
	b = append(b, `,"tags":["`...)
	b = append(b, word(r, words)...)
	b = append(b, `","`...)
	b = append(b, word(r, words)...)
	b = append(b, `"],"description":"`...)
	b = appendWords(b, r, words, 5+r.IntN(20))
	b = append(b, "\"},\n"...)
	return b
}
