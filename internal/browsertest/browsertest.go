// Package browsertest starts a real headless Chromium for end-to-end tests of the web pages the binary
// serves (the citizen widget, the staff page). The browser is Debian's chromium, found through
// TROLYAO_CHROMIUM (scripts/test.sh exports it) or on PATH; a test fails, never skips, when it is missing.
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Chromium returns the path of the browser, failing the test when there is none.
func Chromium(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("TROLYAO_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("browser tests need Chromium: install Debian's chromium package or run scripts/test.sh (it installs it)")
	return ""
}

// New starts a headless browser with a viewport of width×height CSS pixels and returns a chromedp context
// for one tab. Chromium makes no window narrower than 500 px, so the viewport is emulated (a width under 500
// is emulated as a phone: mobile and touch); the browser is closed when the test ends. Each call gets a fresh profile, so storage is empty.
// timeout bounds the whole test's browsing.
func New(t testing.TB, width, height int, timeout time.Duration) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(Chromium(t)),
		chromedp.NoSandbox, // tests run as root in CI
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(width, height),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	tab, cancelTab := chromedp.NewContext(actx, chromedp.WithErrorf(t.Logf))
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc()
	})
	// The first call starts the browser; it lives as long as the context of that call, so that context
	// carries no timeout (chromedp.Run's documentation).
	var emulate []chromedp.EmulateViewportOption
	if width < 500 {
		emulate = append(emulate, chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulatePortrait)
	}
	if err := chromedp.Do(tab, chromedp.EmulateViewport(int64(width), int64(height), emulate...)); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	ctx, cancelTimeout := context.WithTimeout(tab, timeout)
	t.Cleanup(cancelTimeout)
	return ctx
}

// Screenshot saves a full-page PNG under the test's artifact directory (kept with go test -artifacts) and
// returns its path.
func Screenshot(t testing.TB, ctx context.Context, name string) string {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // quality 100 is PNG
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	path := filepath.Join(t.ArtifactDir(), name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	t.Logf("screenshot: %s", path)
	return path
}
