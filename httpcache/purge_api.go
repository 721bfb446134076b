package httpcache

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/tiercache/tiercache"
	"github.com/tiercache/tiercache/internal/keyfmt"
)

// PurgeTag makes every entry stored with tag unusable at once, in every
// tier and in every process that shares the purge store (within the max
// age; see purge.go for the guarantee), by writing a new generation for
// tag: one Put, whatever the number of tagged entries. The entries stay in
// the tiers until they expire or are replaced. It needs WithPurge
// (ErrPurgeDisabled otherwise); an empty tag, or one holding a comma or
// white space, wraps tiercache.ErrInvalid; a failed write wraps ErrCache.
func (t *Transport) PurgeTag(ctx context.Context, tag string) error {
	if t.purge == nil {
		return ErrPurgeDisabled
	}
	if tag == "" || len(tag) > MaxTagLength || strings.ContainsAny(tag, ", \t") {
		return fmt.Errorf("%w: httpcache: purge tag %s", tiercache.ErrInvalid, keyfmt.Quote(tag))
	}
	return t.purge.purge(ctx, tagHash(tag))
}

// PurgeURL makes the entries of the GET responses to url (all its Vary
// variants) unusable: it deletes url's key through the Manager (every tier
// of this process's stack, the shared ones included) and, with WithPurge,
// moves the generation of url's bucket, which other processes' private
// tiers honour within the max age (see purge.go; the other URLs of the
// bucket, 1/1024 of the cache, are fetched again too). url must be
// absolute; it is keyed as a request for it would be (WithKeyFunc). An
// invalid url wraps tiercache.ErrInvalid, a failed Delete or write
// ErrCache.
func (t *Transport) PurgeURL(ctx context.Context, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil || req.URL.Scheme == "" || req.URL.Host == "" {
		return fmt.Errorf("%w: httpcache: purge URL %s: not an absolute URL", tiercache.ErrInvalid, keyfmt.Quote(url))
	}
	key := t.opts.key(req)
	var errs []error
	if err := t.m.Delete(ctx, key); err != nil {
		errs = append(errs, fmt.Errorf("%w: purge %s: %w", ErrCache, keyfmt.Quote(key), err))
	}
	if t.purge != nil {
		errs = append(errs, t.purge.purge(ctx, urlBucketHash(key)))
	}
	return errors.Join(errs...)
}

// Purger is what PurgeHandler purges through: *Transport and *Middleware.
type Purger interface {
	PurgeTag(ctx context.Context, tag string) error
	PurgeURL(ctx context.Context, url string) error
}

// PurgeHandler returns a handler for PURGE requests, in the manner of
// Varnish and Fastly:
//
//	PURGE /any/path                  purges the URL of the request target
//	PURGE /any/path                  with Surrogate-Key: a b (or Cache-Tag: a, b)
//	                                 purges the tags a and b instead
//
// The URL of an origin-form target is built from the request's Host, with
// scheme https when the request came over TLS (a Middleware purges both
// schemes). authorize decides who may purge; it is called for every PURGE
// request and nothing is purged unless it returns true (403 otherwise). A
// nil authorize refuses every request: there is no default that lets anyone
// purge. Other methods get 405; a purge that fails gets 400 (bad tag or
// URL), 501 (no WithPurge) or 500, with the error as text.
func PurgeHandler(p Purger, authorize func(r *http.Request) bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method != "PURGE":
			w.Header().Set("Allow", "PURGE")
			http.Error(w, "httpcache: only PURGE is allowed", http.StatusMethodNotAllowed)
			return
		case authorize == nil || !authorize(r):
			http.Error(w, "httpcache: purge not authorized", http.StatusForbidden)
			return
		}
		what, err := purgeRequest(r.Context(), p, r)
		if err != nil {
			http.Error(w, err.Error(), purgeErrorStatus(err))
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintf(w, "purged %s\n", what)
	})
}

// purgeRequest purges what the PURGE request r names and describes it.
func purgeRequest(ctx context.Context, p Purger, r *http.Request) (string, error) {
	var tags []string
	for _, name := range DefaultTagHeaders() {
		for _, line := range r.Header[name] {
			tags = append(tags, strings.FieldsFunc(line, func(c rune) bool { return c < 0x80 && isTagSeparator(byte(c)) })...)
		}
	}
	if len(tags) > 0 {
		for _, tag := range tags {
			if err := p.PurgeTag(ctx, tag); err != nil {
				return "", err
			}
		}
		return "tags " + strings.Join(tags, " "), nil
	}
	u := requestURL(r)
	return u, p.PurgeURL(ctx, u)
}

// requestURL returns the absolute URL of a server request's target.
func requestURL(r *http.Request) string {
	if r.URL.IsAbs() {
		return r.URL.String()
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + r.URL.RequestURI()
}

func purgeErrorStatus(err error) int {
	switch {
	case errors.Is(err, tiercache.ErrInvalid):
		return http.StatusBadRequest
	case errors.Is(err, ErrPurgeDisabled):
		return http.StatusNotImplemented
	}
	return http.StatusInternalServerError
}
