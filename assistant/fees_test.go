package assistant

import (
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/trolyao/trolyao/internal/racetest"
	"github.com/trolyao/trolyao/knowledge"
)

var (
	dec2026 = time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	jun2025 = time.Date(2025, 6, 1, 9, 0, 0, 0, time.UTC)
)

// allRecords is every procedure of the real catalog, in code order.
func allRecords(t *testing.T) []knowledge.Procedure {
	t.Helper()
	realRecords(t) // loads the catalog
	out := make([]knowledge.Procedure, 0, len(catalog))
	for _, p := range catalog {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Code < out[j].Code })
	require.Greater(t, len(out), 2000)
	return out
}

func TestFeesHandcrafted(t *testing.T) {
	lltp := knowledge.Channel{Kind: knowledge.ChannelOnline, Free: true,
		Text: "Miễn phí(Thực hiện theo Thông tư số 244/2016/TT-BTC ngày 11/11/2016 của Bộ Tài chính quy định mức thu, chế độ thu, nộp, quản lý và sử dụng phí cung cấp thông tin lý lịch tư pháp.)",
		Note: "Thực hiện theo Thông tư số 244/2016/TT-BTC ngày 11/11/2016 của Bộ Tài chính quy định mức thu, chế độ thu, nộp, quản lý và sử dụng phí cung cấp thông tin lý lịch tư pháp."}
	hdnd := knowledge.Channel{Kind: knowledge.ChannelInPerson, Free: true,
		Text: "Miễn phí(Mức lệ phí cụ thể do Hội đồng nhân dân tỉnh, thành phố trực thuộc Trung ương quyết định. Miễn lệ phí cho người thuộc hộ nghèo; người khuyết tật.)",
		Note: "Mức lệ phí cụ thể do Hội đồng nhân dân tỉnh, thành phố trực thuộc Trung ương quyết định. Miễn lệ phí cho người thuộc hộ nghèo; người khuyết tật."}
	free := knowledge.Channel{Kind: knowledge.ChannelPostal, Free: true, Text: "Miễn phí(Không có)", Note: "Không có"}
	exempt := knowledge.Channel{Kind: knowledge.ChannelInPerson, Free: true, Text: "Miễn phí",
		Note: "Miễn lệ phí. Phí cấp bản sao Trích lục kết hôn (nếu có yêu cầu) thực hiện theo quy định tại Thông tư số 281/2016/TT-BTC ngày 14/11/2016 của Bộ Tài chính."}
	licenceNote := "- Lệ phí cấp giấy phép lái xe: 135.000 đồng/lần. - Trường hợp tổ chức, cá nhân nộp hồ sơ theo hình thức trực tuyến: Kể từ ngày 01/12/2023 đến hết ngày 31/12/2025, áp dụng mức thu lệ phí là 115.000 đồng/lần cấp."
	licence := knowledge.Channel{Kind: knowledge.ChannelOnline, Text: "135,000 Việt Nam Đồng(" + licenceNote + ")", Note: licenceNote,
		Fees: []knowledge.Fee{{Amount: 135000, Label: "Lệ phí cấp giấy phép lái xe (mỗi lần)"},
			{Amount: 115000, Label: "…cá nhân nộp hồ sơ theo hình thức trực tuyến: Kể từ ngày 01/12/2023 đến hết ngày 31/12/2025, áp dụng mức thu lệ phí (mỗi lần cấp)"}}}

	tests := []struct {
		name     string
		channels []knowledge.Channel
		today    time.Time
		want     []string
		not      []string
	}{
		{"free but a circular sets the fee", []knowledge.Channel{lltp}, dec2026,
			[]string{"theo Thông tư số 244/2016/TT-BTC (dữ liệu không ghi mức cụ thể)"}, []string{"miễn phí"}},
		{"the provincial council decides; exemptions kept", []knowledge.Channel{hdnd}, dec2026,
			[]string{"do Hội đồng nhân dân tỉnh", "Lưu ý: Miễn lệ phí cho người thuộc hộ nghèo; người khuyết tật"}, []string{": miễn phí"}},
		{"free with nothing else", []knowledge.Channel{free}, dec2026, []string{"- Qua bưu chính: miễn phí"}, nil},
		{"exempt; the copy fee is a caveat", []knowledge.Channel{exempt}, dec2026,
			[]string{"- Nộp trực tiếp: miễn phí", "Lưu ý: Phí cấp bản sao Trích lục kết hôn (nếu có yêu cầu)"}, nil},
		{"reduction ended", []knowledge.Channel{licence}, dec2026,
			[]string{"- Nộp trực tuyến: 135.000 đồng", "115.000 đồng", "31/12/2025, nay đã hết thời hạn"},
			[]string{"; 115.000 đồng"}},
		{"reduction in force", []knowledge.Channel{licence}, jun2025,
			[]string{"135.000 đồng", "115.000 đồng", "áp dụng từ 01/12/2023 đến hết ngày 31/12/2025"}, []string{"hết thời hạn"}},
		{"an ended exemption leaves the normal amount", []knowledge.Channel{{Kind: knowledge.ChannelOnline,
			Text: "250,000 VNĐ(- Sát hạch thực hành (Miễn kể từ ngày 07/4/2026 đến 30/6/2026 theo Thông tư 40/2026/TT-BTC))",
			Note: "- Sát hạch thực hành (Miễn kể từ ngày 07/4/2026 đến 30/6/2026 theo Thông tư 40/2026/TT-BTC)",
			Fees: []knowledge.Fee{{Amount: 250000, Label: "Sát hạch thực hành (Miễn kể từ ngày 07/4/2026 đến 30/6/2026 theo Thông tư 40/2026/TT-BTC)"}}}},
			dec2026, []string{"- Nộp trực tuyến: 250.000 đồng"}, []string{"hết thời hạn", "Lưu ý"}},
		{"amounts per channel with their labels", []knowledge.Channel{
			{Kind: knowledge.ChannelInPerson, Fees: []knowledge.Fee{{Amount: 50000, Label: "Lệ phí"}, {Amount: 100000, Label: "Phí thẩm định (mỗi hồ sơ)"}}},
			{Kind: knowledge.ChannelOnline, Fees: []knowledge.Fee{{Amount: 25000, Label: "Lệ phí"}}},
		}, dec2026, []string{"- Nộp trực tiếp: 50.000 đồng (Lệ phí); 100.000 đồng (Phí thẩm định (mỗi hồ sơ))", "- Nộp trực tuyến: 25.000 đồng"}, nil},
		{"an amount in dollars, charged abroad", []knowledge.Channel{{Kind: knowledge.ChannelInPerson, Free: true,
			Text: "10 USD(/bản)", Note: "/bản\nTại cơ quan đại diện: 10 USD/bản."}},
			dec2026, []string{"- Nộp trực tiếp: 10 USD mỗi bản (tại cơ quan đại diện)"}, []string{"Miễn phí", "miễn phí", "kèm ghi chú"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &knowledge.Procedure{Code: "9.999999", Channels: tt.channels}
			got := fees(p, tt.today)
			for _, w := range tt.want {
				assert.Contains(t, got, w)
			}
			for _, n := range tt.not {
				assert.NotContains(t, got, n)
			}
		})
	}
}

// A note is never cut so that its end date disappears.
func TestReductionNoteKeepsDates(t *testing.T) {
	long := "Kể từ ngày 01/7/2025 đến hết ngày 31/12/2026 mức thu lệ phí cấp đổi, cấp lại thẻ căn cước khi công dân nộp hồ sơ theo hình thức trực tuyến và cả theo hình thức trực tiếp tại cơ quan Công an cấp xã nơi cư trú hoặc nơi tạm trú bằng 50% mức thu nêu trên theo quy định tại Thông tư số 64/2025/TT-BTC ngày 30/6/2025 của Bộ Tài chính về mức thu, miễn một số khoản phí."
	got := reductionNote(long, dec2026)
	assert.Contains(t, got, "31/12/2026")
	assert.Contains(t, got, "50%")
	ended := "Kể từ ngày 01/01/2025 đến hết ngày 31/12/2025, mức thu lệ phí theo hình thức trực tuyến bằng 50% mức thu lệ phí quy định."
	assert.Empty(t, reductionNote(ended, dec2026), "an ended reduction is not presented as current")
	assert.NotEmpty(t, reductionNote(ended, jun2025))
}

func TestClipClause(t *testing.T) {
	s := "Giấy tờ, tài liệu có giá trị pháp lý chứng minh quan hệ; trường hợp không có thì nộp văn bản cam đoan đến hết ngày 31/12/2025 theo quy định"
	got := clipClause(s, 80)
	assert.LessOrEqual(t, utf8.RuneCountInString(got), 80)
	assert.True(t, strings.HasSuffix(got, "…"))
	assert.NotRegexp(t, `\d/$|\d…$`, got, "never ends in the middle of a date")
	assert.Equal(t, "ngắn", clipClause("ngắn", 80))
}

func TestTimesHandcrafted(t *testing.T) {
	bare := &knowledge.Procedure{Channels: []knowledge.Channel{
		{Kind: knowledge.ChannelOnline, Time: knowledge.Duration{Value: 1, Text: "1"}},
		{Kind: knowledge.ChannelInPerson, Time: knowledge.Duration{Value: 1, Text: "1"}},
	}}
	assert.Contains(t, times(bare), "- Mọi hình thức nộp: 1 (dữ liệu không ghi rõ đơn vị ngày/giờ)")
	// The civil-status records that carry a bare 1 say in their steps that a dossier is settled the same day.
	bare.Steps = []string{"Bước 2. Trường hợp hồ sơ đầy đủ, hợp lệ thì tiếp nhận hồ sơ; nếu tiếp nhận hồ sơ sau 15 giờ thì có " +
		"Phiếu hẹn, trả kết quả cho người yêu cầu trong ngày làm việc tiếp theo (nếu người yêu cầu nộp hồ sơ trực tiếp)."}
	assert.Contains(t, times(bare), "- Mọi hình thức nộp: 1 (dữ liệu không ghi rõ đơn vị ngày/giờ; phần các bước thực hiện ghi "+
		"\"nếu tiếp nhận hồ sơ sau 15 giờ thì có Phiếu hẹn, trả kết quả cho người yêu cầu trong ngày làm việc tiếp theo\")")
	bare.Steps = []string{"Bước 2. Giải quyết trong 15 ngày làm việc."}
	assert.Contains(t, times(bare), "- Mọi hình thức nộp: 1 (dữ liệu không ghi rõ đơn vị ngày/giờ)", "steps that say something else")

	desc := func(item string) string {
		return "- Cách thức thực hiện: nộp tại cơ quan đăng ký xe. - Thời hạn giải quyết: + " + item + " + Thời gian trả kết quả được tính từ ngày nhận đủ hồ sơ."
	}
	rows := &knowledge.Procedure{Channels: []knowledge.Channel{
		{Kind: knowledge.ChannelInPerson, Time: knowledge.Duration{Value: 2, Unit: "ngày làm việc", Text: "2 Ngày làm việc"}, Text: "Miễn phí",
			Note: desc("Cấp chứng nhận đăng ký xe: Không quá 02 ngày làm việc, kể từ ngày nhận đủ hồ sơ hợp lệ.")},
		{Kind: knowledge.ChannelInPerson, Time: knowledge.Duration{Value: 7, Unit: "ngày làm việc", Text: "7 Ngày làm việc"}, Text: "Miễn phí",
			Note: desc("Cấp lại biển số định danh: Không quá 07 ngày làm việc, kể từ ngày nhận đủ hồ sơ hợp lệ.")},
		{Kind: knowledge.ChannelInPerson, Time: knowledge.Duration{Value: 1, Unit: "giờ", Text: "1 Giờ"}, Text: "Miễn phí",
			Note: desc("Cấp biển số định danh lần đầu: Cấp ngay sau khi tiếp nhận hồ sơ hợp lệ.")},
	}}
	got := times(rows)
	assert.Contains(t, got, "- Nộp trực tiếp: 2 ngày làm việc (Cấp chứng nhận đăng ký xe)")
	assert.Contains(t, got, "- Nộp trực tiếp: 7 ngày làm việc (Cấp lại biển số định danh)")
	assert.Contains(t, got, "- Nộp trực tiếp: 1 giờ (Cấp biển số định danh lần đầu)")

	// A verification the record puts before the time it gives is said with it.
	lost := &knowledge.Procedure{Channels: []knowledge.Channel{{Kind: knowledge.ChannelOnline,
		Time: knowledge.Duration{Value: 2, Unit: "ngày làm việc", Text: "2 Ngày làm việc"}, Text: "Miễn phí",
		Note: desc("Cấp lại chứng nhận đăng ký xe: Phải tiến hành xác minh trong thời hạn 30 ngày, kể từ ngày nhận đủ hồ sơ hợp lệ; sau khi xác minh, nếu đủ điều kiện thì cấp lại trong thời hạn 02 ngày làm việc.")}}}
	assert.Contains(t, times(lost), "- Nộp trực tuyến: 2 ngày làm việc (sau bước xác minh, tối đa 30 ngày)")
}

func TestDocumentsHandcrafted(t *testing.T) {
	g := "1. Trường hợp hưởng BHXH một lần"
	p := &knowledge.Procedure{Dossier: []knowledge.DossierItem{
		{Group: g, Name: "d) Trường hợp bị mắc bệnh nguy hiểm đến tính mạng thì có thêm biên bản giám định", Originals: 1},
		{Group: g, Name: "b) Đơn đề nghị (Mẫu số 14-HSB)", Originals: 1},
		{Group: g, Name: "c) Đối với người ra nước ngoài để định cư phải nộp thêm giấy xác nhận", Copies: 1},
		{Group: g, Name: "a) Sổ BHXH", Originals: 1},
		{Group: "Giấy tờ phải xuất trình", Name: "Giấy tờ chứng minh là người đại diện hợp pháp của người dưới 14 tuổi", Originals: 1},
		{Group: "Giấy tờ phải xuất trình", Name: "Thẻ căn cước", Originals: 1},
	}}
	got := documents(p, 30)
	order := []string{"a) Sổ BHXH", "b) Đơn đề nghị", "c) Đối với người ra nước ngoài", "d) Trường hợp bị mắc bệnh",
		"Giấy tờ phải xuất trình:", "- Thẻ căn cước", "- Tùy trường hợp: Giấy tờ chứng minh là người đại diện hợp pháp của người dưới 14 tuổi"}
	at := -1
	for _, o := range order {
		i := strings.Index(got, o)
		require.GreaterOrEqual(t, i, 0, "%q missing from\n%s", o, got)
		assert.Greater(t, i, at, "%q out of order in\n%s", o, got)
		at = i
	}
}

// Property tests over every record of the real catalog.

var (
	// feeRegulation: the fee note cites the regulation or the body that sets the fee.
	feeRegulation = regexp.MustCompile(`(?i)thông tư|nghị định|nghị quyết|quyết định|luật phí|hội đồng nhân dân|ủy ban nhân dân|mức thu|mức lệ phí|mức phí`)
	// feeAmountText: the fee note names an amount in đồng.
	feeAmountText = regexp.MustCompile(`(?i)\d[\d.,]*\s*(?:đồng|đ\b|vnđ|triệu)`)
	// exemptStart: the note opens by saying there is no fee.
	exemptStart = regexp.MustCompile(`(?i)^[\s(\-+*•]*(?:miễn|không thu|không phải nộp|không được quy định tại biểu)`)
	// timeUnit: a time value that carries a unit.
	timeUnit = regexp.MustCompile(`(?i)^\d+(?:[.,]\d+)?\s+(?:ngày|giờ|tháng|năm|tuần|phút)`)
	// conditionWords are what makes a dossier item conditional, in its first clause.
	conditionWords = regexp.MustCompile(`(?i)trường hợp|nếu|đối với|dưới 14 tuổi`)
)

// strided is every racetest.Stride-th record (all of them without the race detector).
func strided(ps []knowledge.Procedure) []knowledge.Procedure {
	out := make([]knowledge.Procedure, 0, len(ps)/racetest.Stride+1)
	for i := 0; i < len(ps); i += racetest.Stride {
		out = append(out, ps[i])
	}
	return out
}

func TestPropertyNoFreeWhenRegulationOrAmount(t *testing.T) {
	var channels, records, amounts int
	for _, p := range strided(allRecords(t)) {
		section := fees(&p, dec2026)
		hit := false
		for _, c := range p.Channels {
			note, _ := splitChannelNote(c)
			if !c.Free || note == "" || exemptStart.MatchString(note) {
				continue
			}
			if !feeRegulation.MatchString(note) && !feeAmountText.MatchString(note) {
				continue
			}
			channels++
			hit = true
			if feeAmountText.MatchString(note) {
				amounts++
			}
			v := readFee(c, dec2026).value()
			assert.False(t, strings.HasPrefix(v, "miễn phí"), "%s %s: %q says free but the record cites %q", p.Code, c.Kind, v, note)
			for _, prefix := range []string{"- " + channelNames[c.Kind] + ": miễn phí", "- Mọi hình thức nộp: miễn phí"} {
				assert.NotContains(t, section, prefix, "%s", p.Code)
			}
		}
		if hit {
			records++
		}
	}
	t.Logf("%d records, %d channels marked \"Miễn phí\" whose fee note cites a fee regulation or an amount (%d name an amount)", records, channels, amounts)
	assert.Greater(t, records, 150/racetest.Stride)
}

func TestPropertyTimesCarryUnit(t *testing.T) {
	var lines, bare int
	for _, p := range allRecords(t) {
		for _, l := range strings.Split(times(&p), "\n") {
			_, v, ok := strings.Cut(l, ": ")
			if !strings.HasPrefix(l, "- ") || !ok {
				continue
			}
			lines++
			switch {
			case strings.Contains(v, noUnit):
				bare++
			case strings.HasPrefix(v, "chưa có thông tin"):
			case regexp.MustCompile(`^\d`).MatchString(v):
				assert.Regexp(t, timeUnit, v, "%s: a time without its unit", p.Code)
			}
		}
	}
	t.Logf("%d time lines, %d say the record gives no unit", lines, bare)
}

func TestPropertyConditionalItemsKeepCondition(t *testing.T) {
	var items, conditional int
	for _, p := range allRecords(t) {
		shown := documents(&p, 30)
		for _, d := range everyoneFirst(p.Dossier, "") {
			items++
			first := d.Name
			if i := strings.IndexAny(first, ";"); i >= 0 {
				first = first[:i]
			}
			if i := strings.Index(first, ". "); i >= 0 {
				first = first[:i]
			}
			m := conditionWords.FindString(first)
			if m == "" {
				continue
			}
			conditional++
			text := itemText(d)
			if !strings.HasPrefix(text, conditionalPrefix) {
				assert.Contains(t, strings.ToLower(text), strings.ToLower(m), "%s: %q lost its condition", p.Code, d.Name)
			}
			if d.Originals > 0 || d.Copies > 0 || d.Form != "" {
				if strings.Count(shown, "\n- ") < 30 { // everything of the record is shown
					assert.Contains(t, shown, "- "+text, "%s", p.Code)
				}
			}
		}
	}
	t.Logf("%d dossier items, %d conditional", items, conditional)
}

func TestPropertyAnswersWithinLimit(t *testing.T) {
	all := []Intent{IntentDocuments, IntentFee, IntentTime, IntentWhere, IntentOnline, IntentSteps,
		IntentRequirements, IntentResult, IntentLegal}
	// The chat-sized answer is checked by TestComposeWholeCatalogWithinLimit; this is the "more" answer.
	for _, p := range strided(allRecords(t)) {
		text := compose(&p, all, true, place{}, "")
		require.LessOrEqual(t, utf8.RuneCountInString(text), MaxAnswerRunes, p.Code)
	}
}

// A percentage reduction in force today is stated as the amount payable, with its end date and the normal
// amount; once it ends, the normal amount is the fee again.
func TestCurrentReductionIsPayable(t *testing.T) {
	var p knowledge.Procedure
	for _, r := range allRecords(t) {
		if r.Code == "1.014064" { // Cấp lại thẻ căn cước: 70.000 đồng, 50% from 01/7/2025 to 31/12/2026
			p = r
		}
	}
	require.Equal(t, "1.014064", p.Code)
	now := fees(&p, dec2026)
	assert.Contains(t, now, "35.000 đồng (giảm còn 50% đến hết ngày 31/12/2026, mức gốc 70.000 đồng)")
	later := fees(&p, time.Date(2027, 1, 2, 9, 0, 0, 0, time.UTC))
	assert.Contains(t, later, "70.000 đồng")
	assert.NotContains(t, later, "35.000")
	// On 1 June 2025 only the earlier reduction (online filing, to 31/12/2025) was in force.
	before := fees(&p, time.Date(2025, 6, 1, 9, 0, 0, 0, time.UTC))
	assert.Contains(t, before, "Nộp trực tiếp: 70.000 đồng (Cấp lại", "the later reduction had not begun")
	assert.Contains(t, before, "Nộp trực tuyến: 35.000 đồng (giảm còn 50% đến hết ngày 31/12/2025")
}

// Who is exempt from an amount is said beside it: the relatives adopting a child pay nothing.
func TestExemptionBesideAmount(t *testing.T) {
	var p knowledge.Procedure
	for _, r := range allRecords(t) {
		if r.Code == "2.001263" { // Đăng ký việc nuôi con nuôi trong nước: 400.000 đồng, with exemptions
			p = r
		}
	}
	require.Equal(t, "2.001263", p.Code)
	got := fees(&p, dec2026)
	assert.Contains(t, got, "400.000 đồng")
	assert.Contains(t, got, "Lưu ý: Miễn lệ phí đăng ký nuôi con nuôi trong nước đối với trường hợp cha dượng")
	assert.Contains(t, got, "cô, cậu, dì, chú, bác ruột nhận cháu làm con nuôi")
}

// TestPropertyFirstAnswerKeepsExceptions: a paper that the record spares some people ("Giấy khám sức khỏe …
// (trừ người có giấy phép lái xe hạng A1, A, B1)") or asks only of some ("(đối với người nước ngoài, …)") keeps
// that parenthesis when the first answer shows it shortened — without it, it reads as required of everyone.
func TestPropertyFirstAnswerKeepsExceptions(t *testing.T) {
	checked, missed := 0, 0
	for _, p := range allRecords(t) {
		shown := listDocumentsFirst(dossierToShow(&p, ""), 8, true)
		items := map[string]bool{}
		for _, d := range p.Dossier {
			items[strings.TrimRight(strings.Join(strings.Fields(d.Name), " "), " .")] = true
		}
		for _, d := range p.Dossier {
			exc := itemException.FindString(ownPart(d.Name))
			if exc == "" {
				continue
			}
			whole := strings.Join(strings.Fields(d.Name), " ")
			for _, line := range strings.Split(shown, "\n") {
				text, ok := strings.CutPrefix(line, "- ")
				if !ok || strings.HasPrefix(text, conditionalPrefix) {
					continue // a heading, or the line that names the papers for particular cases as such
				}
				if q := strings.LastIndex(text, " ("); q > 0 && strings.Contains(text[q:], " bản ") {
					text = text[:q] // the quantity
				}
				name := strings.TrimRight(strings.TrimSuffix(text, " "+exc), " .")
				if utf8.RuneCountInString(name) < 12 || !strings.HasPrefix(whole, name) || strings.Contains(name, exc) || items[name] {
					continue // another paper, or the whole item with its exception inside
				}
				checked++
				if !strings.Contains(text, exc) {
					missed++
					t.Logf("%s: %q without %q", p.Code, line, exc)
				}
			}
		}
	}
	t.Logf("%d shown papers with an exception, %d without it", checked, missed)
	assert.GreaterOrEqual(t, checked, 10)
	// The few left are items the portal merged with the next one or whose first parenthesis is not the exception
	// of the part shown; before withException, 339 of 470 lost it.
	assert.LessOrEqual(t, float64(missed), 0.02*float64(checked))
}
