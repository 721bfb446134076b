package httpcache

import (
	"log/slog"
	"net/http"
)

// logOriginError logs an origin failure answered with a stale response
// (stale-if-error): the origin's status code, or err when it gave none.
func (t *Transport) logOriginError(c *call, code int, err error) {
	if c.background || t.log == nil {
		return
	}
	t.log.Warn("stale-if-error "+c.req.URL.Host, "httpcache: origin failed, serving a stale response",
		originAttrs(c.req, code, err)...)
}

// logRefreshError logs a failed background revalidation.
func (t *Transport) logRefreshError(c *call, resp *http.Response, err error) {
	if t.log == nil {
		return
	}
	code := int(c.failedCode)
	if code == 0 && !c.failed && resp != nil {
		code = resp.StatusCode
	}
	t.log.Warn("refresh "+c.req.URL.Host, "httpcache: background revalidation failed",
		originAttrs(c.req, code, err)...)
}

func originAttrs(req *http.Request, code int, err error) []any {
	args := []any{slog.String("url", storedURL(req))}
	if code != 0 {
		args = append(args, slog.Int("status", code))
	}
	if err != nil {
		args = append(args, slog.Any("err", err))
	}
	return args
}
