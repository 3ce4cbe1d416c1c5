package browsertest

import (
	"context"
	_ "embed"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// AxeVersion is the version of the vendored axe-core (axe/README.md).
const AxeVersion = "4.14.1"

// axeIntegrity is the Subresource Integrity hash axe-core publishes for axe.min.js of AxeVersion.
const axeIntegrity = "sha256-KTSJmUUM3yhJqOcLeRL8LahahJ2jnA0NU5T1HUqe2Vw="

//go:embed axe/axe.min.js
var axeSource string

// AxeViolation is one rule axe-core found violated, with the elements at fault.
type AxeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"` // minor, moderate, serious or critical
	Help   string `json:"help"`
	Nodes  []struct {
		Target []any  `json:"target"` // CSS selectors; a nested array steps into a shadow root
		HTML   string `json:"html"`
	} `json:"nodes"`
}

// String is the violation in one line: rule, impact, help and the first elements.
func (v AxeViolation) String() string {
	var b strings.Builder
	b.WriteString(v.ID + " (" + v.Impact + "): " + v.Help)
	for i, n := range v.Nodes {
		if i == 3 {
			b.WriteString(" …")
			break
		}
		t, _ := json.Marshal(n.Target)
		b.WriteString(" " + string(t))
	}
	return b.String()
}

// Axe runs axe-core on the whole page in ctx — open shadow roots included — with its default rules (WCAG 2.x
// A and AA and best practices) and the experimental label-content-name-mismatch (a control whose accessible
// name does not contain its visible text, WCAG 2.5.3), and returns the violations. The script is evaluated through the DevTools
// protocol, which the page's Content-Security-Policy does not govern, so pages under a strict CSP are checked
// as they are.
func Axe(t testing.TB, ctx context.Context) []AxeViolation {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](
		`window.axe && window.axe.version === "`+AxeVersion+`" || (0, eval)(`+jsString(axeSource)+`)`)); err != nil {
		t.Fatalf("axe: load: %v", err)
	}
	// Contrast is measured on what is painted: wait for running animations (a panel fading in) to end.
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`[document].concat(Array.from(document.querySelectorAll("*"),
		e => e.shadowRoot).filter(Boolean)).every(r => r.getAnimations().every(a => a.playState !== "running"))`,
		chromedp.WithPollingInterval(20*time.Millisecond), chromedp.WithPollingTimeout(5*time.Second))); err != nil {
		t.Fatalf("axe: animations still running: %v", err)
	}
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[string](
		`axe.run(document, {resultTypes: ["violations"], rules: {"label-content-name-mismatch": {enabled: true}}})
			.then(r => JSON.stringify(r.violations))`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("axe: run: %v", err)
	}
	var out []AxeViolation
	if err := json.Unmarshal([]byte(raw), &out); err != nil {
		t.Fatalf("axe: results: %v", err)
	}
	return out
}

// AxeSerious runs Axe and fails the test for every serious or critical violation; it logs the others and
// returns all of them.
func AxeSerious(t testing.TB, ctx context.Context, where string) []AxeViolation {
	t.Helper()
	vs := Axe(t, ctx)
	for _, v := range vs {
		if v.Impact == "serious" || v.Impact == "critical" {
			t.Errorf("axe on %s: %s", where, v)
		} else {
			t.Logf("axe on %s: %s", where, v)
		}
	}
	t.Logf("axe %s on %s: %d violations", AxeVersion, where, len(vs))
	return vs
}

func jsString(s string) string {
	b, _ := json.Marshal(s) // a string always marshals
	return string(b)
}
