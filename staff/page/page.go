// Package page serves the staff admin page of the knowledge base: one HTML document with its stylesheet and
// script, embedded in the binary (no build step), that talks to the staff API under /api/v1/staff/. The page
// is in Vietnamese; it logs staff in, searches procedures as the assistant ranks them, edits them as drafts
// (the actions in a bar that stays in view), shows the changes word by word, previews the assistant's answer
// from a draft, publishes after a confirmation that summarises the change and rolls back, imports files, works
// through the unanswered questions with the answers citizens got, corrects the communes' service centres and
// sets the starter questions the chat widget offers.
// It imports the standard library only.
package page

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"html/template"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
)

// Prefix is the path the page and its assets are served under.
const Prefix = "/staff/"

//go:embed assets
var assets embed.FS

// ContentSecurityPolicy is sent with every response: scripts, styles and connections come from the serving
// origin only, nothing inline, no framing.
const ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// asset is one file served under Prefix.
type asset struct {
	body  []byte
	ctype string
	etag  string
	// immutable assets are named by their content hash and may be cached for a year.
	immutable bool
}

// Handler returns the handler of the page: GET or HEAD /staff/ is the page, /staff/<name>.<hash>.<ext> its
// versioned assets; /staff redirects to /staff/. Mount it at "/staff/" (and "/staff") on the server's mux.
func Handler() http.Handler {
	files, err := load()
	if err != nil {
		panic("page: " + err.Error()) // the assets are embedded: this is a build defect, caught by the tests
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", ContentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		if r.URL.Path == strings.TrimSuffix(Prefix, "/") {
			http.Redirect(w, r, Prefix, http.StatusMovedPermanently)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			h.Set("Allow", "GET, HEAD")
			http.Error(w, "Phương thức không được hỗ trợ.", http.StatusMethodNotAllowed)
			return
		}
		name, ok := strings.CutPrefix(r.URL.Path, Prefix)
		a, found := files[name]
		if !ok || !found {
			http.Error(w, "Không tìm thấy trang.", http.StatusNotFound)
			return
		}
		h.Set("Content-Type", a.ctype)
		h.Set("ETag", a.etag)
		if a.immutable {
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			h.Set("Cache-Control", "no-cache")
		}
		if match := r.Header.Get("If-None-Match"); match != "" && match == a.etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		h.Set("Content-Length", strconv.Itoa(len(a.body)))
		w.WriteHeader(http.StatusOK)
		if r.Method == http.MethodGet {
			_, _ = w.Write(a.body)
		}
	})
}

// load reads the embedded assets, names each static file by its content hash and renders index.html with
// those names, so that a new binary never serves a stale script from a browser's cache.
func load() (map[string]asset, error) {
	files := map[string]asset{}
	names := map[string]string{} // plain name → hashed name
	err := fs.WalkDir(assets, "assets", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || path.Base(p) == "index.html" {
			return err
		}
		body, err := assets.ReadFile(p)
		if err != nil {
			return err
		}
		name := strings.TrimPrefix(p, "assets/")
		sum := sha256.Sum256(body)
		h := hex.EncodeToString(sum[:])[:12]
		ext := path.Ext(name)
		hashed := strings.TrimSuffix(name, ext) + "." + h + ext
		names[name] = hashed
		files[hashed] = asset{body: body, ctype: contentType(ext), etag: `"` + h + `"`, immutable: true}
		return nil
	})
	if err != nil {
		return nil, err
	}
	tmpl, err := template.New("index.html").Funcs(template.FuncMap{
		"asset": func(name string) (string, error) {
			if h, ok := names[name]; ok {
				return Prefix + h, nil
			}
			return "", fs.ErrNotExist
		},
	}).ParseFS(assets, "assets/index.html")
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, nil); err != nil {
		return nil, err
	}
	sum := sha256.Sum256(buf.Bytes())
	files[""] = asset{body: buf.Bytes(), ctype: "text/html; charset=utf-8", etag: `"` + hex.EncodeToString(sum[:])[:12] + `"`}
	return files, nil
}

func contentType(ext string) string {
	switch ext {
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	}
	if t := mime.TypeByExtension(ext); t != "" {
		return t
	}
	return "application/octet-stream"
}
