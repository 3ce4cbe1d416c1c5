package web_test

import (
	"context"
	"fmt"
	"html/template"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/trolyao/trolyao/channels/web"
	"github.com/trolyao/trolyao/channels/web/widget"
	"github.com/trolyao/trolyao/internal/browsertest"
)

// hostileCSS is a portal stylesheet that tries to restyle everything, !important included.
const hostileCSS = `* {font-size:30px !important; color:red}
* {font-family:Georgia, serif; line-height:3 !important; letter-spacing:2px !important; --tl-fg:#0a3; --tl-primary:#0a3}
div, section, button, p {display:block !important; padding:20px !important}`

// portalPage is a page of a portal on another origin that embeds the widget of the chat server, under a strict
// Content-Security-Policy (no 'unsafe-inline', no 'unsafe-eval'). Its first script records every CSP
// violation in window.__csp. Query parameters: hostile adds hostileCSS; nocss removes constructable
// stylesheets before the widget loads (as in Safari before 16.4); probe adds an inline style attribute the
// CSP must report (so that the count is known to work).
var portalPage = template.Must(template.New("portal").Parse(`<!doctype html>
<html lang="vi"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Cổng thông tin phường Bàn Cờ</title>
<script src="/csp-probe.js"></script>
{{if .NoCSS}}<script src="/no-adopted.js"></script>{{end}}
{{if .Hostile}}<link rel="stylesheet" href="/hostile.css">{{end}}
</head><body><main><h1>Cổng thông tin phường Bàn Cờ</h1><p>Thông báo lịch tiếp công dân.</p>
{{if .Probe}}<p style="color:blue">Kiểm tra CSP</p>{{end}}</main>
<script src="{{.Chat}}/widget.js" defer data-persist="memory"></script>
</body></html>`))

// newPortal serves portalPage for the chat server at chat.
func newPortal(t *testing.T, chat string) *httptest.Server {
	t.Helper()
	u, err := url.Parse(chat)
	require.NoError(t, err)
	csp := fmt.Sprintf("default-src 'none'; script-src 'self' %[1]s; style-src 'self' %[1]s; connect-src ws://%[2]s; "+
		"img-src 'self'; base-uri 'none'; form-action 'none'", chat, u.Host)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", csp)
		_ = portalPage.Execute(w, map[string]any{"Chat": chat, "Hostile": q.Has("hostile"), "NoCSS": q.Has("nocss"), "Probe": q.Has("probe")})
	})
	files := map[string]string{
		"/csp-probe.js": `window.__csp = []; document.addEventListener("securitypolicyviolation", function (e) {
			window.__csp.push(e.violatedDirective + " " + e.blockedURI); });`,
		"/no-adopted.js": `delete ShadowRoot.prototype.adoptedStyleSheets; delete Document.prototype.adoptedStyleSheets;`,
		"/hostile.css":   hostileCSS,
	}
	for p, body := range files {
		mux.HandleFunc("GET "+p, func(w http.ResponseWriter, r *http.Request) {
			ct := "text/javascript"
			if strings.HasSuffix(p, ".css") {
				ct = "text/css"
			}
			w.Header().Set("Content-Type", ct)
			_, _ = w.Write([]byte(body))
		})
	}
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	return ts
}

// widgetLook is the computed font and colour of the widget's parts, and whether "Gửi" fits its button.
const widgetLook = `(() => { const r = ` + widgetRoot + `;
	const parts = ['.bubble', '.head h2', '.status', '.msg.user .text', '.msg.assistant .text', '.msg.assistant li', '#tl-input', '.send', '.contact', '.footnote'];
	const out = parts.map(sel => { const e = r.querySelector(sel); if (!e) return sel + ': missing';
		const s = getComputedStyle(e); return [sel, s.fontSize, s.color, s.fontFamily, s.lineHeight, s.letterSpacing, s.paddingTop].join(' | '); });
	const send = r.querySelector('.send');
	out.push('send fits: ' + (send.scrollWidth <= send.clientWidth));
	return out; })()`

// The widget embedded by a portal on another origin, as a real portal embeds it: under a strict CSP it makes no
// violation, a hostile page stylesheet changes nothing of its look, with constructable stylesheets or without,
// and a question is answered; the same page on an origin the server does not allow is told so within 10 s.
func TestWidgetEmbedded(t *testing.T) {
	// The chat server allows the portal's origin, known once the portal listens: the portal's handler is
	// set after.
	portalMux := &lateMux{}
	allowed := httptest.NewServer(portalMux)
	t.Cleanup(allowed.Close)
	chat, _ := newChatHandler(t, web.Config{MessageRate: 50, MessageBurst: 50, AllowedOrigins: []string{allowed.URL}})
	chatSrv := widgetServer(t, chat, widget.Options{})
	portalMux.h = newPortal(t, chatSrv.URL).Config.Handler
	refused := newPortal(t, chatSrv.URL)

	for _, vp := range []struct {
		name          string
		width, height int
	}{{"phone", 390, 844}, {"desktop", 1280, 800}} {
		t.Run(vp.name, func(t *testing.T) {
			ctx := browsertest.New(t, vp.width, vp.height, 3*time.Minute)
			look := func(query string) []string {
				t.Helper()
				widgetDo(t, ctx, chromedp.Navigate(allowed.URL+"/"+query))
				widgetOpen(t, ctx)
				widgetAsk(t, ctx, "làm lại căn cước cần gì", 1)
				assert.Contains(t, widgetEval[string](t, ctx, widgetRoot+`.querySelector('.msg.assistant .text').textContent`), "1.014064",
					"answered on %s", query)
				assert.Empty(t, widgetEval[[]string](t, ctx, `window.__csp`), "no CSP violation on %s", query)
				return widgetEval[[]string](t, ctx, widgetLook)
			}
			plain := look("")
			assert.Contains(t, plain, ".msg.assistant .text | 15px | rgb(31, 41, 51) | system-ui, -apple-system, \"Segoe UI\", Roboto, \"Noto Sans\", Arial, sans-serif | 21.75px | normal | 0px")
			assert.Contains(t, plain, "send fits: true")
			browsertest.AxeSerious(t, ctx, "the portal page with the widget and an answer ("+vp.name+")")
			assert.Equal(t, plain, look("?hostile"), "the hostile stylesheet changes nothing in the widget")
			assert.Equal(t, "30px", widgetEval[string](t, ctx, `getComputedStyle(document.querySelector('h1')).fontSize`),
				"while it does restyle the page")
			browsertest.Screenshot(t, ctx, "widget-embedded-hostile-"+vp.name)
			assert.Equal(t, plain, look("?hostile&nocss"), "without constructable stylesheets: the linked stylesheet")
			assert.Equal(t, "link", widgetEval[string](t, ctx, `document.getElementById('trolyao-widget').dataset.styles`))

			// The violation count works: an inline style attribute is reported.
			widgetDo(t, ctx, chromedp.Navigate(allowed.URL+"/?probe"))
			widgetWait(t, ctx, "the probe's violation", `window.__csp && window.__csp.length > 0`)

			// On an origin the server does not allow: the refusal is shown within 10 s and the question fails.
			widgetDo(t, ctx, chromedp.Navigate(refused.URL+"/?hostile"))
			widgetWait(t, ctx, "the widget", `document.getElementById('trolyao-widget')`)
			start := time.Now()
			widgetDo(t, ctx, chromedp.Click(widgetQ(".bubble")))
			widgetDo(t, ctx, chromedp.SendKeys(widgetQ("#tl-input"), "làm lại căn cước cần gì\r"))
			widgetWaitFor(t, ctx, 10*time.Second, "the refusal", `document.getElementById('trolyao-widget').dataset.connection === 'refused' && `+
				widgetRoot+`.querySelector('.msg.user[data-state="failed"]')`)
			t.Logf("refusal shown after %v", time.Since(start).Round(time.Millisecond))
			notice := widgetEval[string](t, ctx, widgetRoot+`.querySelector('.notice').textContent`)
			assert.Contains(t, notice, "Trang web này chưa được phép sử dụng trợ lý ảo.", "the server's reason")
			assert.Contains(t, notice, "1022")
			assert.Empty(t, widgetEval[[]string](t, ctx, `window.__csp`))
			browsertest.AxeSerious(t, ctx, "the refused widget on a portal ("+vp.name+")")
		})
	}
}

// lateMux is a handler set after its server has started.
type lateMux struct{ h http.Handler }

func (l *lateMux) ServeHTTP(w http.ResponseWriter, r *http.Request) { l.h.ServeHTTP(w, r) }

// widgetWaitFor polls a JavaScript predicate until it is truthy, for at most d.
func widgetWaitFor(t *testing.T, ctx context.Context, d time.Duration, what, expr string) {
	t.Helper()
	_, err := chromedp.Run(ctx, chromedp.Poll[bool]("!!("+expr+")",
		chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(d)))
	require.NoError(t, err, "waiting %v for %s: %s", d, what, expr)
}
