package widget_test

import (
	"compress/gzip"
	"image"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/trolyao/trolyao/channels/web/widget"
)

// handler is widget.Handler(opts) of a valid configuration.
func handler(t testing.TB, opts widget.Options) http.Handler {
	t.Helper()
	h, err := widget.Handler(opts)
	require.NoError(t, err)
	return h
}

func mount(h http.Handler) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("GET /{$}", h)
	mux.Handle("GET /widget.js", h)
	mux.Handle("GET /widget/", h)
	mux.Handle("GET /favicon.ico", h)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "chat server", http.StatusTeapot) })
	return mux
}

func get(t *testing.T, h http.Handler, target string, header ...string) (*http.Response, string) {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	resp := w.Result()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(b)
}

func TestHandlerAssets(t *testing.T) {
	h := mount(handler(t, widget.Options{}))
	cases := []struct {
		path, contentType, cache, contains string
	}{
		{"/widget.js", "text/javascript; charset=utf-8", "public, max-age=300", `"linkDomains":["dichvucong.gov.vn","hochiminhcity.gov.vn"]`},
		{"/widget/demo.css", "text/css; charset=utf-8", "public, max-age=300", ".hero"},
		{"/widget/widget.css", "text/css; charset=utf-8", "public, max-age=300", ":host { all: initial !important; }"},
		{"/favicon.ico", "image/x-icon", "public, max-age=86400", "\x00\x00\x01\x00\x01\x00\x20\x20"},
		{"/", "text/html; charset=utf-8", "no-cache", `<script src="/widget.js" defer data-persist="local" data-position="right" data-open="false"></script>`},
	}
	for _, c := range cases {
		t.Run(c.path, func(t *testing.T) {
			resp, body := get(t, h, c.path)
			require.Equal(t, http.StatusOK, resp.StatusCode)
			assert.Equal(t, c.contentType, resp.Header.Get("Content-Type"))
			assert.Equal(t, c.cache, resp.Header.Get("Cache-Control"))
			assert.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
			assert.Contains(t, body, c.contains)
			etag := resp.Header.Get("ETag")
			require.Regexp(t, `^"[0-9a-f]{24}"$`, etag)

			again, body := get(t, h, c.path, "If-None-Match", etag)
			assert.Equal(t, http.StatusNotModified, again.StatusCode)
			assert.Empty(t, body)
			changed, _ := get(t, h, c.path, "If-None-Match", `"0000"`)
			assert.Equal(t, http.StatusOK, changed.StatusCode)
		})
	}

	resp, body := get(t, h, "/favicon.ico")
	img, err := png.Decode(strings.NewReader(body[22:]))
	require.NoError(t, err, "the icon holds a PNG after its 22-byte header")
	assert.Equal(t, image.Rect(0, 0, 32, 32), img.Bounds())
	resp, _ = get(t, h, "/widget/widget.css")
	assert.Equal(t, "cross-origin", resp.Header.Get("Cross-Origin-Resource-Policy"), "the stylesheet fallback loads from other origins")
	_, js := get(t, h, "/widget.js")
	assert.Contains(t, js, `"cssPath":"/widget/widget.css?v=`)

	resp, _ = get(t, h, "/widget.js")
	assert.Equal(t, "cross-origin", resp.Header.Get("Cross-Origin-Resource-Policy"), "pages of other origins embed it")
	assert.Empty(t, resp.Header.Get("Content-Security-Policy"))

	resp, body = get(t, h, "/")
	csp := resp.Header.Get("Content-Security-Policy")
	for _, d := range []string{"default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "frame-ancestors 'none'", "base-uri 'none'"} {
		assert.Contains(t, csp, d)
	}
	assert.NotContains(t, csp, "unsafe-inline")
	assert.NotContains(t, body, "<script>", "the demo page has no inline script")
	assert.NotContains(t, body, "style=", "nor inline styles")
	assert.Contains(t, body, `lang="vi"`)

	resp, _ = get(t, h, "/widget/nope.js")
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	resp, _ = get(t, h, "/widget/")
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	resp, _ = get(t, h, "/ws")
	assert.Equal(t, http.StatusTeapot, resp.StatusCode, "other paths stay with the chat server")
}

func TestGzip(t *testing.T) {
	h := mount(handler(t, widget.Options{}))
	plain, body := get(t, h, "/widget.js")
	for _, ae := range []string{"gzip", "br, gzip, deflate", "gzip;q=0.5", "GZIP"} {
		resp, gz := get(t, h, "/widget.js", "Accept-Encoding", ae)
		require.Equal(t, "gzip", resp.Header.Get("Content-Encoding"), ae)
		assert.Equal(t, "Accept-Encoding", resp.Header.Get("Vary"))
		assert.Less(t, len(gz), len(body)/2, "compressed")
		zr, err := gzip.NewReader(strings.NewReader(gz))
		require.NoError(t, err)
		b, err := io.ReadAll(zr)
		require.NoError(t, err)
		assert.Equal(t, body, string(b))
		etag := resp.Header.Get("ETag")
		assert.NotEqual(t, plain.Header.Get("ETag"), etag, "each form has its own ETag")
		again, _ := get(t, h, "/widget.js", "Accept-Encoding", ae, "If-None-Match", etag)
		assert.Equal(t, http.StatusNotModified, again.StatusCode)
	}
	for _, ae := range []string{"", "br", "gzip;q=0", "x-gzip2"} {
		resp, _ := get(t, h, "/widget.js", "Accept-Encoding", ae)
		assert.Empty(t, resp.Header.Get("Content-Encoding"), ae)
	}
}

func TestDemoPageParams(t *testing.T) {
	h := mount(handler(t, widget.Options{}))
	resp, body := get(t, h, "/?persist=memory&position=left&open=true")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, body, `data-persist="memory" data-position="left" data-open="true"`)
	etag := resp.Header.Get("ETag")
	resp, _ = get(t, h, "/")
	assert.NotEqual(t, etag, resp.Header.Get("ETag"), "each variant has its own ETag")

	for _, q := range []string{"?persist=cookie", "?position=%22%3E%3Cscript%3E", "?open=yes"} {
		resp, body := get(t, h, "/"+q)
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode, q)
		assert.Contains(t, body, "Tham số không hợp lệ", q)
		assert.NotContains(t, body, "<script>", q)
	}
}

func TestOptions(t *testing.T) {
	h := handler(t, widget.Options{
		LinkDomains: []string{"dichvucong.hochiminhcity.gov.vn"},
		Title:       `Hỏi đáp </script><script>alert(1)</script>`,
	})
	_, body := get(t, mount(h), "/widget.js")
	assert.Contains(t, body, `"linkDomains":["dichvucong.hochiminhcity.gov.vn"]`)
	assert.Contains(t, body, `"title":"Hỏi đáp \u003c/script\u003e\u003cscript\u003ealert(1)\u003c/script\u003e"`,
		"the title cannot close the script")
	assert.NotContains(t, body, "/*CONFIG*/")

	_, body = get(t, mount(handler(t, widget.Options{})), "/widget.js")
	assert.Contains(t, body, `"title":"`+widget.DefaultTitle+`"`)
	assert.Contains(t, body, `"starters":["`+widget.DefaultStarters[0]+`"`)
	assert.Contains(t, body, `"hotline":"1022"`)
	_, body = get(t, mount(handler(t, widget.Options{Starters: []string{"Cấp phiếu lý lịch tư pháp"}})), "/widget.js")
	assert.Contains(t, body, `"starters":["Cấp phiếu lý lịch tư pháp"]`)

	for _, o := range []widget.Options{
		{LinkDomains: []string{"https://dichvucong.gov.vn"}},
		{LinkDomains: []string{"gov"}},
		{LinkDomains: []string{"DichVuCong.gov.vn"}},
		{Title: strings.Repeat("a", widget.MaxTitle+1)},
		{Starters: []string{strings.Repeat("á", widget.MaxStarter+1)}},
		{Starters: make([]string, widget.MaxStarters+1)},
	} {
		var h http.Handler
		var err error
		require.NotPanics(t, func() { h, err = widget.Handler(o) }, "%+v", o)
		assert.Error(t, err, "%+v", o)
		assert.Nil(t, h, "%+v", o)
	}
}

// The script offers the starter questions in force at each request: staff's once set, then the configured ones
// again after a reset; its ETag changes with them, so a browser revalidating gets the new questions.
func TestLiveStarters(t *testing.T) {
	configured := []string{"Cấp phiếu lý lịch tư pháp"}
	live, err := widget.NewLiveStarters(configured)
	require.NoError(t, err)
	assert.Equal(t, configured, live.Default())
	assert.Equal(t, configured, live.Questions())
	h := mount(handler(t, widget.Options{Starters: []string{"ignored when Live is set"}, Live: live}))
	res, body := get(t, h, "/widget.js")
	assert.Contains(t, body, `"starters":["Cấp phiếu lý lịch tư pháp"]`)
	etag := res.Header.Get("ETag")
	res, _ = get(t, h, "/widget.js", "If-None-Match", etag)
	assert.Equal(t, http.StatusNotModified, res.StatusCode)

	staffSet := []string{"Đăng ký khai sinh cho con", "Phường cũ của tôi nay là phường nào?"}
	require.NoError(t, live.SetStaff(staffSet))
	staffSet[0] = "changed by the caller afterwards"
	assert.Equal(t, []string{"Đăng ký khai sinh cho con", "Phường cũ của tôi nay là phường nào?"}, live.Questions())
	res, body = get(t, h, "/widget.js", "If-None-Match", etag)
	require.Equal(t, http.StatusOK, res.StatusCode, "the script changed")
	assert.Contains(t, body, `"starters":["Đăng ký khai sinh cho con","Phường cũ của tôi nay là phường nào?"]`)
	assert.NotEqual(t, etag, res.Header.Get("ETag"))
	assert.Equal(t, configured, live.Default(), "the default stays")

	for _, bad := range [][]string{make([]string, widget.MaxStarters+1), {strings.Repeat("á", widget.MaxStarter+1)}, {" "}} {
		assert.Error(t, live.SetStaff(bad))
	}
	_, body = get(t, h, "/widget.js")
	assert.Contains(t, body, `"starters":["Đăng ký khai sinh cho con",`, "a refused list changes nothing")

	require.NoError(t, live.SetStaff(nil))
	res, body = get(t, h, "/widget.js")
	assert.Contains(t, body, `"starters":["Cấp phiếu lý lịch tư pháp"]`, "back to the configured ones")
	assert.Equal(t, etag, res.Header.Get("ETag"))

	def, err := widget.NewLiveStarters(nil)
	require.NoError(t, err)
	assert.Equal(t, widget.DefaultStarters, def.Questions())
	_, err = widget.NewLiveStarters(make([]string, widget.MaxStarters+1))
	assert.Error(t, err)
}

func TestParseLinkDomains(t *testing.T) {
	cases := []struct {
		in   string
		want []string
		err  string
	}{
		{"", nil, ""},
		{"dichvucong.gov.vn", []string{"dichvucong.gov.vn"}, ""},
		{" DichVuCong.gov.vn , hochiminhcity.gov.vn,", []string{"dichvucong.gov.vn", "hochiminhcity.gov.vn"}, ""},
		{"xn--dchvcng-p0a.gov.vn", []string{"xn--dchvcng-p0a.gov.vn"}, ""},
		{"https://dichvucong.gov.vn", nil, "want a lower-case host name"},
		{"dichvucong.gov.vn/path", nil, "want a lower-case host name"},
		{"localhost", nil, "want a host name"},
		{".gov.vn", nil, "want a host name"},
		{"a..gov.vn", nil, "want a host name"},
		{"*.gov.vn", nil, "want a lower-case host name"},
		{strings.Repeat("a.", 51) + "vn", nil, ""},
		{strings.Repeat("x.vn,", widget.MaxLinkDomains+1), nil, "at most"},
	}
	for _, c := range cases {
		got, err := widget.ParseLinkDomains(c.in)
		if c.err != "" {
			assert.ErrorContains(t, err, c.err, c.in)
			continue
		}
		require.NoError(t, err, c.in)
		if c.want != nil {
			assert.Equal(t, c.want, got, c.in)
		}
	}
}

func TestParseStarters(t *testing.T) {
	got, err := widget.ParseStarters(" Làm lại căn cước? | | Đăng ký khai sinh |")
	require.NoError(t, err)
	assert.Equal(t, []string{"Làm lại căn cước?", "Đăng ký khai sinh"}, got)
	got, err = widget.ParseStarters("")
	require.NoError(t, err)
	assert.Nil(t, got, "empty: the defaults")
	_, err = widget.ParseStarters(strings.Repeat("a|", widget.MaxStarters+1))
	assert.ErrorContains(t, err, "at most 8")
	_, err = widget.ParseStarters(strings.Repeat("á", widget.MaxStarter+1))
	assert.ErrorContains(t, err, "1 to 100 characters")
	_, err = widget.ParseStarters(strings.Repeat("á", widget.MaxStarter))
	assert.NoError(t, err)
}
