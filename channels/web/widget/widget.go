// Package widget serves the embeddable chat widget of the web channel: the single script a portal page embeds
// (GET /widget.js), its other assets (GET /widget/…), and a demo page in the style of the Ho Chi Minh City
// public-service portal (GET /{$}). The widget talks to the chat server of package web over the websocket of
// the chat protocol v1 (docs/protocol.md); this package serves static files only. It imports the standard
// library only.
//
// # Embedding
//
// One script tag, anywhere in the page:
//
//	<script src="https://trolyao.example.gov.vn/widget.js" defer
//	        data-persist="local" data-position="right"></script>
//
// The script adds a floating bubble at a bottom corner; tapping it opens the chat panel (full screen on
// screens up to 480 px wide). The widget lives in the Shadow DOM of its own custom element <trolyao-widget>,
// whose stylesheet resets the host (:host { all: initial !important }) and sets font and colours inside, so
// the page's styles and the widget's do not affect each other. Its attributes, all optional:
//
//   - data-server: the chat server's origin (https://host[:port]); default the origin the script was loaded
//     from. The page's origin must be in the server's allowed origins (web.Config.AllowedOrigins).
//   - data-persist: where the conversation survives a reload. "local" (default): localStorage — the
//     conversation id and a copy of the visible messages, restored on the next visit; "session":
//     sessionStorage, forgotten when the tab closes; "memory": nothing is written to any storage (shared
//     kiosks, public computers) — a reload starts a new conversation.
//   - data-title: the panel's title (at most 80 characters); default Options.Title.
//   - data-position: "right" (default) or "left": the bottom corner of the bubble.
//   - data-open: "true" opens the panel when the page loads.
//
// A new conversation offers starter questions (those staff set, else Options.Starters, else questions about
// the procedures most asked recently, else DefaultStarters — see LiveStarters), which the script carries and
// the websocket's hello frame brings up to date; the header's "+" starts a new conversation; a 👎 asks for its reason (chips,
// sent with the feedback); the question box grows and shows a character counter near the limit, refusing a
// longer question visibly rather than cutting it; a new answer is shown from its start; a contact line names
// the city's hotline (Hotline). A failed question offers "Gửi lại" (send again), and so do the questions
// waiting after three failed connection attempts; a websocket closed with 1008 before the hello frame (the
// server refuses the page's origin) ends the attempts with the server's reason and an explanation. The page may open and close the panel itself with
// window.__trolyaoWidget.open() and .close().
//
// The page's Content-Security-Policy must allow the script (script-src) and the websocket (connect-src
// wss://host) of the chat server; the widget needs no inline script or style attribute. Browsers without
// constructable stylesheets get the stylesheet by a link to GET /widget/widget.css, which style-src must then
// allow too.
//
// # Mounting
//
//	h, err := widget.Handler(widget.Options{})
//	if err != nil {
//		return err // a configuration error
//	}
//	mux.Handle("GET /{$}", h)      // the demo page
//	mux.Handle("GET /widget.js", h)
//	mux.Handle("GET /widget/", h)  // widget.css (the stylesheet fallback) and the demo page's assets
//	mux.Handle("GET /favicon.ico", h)
//
// Leave out the first line to serve no demo page.
//
// Citations link to the procedure's page only when the URL is https and its host is one of
// Options.LinkDomains or a subdomain of one; other URLs are shown as plain text.
package widget

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

//go:embed assets
var assets embed.FS

// DefaultTitle is the panel's title when Options.Title and data-title are empty.
const DefaultTitle = "Trợ lý ảo thủ tục hành chính"

// DefaultLinkDomains are the hosts (with their subdomains) a citation may link to by default: the national
// public-service portal and the Ho Chi Minh City portal.
var DefaultLinkDomains = []string{"dichvucong.gov.vn", "hochiminhcity.gov.vn"}

// DefaultStarters are the questions the widget suggests when a conversation starts, about common procedures
// (those the demo page lists as "Thủ tục được quan tâm"); a deployment sets its own most asked with
// Options.Starters.
var DefaultStarters = []string{
	"Làm lại căn cước cần giấy tờ gì?",
	"Đăng ký khai sinh cho con",
	"Đăng ký thường trú cần gì?",
	"Thành lập hộ kinh doanh",
}

// Hotline is the public-service hotline of Ho Chi Minh City the widget's contact line names.
const Hotline = "1022"

// Limits of Options.
const (
	MaxTitle       = 80 // characters
	MaxLinkDomains = 50
	maxDomain      = 253 // bytes of a host name
	MaxStarters    = 8
	MaxStarter     = 100 // characters of one starter question
)

// Options configures the widget.
type Options struct {
	// LinkDomains are the hosts citations may link to; a domain also admits its subdomains. Empty means
	// DefaultLinkDomains. Entries must be lower-case host names (ParseLinkDomains checks a configured list).
	LinkDomains []string
	// Title is the panel's title; empty means DefaultTitle. A page may override it with data-title.
	Title string
	// Starters are the questions offered as buttons when a conversation starts (the most asked procedures);
	// nil means DefaultStarters. ParseStarters checks a configured list.
	Starters []string
	// Live, when set, gives the starter questions at each request instead of Starters: those staff set, else
	// its default (NewLiveStarters(Starters)). The chat server's hello frame should carry Live.Questions too
	// (web.Server.Starters), so that a page holding an older script shows the current questions.
	Live *LiveStarters
}

// LiveStarters are the starter questions in force: those staff set (SetStaff), else the configured ones, else
// those about the most asked procedures (SetMostAsked), else DefaultStarters. It is safe for concurrent use.
type LiveStarters struct {
	def        []string
	configured bool // def is the operator's, not DefaultStarters
	asked      atomic.Pointer[[]string]
	staff      atomic.Pointer[[]string]
}

// NewLiveStarters returns the starter questions with configured as the default (nil: DefaultStarters).
func NewLiveStarters(configured []string) (*LiveStarters, error) {
	l := &LiveStarters{configured: configured != nil}
	if configured == nil {
		configured = DefaultStarters
	}
	if err := checkStarters(configured); err != nil {
		return nil, err
	}
	l.def = slices.Clone(configured)
	return l, nil
}

// SetStaff makes qs the questions in force; nil (or empty) goes back to the default. Questions over the
// limits are refused, and the questions in force stay as they were.
func (l *LiveStarters) SetStaff(qs []string) error {
	if len(qs) == 0 {
		l.staff.Store(nil)
		return nil
	}
	if err := checkStarters(qs); err != nil {
		return err
	}
	qs = slices.Clone(qs)
	l.staff.Store(&qs)
	return nil
}

// Default is what applies when staff set none: the configured questions, else the most asked, else
// DefaultStarters.
func (l *LiveStarters) Default() []string { return slices.Clone(l.fallback()) }

// Questions are the questions in force. The caller must not change the slice.
func (l *LiveStarters) Questions() []string {
	if p := l.staff.Load(); p != nil {
		return *p
	}
	return l.fallback()
}

func (l *LiveStarters) fallback() []string {
	if !l.configured {
		if p := l.asked.Load(); p != nil {
			return *p
		}
	}
	return l.def
}

// ParseStarters splits a list of starter questions separated by "|" ("Làm lại căn cước cần gì? | Đăng ký
// khai sinh") for Options.Starters, checking each; an empty list gives nil (the defaults).
func ParseStarters(s string) ([]string, error) {
	var out []string
	for f := range strings.SplitSeq(s, "|") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		out = append(out, f)
	}
	return out, checkStarters(out)
}

func checkStarters(ss []string) error {
	if len(ss) > MaxStarters {
		return fmt.Errorf("widget: %d starter questions, at most %d", len(ss), MaxStarters)
	}
	for _, s := range ss {
		if n := utf8.RuneCountInString(s); n > MaxStarter || strings.TrimSpace(s) == "" || !utf8.ValidString(s) {
			return fmt.Errorf("widget: starter question %q: want 1 to %d characters", s, MaxStarter)
		}
	}
	return nil
}

// ParseLinkDomains splits a comma-separated list of host names ("dichvucong.gov.vn, hochiminhcity.gov.vn")
// for Options.LinkDomains, checking each.
func ParseLinkDomains(s string) ([]string, error) {
	var out []string
	for f := range strings.SplitSeq(s, ",") {
		f = strings.ToLower(strings.TrimSpace(f))
		if f == "" {
			continue
		}
		if err := checkDomain(f); err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	if len(out) > MaxLinkDomains {
		return nil, fmt.Errorf("widget: %d link domains, at most %d", len(out), MaxLinkDomains)
	}
	return out, nil
}

func checkDomain(d string) error {
	if len(d) == 0 || len(d) > maxDomain || strings.HasPrefix(d, ".") || strings.HasSuffix(d, ".") ||
		strings.Contains(d, "..") || !strings.Contains(d, ".") {
		return fmt.Errorf("widget: link domain %q: want a host name such as dichvucong.gov.vn", d)
	}
	for _, c := range d {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' && c != '.' {
			return fmt.Errorf("widget: link domain %q: want a lower-case host name such as dichvucong.gov.vn", d)
		}
	}
	return nil
}

// file is one asset ready to serve, with its gzip-compressed form when that is smaller.
type file struct {
	body, gz    []byte
	contentType string
	etag        string
	cache       string
}

func newFile(body []byte, contentType, cache string) *file {
	sum := sha256.Sum256(body)
	f := &file{body: body, contentType: contentType, etag: `"` + hex.EncodeToString(sum[:12]) + `"`, cache: cache}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression) // the level is valid
	_, _ = zw.Write(body)                                    // writes to memory do not fail
	_ = zw.Close()
	if buf.Len() < len(body) {
		f.gz = buf.Bytes()
	}
	return f
}

// Cache lifetimes: embedding pages load /widget.js by a fixed URL, so it is cached briefly and revalidated
// by its content hash (ETag); the demo page is always revalidated.
const (
	cacheAsset = "public, max-age=300"
	cacheDemo  = "no-cache"
	cacheIcon  = "public, max-age=86400"
)

// demoCSP is the Content-Security-Policy of the demo page: only same-origin scripts, styles and connections.
const demoCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

var contentTypes = map[string]string{
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".svg":  "image/svg+xml",
	".html": "text/html; charset=utf-8",
}

// Handler returns the handler of GET /widget.js, GET /widget/{file}, the demo page GET /{$} and the site's
// icon GET /favicon.ico; any other request gets 404. It returns an error, and no handler, when the configuration
// is invalid: more than MaxLinkDomains link domains or an invalid one, a title longer than MaxTitle, or starter
// questions NewLiveStarters refuses.
func Handler(opts Options) (http.Handler, error) {
	domains, title, live, err := checkOptions(opts)
	if err != nil {
		return nil, err
	}
	sc, cssFile := newScript(domains, title, live)
	h := &handler{
		script: sc,
		files:  map[string]*file{"widget.css": cssFile},
		demo:   map[demoParams]*file{},
		icon:   newFile(favicon(), "image/x-icon", cacheIcon),
	}
	h.renderDemos()
	h.readStatic()
	return h.routes(), nil
}

// checkOptions checks the configuration and fills in the defaults: the link domains, the title and the
// starter questions in force.
func checkOptions(opts Options) ([]string, string, *LiveStarters, error) {
	domains := opts.LinkDomains
	if len(domains) == 0 {
		domains = DefaultLinkDomains
	}
	if len(domains) > MaxLinkDomains {
		return nil, "", nil, fmt.Errorf("widget: %d link domains, at most %d", len(domains), MaxLinkDomains)
	}
	for _, d := range domains {
		if err := checkDomain(d); err != nil {
			return nil, "", nil, err
		}
	}
	title := strings.TrimSpace(opts.Title)
	if title == "" {
		title = DefaultTitle
	}
	if utf8.RuneCountInString(title) > MaxTitle {
		return nil, "", nil, fmt.Errorf("widget: title longer than %d characters", MaxTitle)
	}
	live := opts.Live
	if live == nil {
		var err error
		if live, err = NewLiveStarters(opts.Starters); err != nil {
			return nil, "", nil, err
		}
	}
	return domains, title, live, nil
}

// newScript builds widget.js with its configuration, and the stylesheet as a file of its own: browsers
// without constructable stylesheets link to it from the shadow root, which a page's Content-Security-Policy
// allows without 'unsafe-inline'.
func newScript(domains []string, title string, live *LiveStarters) (*script, *file) {
	css, err := assets.ReadFile("assets/widget.css")
	if err != nil {
		panic(err) // embedded at build time
	}
	cssFile := newFile(css, contentTypes[".css"], cacheAsset)
	js, err := assets.ReadFile("assets/widget.js")
	if err != nil {
		panic(err)
	}
	if bytes.Count(js, []byte(scriptPlaceholder)) != 1 {
		panic("widget: widget.js lacks its configuration placeholder")
	}
	sc := &script{js: js, live: live, cfg: scriptConfig{LinkDomains: domains, Title: title, CSS: string(css),
		CSSPath: "/widget/widget.css?v=" + strings.Trim(cssFile.etag, `"`), Hotline: Hotline}}
	sc.get() // a configuration that cannot be marshalled fails here, not at the first request
	return sc, cssFile
}

// renderDemos renders every variant of the demo page once, here.
func (h *handler) renderDemos() {
	tmpl := template.Must(template.ParseFS(assets, "assets/demo.html"))
	for _, persist := range demoValues["persist"] {
		for _, position := range demoValues["position"] {
			for _, open := range demoValues["open"] {
				p := demoParams{persist, position, open}
				var buf bytes.Buffer
				if err := tmpl.Execute(&buf, p); err != nil {
					panic(err)
				}
				h.demo[p] = newFile(buf.Bytes(), contentTypes[".html"], cacheDemo)
			}
		}
	}
}

// readStatic adds the embedded static files (assets/static) to the files served under /widget/.
func (h *handler) readStatic() {
	err := fs.WalkDir(assets, "assets/static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		ct, ok := contentTypes[path.Ext(p)]
		if !ok {
			return fmt.Errorf("widget: no content type for %s", p)
		}
		b, err := assets.ReadFile(p)
		if err != nil {
			return err
		}
		h.files[strings.TrimPrefix(p, "assets/static/")] = newFile(b, ct, cacheAsset)
		return nil
	})
	if err != nil {
		panic(err)
	}
}

// routes serves the script, the files under /widget/, the demo page and the icon.
func (h *handler) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /widget.js", func(w http.ResponseWriter, r *http.Request) {
		// Pages of other origins embed the script, also under Cross-Origin-Embedder-Policy.
		w.Header().Set("Cross-Origin-Resource-Policy", "cross-origin")
		serve(w, r, h.script.get())
	})
	mux.HandleFunc("GET /widget/{name}", func(w http.ResponseWriter, r *http.Request) {
		f, ok := h.files[r.PathValue("name")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cross-Origin-Resource-Policy", "cross-origin")
		serve(w, r, f)
	})
	mux.HandleFunc("GET /{$}", h.demoPage)
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) { serve(w, r, h.icon) })
	return mux
}

// scriptPlaceholder is where widget.js takes its configuration.
const scriptPlaceholder = "/*CONFIG*/null"

// scriptConfig is the configuration written into widget.js.
type scriptConfig struct {
	LinkDomains []string `json:"linkDomains"`
	Title       string   `json:"title"`
	CSS         string   `json:"css"`
	CSSPath     string   `json:"cssPath"`
	Starters    []string `json:"starters"`
	Hotline     string   `json:"hotline"`
}

// script is widget.js with its configuration, built again when the starter questions in force change (their
// content hash, the ETag, changes with them).
type script struct {
	js   []byte
	cfg  scriptConfig
	live *LiveStarters

	mu       sync.Mutex
	starters []string
	f        *file
}

func (s *script) get() *file {
	qs := s.live.Questions()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f != nil && slices.Equal(qs, s.starters) {
		return s.f
	}
	cfg := s.cfg
	cfg.Starters = qs
	// json.Marshal escapes <, > and & and U+2028/U+2029, so the values are safe inside a script.
	b, err := json.Marshal(cfg)
	if err != nil {
		panic(err)
	}
	s.starters, s.f = qs, newFile(bytes.Replace(s.js, []byte(scriptPlaceholder), b, 1), contentTypes[".js"], cacheAsset)
	return s.f
}

type handler struct {
	script *script
	files  map[string]*file
	demo   map[demoParams]*file
	icon   *file
}

// serve writes f, gzip-compressed when the client accepts it, answering 304 to a matching If-None-Match
// (http.ServeContent does, given the ETag). The compressed form has its own ETag.
func serve(w http.ResponseWriter, r *http.Request, f *file) {
	hd := w.Header()
	hd.Set("Content-Type", f.contentType)
	hd.Set("Cache-Control", f.cache)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Vary", "Accept-Encoding")
	body, etag := f.body, f.etag
	if f.gz != nil && acceptsGzip(r.Header.Get("Accept-Encoding")) {
		body, etag = f.gz, strings.TrimSuffix(f.etag, `"`)+`-gz"`
		hd.Set("Content-Encoding", "gzip")
	}
	hd.Set("ETag", etag)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}

// acceptsGzip reports whether an Accept-Encoding header admits gzip (listed without q=0).
func acceptsGzip(header string) bool {
	for part := range strings.SplitSeq(header, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(name), "gzip") {
			continue
		}
		q := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
		return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
	}
	return false
}

// demoParams are the widget attributes the demo page takes from its query string (?persist=memory&position=left&open=true),
// so every mode can be tried without editing a page. Only the listed values are accepted.
type demoParams struct {
	Persist, Position, Open string
}

var demoValues = map[string][]string{
	"persist":  {"local", "session", "memory"},
	"position": {"right", "left"},
	"open":     {"true", "false"},
}

func (h *handler) demoPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	pick := func(key, def string) (string, bool) {
		v := q.Get(key)
		if v == "" {
			return def, true
		}
		for _, ok := range demoValues[key] {
			if v == ok {
				return v, true
			}
		}
		return "", false
	}
	var p demoParams
	var ok1, ok2, ok3 bool
	p.Persist, ok1 = pick("persist", "local")
	p.Position, ok2 = pick("position", "right")
	p.Open, ok3 = pick("open", "false")
	if !ok1 || !ok2 || !ok3 {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte("Tham số không hợp lệ: persist=local|session|memory, position=right|left, open=true|false.\n"))
		return
	}
	hd := w.Header()
	hd.Set("Content-Security-Policy", demoCSP)
	hd.Set("Referrer-Policy", "strict-origin-when-cross-origin")
	hd.Set("X-Frame-Options", "DENY")
	serve(w, r, h.demo[p])
}
