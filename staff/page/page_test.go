package page_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/trolyao/trolyao/staff/page"
)

func get(t *testing.T, h http.Handler, method, path string, header map[string]string) (*http.Response, string) {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	resp := rec.Result()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(body)
}

var assetRe = regexp.MustCompile(`(?:src|href)="(/staff/[^"]+)"`)

// The page and each asset it names are served with their type, caching and the security headers.
func TestHandler(t *testing.T) {
	h := page.Handler()
	resp, html := get(t, h, http.MethodGet, "/staff/", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "text/html; charset=utf-8", resp.Header.Get("Content-Type"))
	assert.Equal(t, "no-cache", resp.Header.Get("Cache-Control"))
	assert.Contains(t, html, "Quản trị cơ sở tri thức thủ tục")
	assert.Contains(t, html, `<html lang="vi">`)

	assets := assetRe.FindAllStringSubmatch(html, -1)
	require.Len(t, assets, 2, "one stylesheet and one script")
	types := map[string]string{".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}
	for _, m := range assets {
		path := m[1]
		assert.Regexp(t, `^/staff/app\.[0-9a-f]{12}\.(css|js)$`, path, "named by content hash")
		resp, body := get(t, h, http.MethodGet, path, nil)
		require.Equal(t, http.StatusOK, resp.StatusCode, path)
		assert.NotEmpty(t, body)
		assert.Equal(t, types[path[strings.LastIndex(path, "."):]], resp.Header.Get("Content-Type"), path)
		assert.Equal(t, "public, max-age=31536000, immutable", resp.Header.Get("Cache-Control"), path)
		etag := resp.Header.Get("ETag")
		require.NotEmpty(t, etag)
		resp, body = get(t, h, http.MethodGet, path, map[string]string{"If-None-Match": etag})
		assert.Equal(t, http.StatusNotModified, resp.StatusCode)
		assert.Empty(t, body)
	}

	for _, path := range []string{"/staff/", assets[0][1], "/staff/nope.js", "/staff/app.js"} {
		resp, _ := get(t, h, http.MethodGet, path, nil)
		csp := resp.Header.Get("Content-Security-Policy")
		assert.Contains(t, csp, "script-src 'self'", path)
		assert.Contains(t, csp, "style-src 'self'", path)
		assert.Contains(t, csp, "connect-src 'self'", path)
		assert.Contains(t, csp, "frame-ancestors 'none'", path)
		assert.Contains(t, csp, "default-src 'none'", path)
		assert.NotContains(t, csp, "unsafe", path)
		assert.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"), path)
		assert.Equal(t, "DENY", resp.Header.Get("X-Frame-Options"), path)
	}

	resp, _ = get(t, h, http.MethodGet, "/staff/app.js", nil)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode, "only the hashed names are served")
	resp, _ = get(t, h, http.MethodGet, "/staff/../go.mod", nil)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	resp, _ = get(t, h, http.MethodPost, "/staff/", nil)
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
	assert.Equal(t, "GET, HEAD", resp.Header.Get("Allow"))
	resp, body := get(t, h, http.MethodHead, "/staff/", nil)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Empty(t, body)
	assert.NotEmpty(t, resp.Header.Get("Content-Length"))
	resp, _ = get(t, h, http.MethodGet, "/staff", nil)
	assert.Equal(t, http.StatusMovedPermanently, resp.StatusCode)
	assert.Equal(t, "/staff/", resp.Header.Get("Location"))
}

// The page keeps to its CSP and never parses server data as HTML: no inline script, style or handlers in
// the document, and the script writes text only.
func TestAssetsPolicy(t *testing.T) {
	h := page.Handler()
	_, html := get(t, h, http.MethodGet, "/staff/", nil)
	assert.NotRegexp(t, `<script(?:\s[^>]*)?>\s*[^<\s]`, html, "no inline script")
	for _, tag := range regexp.MustCompile(`<script[^>]*>`).FindAllString(html, -1) {
		assert.Contains(t, tag, ` src="/staff/`, "every script comes from the page's own assets")
	}
	assert.NotContains(t, html, "<style")
	assert.NotRegexp(t, `\sstyle=`, html)
	assert.NotRegexp(t, `\son[a-z]+=`, html, "no inline event handlers")

	var js string
	for _, m := range assetRe.FindAllStringSubmatch(html, -1) {
		if strings.HasSuffix(m[1], ".js") {
			_, js = get(t, h, http.MethodGet, m[1], nil)
		}
	}
	require.NotEmpty(t, js)
	for _, sink := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"} {
		assert.NotContains(t, js, sink)
	}
	assert.Contains(t, js, `"X-CSRF-Token"`)
}
