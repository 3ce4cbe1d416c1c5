package browsertest

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

func TestBrowser(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(`<!doctype html><title>x</title><p id="p">Xin chào</p>`))
	}))
	defer srv.Close()
	ctx := New(t, 390, 844, 30*time.Second)
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL)); err != nil {
		t.Fatal(err)
	}
	txt, err := chromedp.Run(ctx, chromedp.Text("#p"))
	if err != nil || txt != "Xin chào" {
		t.Fatalf("%q %v", txt, err)
	}
	Screenshot(t, ctx, "hello")
}

func TestPhoneViewport(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(`<!doctype html><meta name="viewport" content="width=device-width"><title>x</title>`))
	}))
	defer srv.Close()
	ctx := New(t, 390, 844, 30*time.Second)
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL)); err != nil {
		t.Fatal(err)
	}
	size, err := chromedp.Run(ctx, chromedp.Evaluate[[]int](`[window.innerWidth, window.innerHeight]`))
	if err != nil {
		t.Fatal(err)
	}
	if len(size) != 2 || size[0] != 390 || size[1] != 844 {
		t.Fatalf("viewport %v, want [390 844]", size)
	}
}

// The vendored axe-core is the published file of its version.
func TestAxeVendored(t *testing.T) {
	sum := sha256.Sum256([]byte(axeSource))
	if got := "sha256-" + base64.StdEncoding.EncodeToString(sum[:]); got != axeIntegrity {
		t.Fatalf("axe.min.js: %s, want %s", got, axeIntegrity)
	}
	if !strings.HasPrefix(axeSource, "/*! axe v"+AxeVersion) {
		t.Fatalf("axe.min.js is not version %s", AxeVersion)
	}
}

// Axe finds what it should on a page with known faults, and nothing on a clean one; under a strict CSP too.
func TestAxe(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", "default-src 'none'")
		if r.URL.Path == "/bad" {
			_, _ = w.Write([]byte(`<!doctype html><html><title>x</title><main><img src="data:,"><button></button><button aria-label="Đóng">Gửi</button></main></html>`))
			return
		}
		_, _ = w.Write([]byte(`<!doctype html><html lang="vi"><title>Trang</title><main><h1>Xin chào</h1><button>Gửi</button></main></html>`))
	}))
	defer srv.Close()
	ctx := New(t, 1280, 800, time.Minute)
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/bad")); err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	for _, v := range Axe(t, ctx) {
		ids[v.ID] = v.Impact
	}
	for _, want := range []string{"image-alt", "button-name", "html-has-lang", "label-content-name-mismatch"} {
		if ids[want] == "" {
			t.Errorf("axe missed %s: %v", want, ids)
		}
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/good")); err != nil {
		t.Fatal(err)
	}
	if vs := Axe(t, ctx); len(vs) != 0 {
		t.Errorf("violations on a clean page: %v", vs)
	}
}
