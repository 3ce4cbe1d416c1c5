package browsertest

import (
	"net/http"
	"net/http/httptest"
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
