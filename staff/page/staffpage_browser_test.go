package page_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/trolyao/trolyao/assistant"
	"github.com/trolyao/trolyao/internal/browsertest"
	"github.com/trolyao/trolyao/knowledge"
)

// What a ward officer does on the staff page, at a phone's width and on a desktop: the ranked search finds the
// identity card's re-issue from words without accents or an abbreviation, with its level; the editor's
// actions stay in view while the form scrolls, «Xem trước» among them; the fee citizens read is edited in its own group; the diff
// marks the words added and removed; Publish looks unlike Save and asks for confirmation with the change
// summarised (old → new), cancelling publishes nothing; the unanswered queue shows the answer the citizen got,
// the reason of their 👎 and the names of the procedures beside their codes; axe-core finds nothing serious or
// critical on the editor, the confirmation and the queue.
func TestBrowserWardOfficer(t *testing.T) {
	b := newBackend(t)
	b.addUser(t, "canbo", "mat-khau-can-bo-1", "publisher")
	srv := site(t, b)
	convs := b.world.convs

	// Citizens: one question the assistant cannot answer, one answer that got a 👎 "sai phí".
	// (Not a question another test links to a procedure: the catalog is shared.)
	const unanswered = "thủ tục xin phép nuôi kỳ lân trong nhà"
	b.ask(t, unanswered)
	flagged, err := convs.Flagged(t.Context(), knowledge.FlagFilter{Below: 0.6})
	require.NoError(t, err)
	require.True(t, slices.ContainsFunc(flagged, func(f knowledge.Flagged) bool { return f.Question == unanswered }),
		"the assistant could not answer %q", unanswered)
	const feeQuestion = "làm lại căn cước lệ phí bao nhiêu"
	ans, err := b.world.citizen().Reply(t.Context(), "officer-thumbs-down", feeQuestion, nil)
	require.NoError(t, err)
	require.NotEmpty(t, ans.Citations)
	conv, err := convs.Load(t.Context(), "officer-thumbs-down")
	require.NoError(t, err)
	got := conv.Messages[len(conv.Messages)-1]
	require.Equal(t, knowledge.RoleAssistant, got.Role)
	require.NoError(t, convs.FeedbackReason(t.Context(), "officer-thumbs-down", got.ID, -1, knowledge.ReasonWrongFee))

	for _, vp := range []struct {
		name          string
		width, height int
		amount        int64
	}{{"390 px", 390, 844, 31000}, {"desktop", 1280, 900, 47000}} {
		t.Run(vp.name, func(t *testing.T) {
			ctx := browsertest.New(t, vp.width, vp.height, 4*time.Minute)
			cons, stopConsole := watchConsole(ctx)
			do(t, ctx, "open the page", chromedp.Navigate(srv.URL+"/staff/"))
			loginAs(t, ctx, "canbo", "mat-khau-can-bo-1")
			officerSearch(t, ctx)
			officerEdit(t, ctx, b, vp.amount, vp.width)
			officerQueue(t, ctx, b, got, vp.width)
			stopConsole()
			assert.Empty(t, cons.problems(), "no script errors or CSP violations")
		})
	}
}

// officerSearch: words without accents and an abbreviation find 1.014064 among the first three, its level shown.
func officerSearch(t *testing.T, ctx context.Context) {
	for _, q := range []string{"lam lai can cuoc", "cccd"} {
		do(t, ctx, "search "+q,
			setValue("#search-q", ""),
			chromedp.SendKeys(chromedp.ID("search-q"), q),
			chromedp.Click(chromedp.ID("search-submit")),
			chromedp.WaitVisible(chromedp.CSS(`#search-results button[data-code="`+code+`"]`)),
		)
		first := eval[[]string](t, ctx, `[...document.querySelectorAll("#search-results button")].slice(0, 3).map(b => b.dataset.code)`)
		assert.Contains(t, first, code, "%q", q)
		level := eval[string](t, ctx, `document.querySelector('#search-results button[data-code="`+code+`"] .badge.level').textContent`)
		assert.Equal(t, "Cấp xã", level)
		waitText(t, ctx, "search-status", "phù hợp nhất trước")
	}
}

// inView reports whether the element with id is inside the viewport and not covered by another element.
func inView(t *testing.T, ctx context.Context, id string) bool {
	return eval[bool](t, ctx, fmt.Sprintf(`(() => { const e = document.getElementById(%q); const r = e.getBoundingClientRect();
		if (r.top < 0 || r.bottom > innerHeight || r.left < 0 || r.right > innerWidth) return false;
		const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
		return hit === e || e.contains(hit); })()`, id))
}

func officerEdit(t *testing.T, ctx context.Context, b *backend, amount int64, width int) {
	openFromSearch(t, ctx, "cccd", code)
	before := b.published(t, code)
	require.NotEmpty(t, before.Channels)
	require.NotEmpty(t, before.Field)

	// The action bar stays in view wherever the form is scrolled.
	require.Greater(t, eval[int](t, ctx, `document.getElementById("pane-edit").offsetHeight`), eval[int](t, ctx, `innerHeight`),
		"the form is taller than the screen")
	for _, where := range []string{"#f-name", "#f-requirements", "#legal-add", "#f-note"} {
		do(t, ctx, "scroll to "+where, chromedp.Evaluate[chromedp.Void](`document.querySelector("`+where+`").scrollIntoView({block: "center"})`))
		for _, id := range []string{"draft-save", "preview-open", "publish"} {
			assert.True(t, inView(t, ctx, id), "#%s in view with %s at the centre", id, where)
		}
	}
	style := func(id string) string {
		return eval[string](t, ctx, `(s => s.backgroundColor + " " + s.color)(getComputedStyle(document.getElementById("`+id+`")))`)
	}
	assert.NotEqual(t, style("draft-save"), style("publish"), "Publish looks unlike Save")
	assert.NotEqual(t, style("preview-open"), style("publish"))

	// The fee citizens read is in its own group, apart from the portal's raw cell.
	legend := eval[string](t, ctx, `document.querySelector("#channel-rows .rowitem .fee-add").closest("fieldset.citizen").querySelector("legend").textContent`)
	assert.Contains(t, legend, "người dân đọc")
	assert.False(t, eval[bool](t, ctx, `!!document.querySelector("#channel-rows .rowitem .c-fee-text").closest("fieldset.citizen")`))
	assert.True(t, eval[bool](t, ctx, `!!document.querySelector("#channel-rows .rowitem .c-free").closest("fieldset.citizen")`))

	// Edit the fee of the first channel and the field, save.
	marker := fmt.Sprintf("Quầy%d", time.Now().UnixNano()%100000)
	if eval[int](t, ctx, `document.querySelectorAll("#channel-rows .rowitem:first-child .fee-amount").length`) == 0 {
		do(t, ctx, "add a fee", chromedp.Click(chromedp.CSS("#channel-rows .rowitem:first-child .fee-add")))
	}
	do(t, ctx, "edit",
		setValue("#channel-rows .rowitem:first-child .fee-amount", fmt.Sprint(amount)),
		chromedp.Evaluate[chromedp.Void](`document.getElementById("f-field").value += " `+marker+`"`),
		chromedp.Click(chromedp.ID("draft-save")),
	)
	waitText(t, ctx, "notice", "Đã lưu bản nháp")
	browsertest.AxeSerious(t, ctx, fmt.Sprintf("the editor at %d px", width))

	// The diff marks what was added.
	do(t, ctx, "diff", chromedp.Click(chromedp.CSS(`.subtab[data-pane="diff"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#diff-table tr[data-field="field"] td.new ins`)))
	added := eval[[]string](t, ctx, `[...document.querySelectorAll('#diff-table tr[data-field="field"] td.new ins')].map(e => e.textContent)`)
	assert.Equal(t, []string{marker}, added, "only the added word is marked")
	assert.Empty(t, eval[[]string](t, ctx, `[...document.querySelectorAll('#diff-table tr[data-field="field"] td.old del')].map(e => e.textContent)`),
		"nothing of the field was removed")
	assert.Equal(t, before.Field, eval[string](t, ctx, `document.querySelector('#diff-table tr[data-field="field"] td.old').textContent`))
	money := assistant.FormatVND(amount)
	fees := eval[string](t, ctx, `[...document.querySelectorAll('#diff-table tr[data-field="channels"] td.new ins')].map(e => e.textContent).join(" ")`)
	assert.Contains(t, fees, strings.TrimSuffix(money, " đồng"), "the new amount is marked")
	browsertest.AxeSerious(t, ctx, fmt.Sprintf("the diff at %d px", width))

	// «Xem trước» in the bar opens the preview; with a question, it answers it from the draft.
	do(t, ctx, "preview from the bar", chromedp.Click(chromedp.ID("preview-open")), chromedp.WaitVisible(chromedp.ID("preview-q")),
		setValue("#preview-q", "làm lại căn cước lệ phí bao nhiêu"), chromedp.Click(chromedp.ID("preview-open")))
	waitText(t, ctx, "preview-answer", money)

	// Publish asks first, with the change summarised; cancelling publishes nothing.
	do(t, ctx, "publish", chromedp.Click(chromedp.CSS(`.subtab[data-pane="edit"]`)), chromedp.Click(chromedp.ID("publish")),
		chromedp.WaitVisible(chromedp.ID("publish-confirm")))
	summary := eval[string](t, ctx, `document.querySelector('#publish-summary li[data-field="field"]').textContent`)
	assert.Contains(t, summary, before.Field+" → "+before.Field+" "+marker, "old → new")
	channels := eval[string](t, ctx, `document.querySelector('#publish-summary li[data-field="channels"]').textContent`)
	assert.Contains(t, channels, "phí:")
	assert.Contains(t, channels, "→ ")
	assert.Contains(t, channels, money)
	if len(before.Channels[0].Fees) > 0 && before.Channels[0].Fees[0].Amount != amount {
		assert.Contains(t, channels, assistant.FormatVND(before.Channels[0].Fees[0].Amount)+" → "+money, "old → new")
	}
	waitText(t, ctx, "publish-dialog-lead", "mã "+code)
	browsertest.AxeSerious(t, ctx, fmt.Sprintf("the publish confirmation at %d px", width))
	browsertest.Screenshot(t, ctx, fmt.Sprintf("publish-confirmation-%d", width))
	do(t, ctx, "cancel", chromedp.Click(chromedp.ID("publish-cancel")), chromedp.WaitNotVisible(chromedp.ID("publish-dialog")))
	waitText(t, ctx, "notice", "Chưa xuất bản")
	assert.Equal(t, before, b.published(t, code), "cancelling publishes nothing")

	publishConfirmed(t, ctx)
	waitText(t, ctx, "notice", "Đã xuất bản phiên bản")
	live := b.published(t, code)
	require.NotEmpty(t, live.Channels[0].Fees)
	assert.Equal(t, amount, live.Channels[0].Fees[0].Amount, "the fee edited is the one published")
	assert.Contains(t, b.ask(t, "làm lại căn cước lệ phí bao nhiêu"), money, "and the one citizens are told")
	if width < 500 {
		assert.LessOrEqual(t, eval[int](t, ctx, `document.documentElement.scrollWidth`), eval[int](t, ctx, `innerWidth`), "nothing overflows sideways")
	}
}

// officerQueue: the queue shows the answer the citizen got, the 👎's reason and the procedures' names.
func officerQueue(t *testing.T, ctx context.Context, b *backend, got knowledge.Message, width int) {
	do(t, ctx, "queue", chromedp.Click(chromedp.CSS(`.tab[data-view="unanswered"]`)))
	waitText(t, ctx, "unanswered-table", "kỳ lân")
	row := fmt.Sprintf(`[...document.querySelectorAll("#unanswered-table tbody tr")].find(tr => tr.querySelector(".q").textContent === %q)`,
		assistant.Redact("làm lại căn cước lệ phí bao nhiêu"))
	require.True(t, eval[bool](t, ctx, "!!"+row), "the 👎 question is listed")
	shown := eval[string](t, ctx, row+`.querySelector(".queue-answer .answer").textContent`)
	assert.Equal(t, assistant.PlainText(got.Text), shown, "the answer the citizen got, as stored, in plain text")
	assert.Contains(t, eval[string](t, ctx, row+`.querySelector(".queue-answer .reason").textContent`), "sai phí")
	assert.Contains(t, eval[string](t, ctx, row+`.querySelector(".why").textContent`), "sai phí: 1")
	cited := eval[[]string](t, ctx, row+`.querySelectorAll("ul.cited li").length ? [...`+row+`.querySelectorAll("ul.cited li")].map(li => li.textContent) : []`)
	require.NotEmpty(t, cited)
	for i, c := range got.Codes[:min(len(got.Codes), len(cited))] {
		p := b.published(t, c)
		assert.Equal(t, c+" "+p.Name, cited[i], "the name beside the code")
	}
	abstained := `[...document.querySelectorAll("#unanswered-table tbody tr")].find(tr => tr.textContent.includes("kỳ lân"))`
	assert.NotEmpty(t, eval[string](t, ctx, abstained+`.querySelector(".queue-answer .answer").textContent`), "the abstention is shown")
	browsertest.AxeSerious(t, ctx, fmt.Sprintf("the unanswered queue at %d px", width))
	browsertest.Screenshot(t, ctx, fmt.Sprintf("queue-%d", width))
	if width < 500 {
		assert.LessOrEqual(t, eval[int](t, ctx, `document.documentElement.scrollWidth`), eval[int](t, ctx, `innerWidth`), "nothing overflows sideways")
	}
}
