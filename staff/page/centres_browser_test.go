package page_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/trolyao/trolyao/internal/browsertest"
	"github.com/trolyao/trolyao/knowledge"
	"github.com/trolyao/trolyao/staff"
	sembedded "github.com/trolyao/trolyao/staff/embedded"
)

// newCentresBackend is the staff API over the real catalog with the centres staff correct, and the citizen
// side answering from the same centres.
func newCentresBackend(t *testing.T) *backend {
	t.Helper()
	w := newWorld(t)
	live := knowledge.NewLiveCentres(w.Centres)
	repo, err := sembedded.Open(filepath.Join(t.TempDir(), "staff.db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = repo.Close() })
	svc, err := staff.New(staff.Options{Repo: repo, Store: w.Store, Embedder: knowledge.HashEmbedder{},
		Phrasebook: w.Bank.Phrasebook(), Conversations: w.convs, TempDir: t.TempDir(), Centres: live})
	require.NoError(t, err)
	var n int
	return &backend{
		api: svc.Handler(),
		addUser: func(t *testing.T, name, password, role string) {
			require.NoError(t, staff.AddUser(t.Context(), repo, name, password, staff.Role(role), time.Now()))
		},
		ask: func(t *testing.T, q string) string {
			t.Helper()
			a := w.citizen()
			a.Centres = live
			n++
			ans, err := a.Reply(context.Background(), fmt.Sprintf("centres-%d", n), q, nil)
			require.NoError(t, err)
			return ans.Text
		},
		world: w,
	}
}

// A publisher finds Phường Bàn Cờ's centre on the page, corrects its address, phone and hours (citizens get
// them at once), is told in Vietnamese which field is wrong when the phone is not a phone number, and
// reverts to the file's data; a viewer sees the centres without any way to change them.
func TestBrowserCentreCorrection(t *testing.T) {
	b := newCentresBackend(t)
	b.addUser(t, "canbo", "mat-khau-can-bo-1", "publisher")
	b.addUser(t, "xem", "mat-khau-chi-xem-1", "viewer")
	srv := site(t, b)
	const (
		q       = "đăng ký khai sinh ở phường Bàn Cờ nộp ở đâu"
		seed    = "611/20 Điện Biên Phủ"
		address = "185 Cách Mạng Tháng Tám, phường Bàn Cờ"
	)
	require.Contains(t, b.ask(t, q), seed)

	ctx := browsertest.New(t, 1280, 900, 3*time.Minute)
	cons, stopConsole := watchConsole(ctx)
	do(t, ctx, "open the page", chromedp.Navigate(srv.URL+"/staff/"))
	loginAs(t, ctx, "canbo", "mat-khau-can-bo-1")
	row := `#centres-table tr[data-unit="27154"]`
	do(t, ctx, "find the centre",
		chromedp.Click(chromedp.CSS(`.tab[data-view="centres"]`)),
		chromedp.WaitVisible(chromedp.CSS(row)),
		chromedp.SendKeys(chromedp.ID("centres-q"), "Bàn Cờ"),
		chromedp.Click(chromedp.ID("centres-submit")),
	)
	waitText(t, ctx, "centres-status", "1 trung tâm.")
	do(t, ctx, "open it", chromedp.Click(chromedp.CSS(row+" button")), chromedp.WaitVisible(chromedp.ID("centre-address")))
	got, err := chromedp.Run(ctx, chromedp.Value(chromedp.ID("centre-address")))
	require.NoError(t, err)
	assert.Contains(t, got, seed, "the form starts from what citizens are told")
	assert.False(t, eval[bool](t, ctx, `document.getElementById("centre-revert").checkVisibility()`), "nothing to revert yet")
	unlabelled := eval[[]string](t, ctx, `[...document.querySelectorAll("#centres-view input, #centres-view select, #centres-view button")]
		.filter(e => e.checkVisibility() && !(e.labels && e.labels.length) && !e.getAttribute("aria-label") && !(e.tagName === "BUTTON" && e.textContent.trim()))
		.map(e => e.outerHTML.slice(0, 80))`)
	assert.Empty(t, unlabelled, "every control has a label")

	do(t, ctx, "a phone that is not one",
		setValue("#centre-phone", "gọi chị Lan"),
		chromedp.Click(chromedp.ID("centre-save")),
	)
	waitText(t, ctx, "notice", "Điện thoại: Số điện thoại chỉ gồm chữ số")

	do(t, ctx, "correct the centre",
		setValue("#centre-address", address),
		setValue("#centre-phone", "028 3930 1234"),
		setValue("#centre-hours", "Thứ Hai – Thứ Sáu, 7:30–17:00"),
		setValue("#centre-note", "Đã gọi điện xác nhận"),
		chromedp.Click(chromedp.ID("centre-save")),
	)
	waitText(t, ctx, "notice", "Đã lưu thông tin trung tâm của Phường Bàn Cờ")
	waitText(t, ctx, "centre-state", "Cán bộ canbo sửa lúc")
	waitText(t, ctx, "centres-table", address)
	answer := b.ask(t, q)
	assert.Contains(t, answer, address+", ĐT 028 3930 1234; giờ làm việc: Thứ Hai – Thứ Sáu, 7:30–17:00")
	assert.NotContains(t, answer, seed)
	browsertest.Screenshot(t, ctx, "centre-corrected")

	do(t, ctx, "revert to the seed",
		chromedp.Click(chromedp.ID("centre-revert")),
		chromedp.Click(chromedp.ID("centre-revert")),
	)
	waitText(t, ctx, "notice", "Đã trả thông tin trung tâm của Phường Bàn Cờ về dữ liệu gốc")
	waitText(t, ctx, "centre-state", "Dữ liệu gốc")
	assert.Contains(t, b.ask(t, q), seed)

	do(t, ctx, "log out", chromedp.Click(chromedp.ID("logout")), chromedp.WaitVisible(chromedp.ID("login-username")))
	loginAs(t, ctx, "xem", "mat-khau-chi-xem-1")
	do(t, ctx, "a viewer opens the centre",
		chromedp.Click(chromedp.CSS(`.tab[data-view="centres"]`)),
		chromedp.WaitVisible(chromedp.CSS(row)),
		chromedp.Click(chromedp.CSS(row+" button")),
		chromedp.WaitVisible(chromedp.ID("centre-editor")),
	)
	assert.True(t, eval[bool](t, ctx, `document.getElementById("centre-fields").disabled`), "read-only for a viewer")
	assert.False(t, eval[bool](t, ctx, `document.getElementById("centre-save").checkVisibility()`))
	assert.False(t, eval[bool](t, ctx, `document.getElementById("centre-revert").checkVisibility()`))
	stopConsole()
	assert.Empty(t, cons.problems(), "no script errors or CSP violations")
}
