package ingest

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/trolyao/trolyao/knowledge"
	"github.com/trolyao/trolyao/knowledge/storetest"
)

// dataDir is the real data folder: $TROLYAO_DATA, or ../shared/data beside the repository.
func dataDir(t testing.TB) string { return storetest.DataDir(t) }

func crawlDir(t testing.TB) string { return filepath.Join(dataDir(t), "procedures", "dvcqg-2026") }

// The whole crawl is parsed once per test binary and shared by the tests that need all of it.
var crawl struct {
	once     sync.Once
	ps       []knowledge.Procedure
	problems []Problem
	err      error
}

func readCrawl(t testing.TB) []knowledge.Procedure {
	t.Helper()
	dir := crawlDir(t)
	crawl.once.Do(func() { crawl.ps, crawl.problems, crawl.err = ReadPortalDir(dir) })
	require.NoError(t, crawl.err)
	require.Empty(t, crawl.problems, "the real crawl should parse without problems")
	return crawl.ps
}

// readRecord parses one real crawled record.
func readRecord(t *testing.T, ministry, code string) knowledge.Procedure {
	t.Helper()
	path := filepath.Join(crawlDir(t), ministry, code+".json")
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	p, err := ParsePortalRecord(data, path, ministry)
	require.NoError(t, err)
	return p
}

// item finds the dossier item whose name starts with prefix.
func item(t *testing.T, p knowledge.Procedure, prefix string) knowledge.DossierItem {
	t.Helper()
	for _, d := range p.Dossier {
		if strings.HasPrefix(d.Name, prefix) {
			return d
		}
	}
	require.Failf(t, "no dossier item", "%s has no dossier item starting with %q", p.Code, prefix)
	return knowledge.DossierItem{}
}

func legalNumbers(p knowledge.Procedure) []string {
	var out []string
	for _, l := range p.Legal {
		out = append(out, l.Number)
	}
	return out
}

func amounts(c knowledge.Channel) []int64 {
	var out []int64
	for _, f := range c.Fees {
		out = append(out, f.Amount)
	}
	return out
}

func kinds(p knowledge.Procedure) []knowledge.ChannelKind {
	var out []knowledge.ChannelKind
	for _, c := range p.Channels {
		out = append(out, c.Kind)
	}
	return out
}

const (
	online   = knowledge.ChannelOnline
	postal   = knowledge.ChannelPostal
	inPerson = knowledge.ChannelInPerson
)

// TestParsePortalRecordReal checks key fields of real procedures from every ministry against what their records
// say (read from the crawl, not copied here).
func TestParsePortalRecordReal(t *testing.T) {
	tests := []struct {
		ministry, code string
		check          func(t *testing.T, p knowledge.Procedure)
	}{
		{"bo-tu-phap", "1.001193", func(t *testing.T, p knowledge.Procedure) {
			assert.Equal(t, "Thủ tục đăng ký khai sinh", p.Name)
			assert.Equal(t, []knowledge.Level{knowledge.LevelCommune}, p.Levels)
			assert.Equal(t, "Hộ tịch", p.Field)
			assert.Equal(t, "163/QĐ-BTP", p.Decision)
			assert.Equal(t, "Giấy khai sinh", p.Result)
			assert.Equal(t, []string{"Công dân Việt Nam", "Người Việt Nam định cư ở nước ngoài"}, p.Subjects)
			assert.Equal(t, []knowledge.ChannelKind{online, postal, inPerson}, kinds(p))
			for _, c := range p.Channels {
				// The portal gives a bare "1" with no unit.
				assert.Equal(t, knowledge.Duration{Value: 1, Text: "1"}, c.Time)
				assert.True(t, c.Free)
				assert.Empty(t, c.Fees)
			}
			assert.Len(t, p.Dossier, 33)
			d := p.Dossier[0]
			assert.Equal(t, "Trường hợp trẻ em bị bỏ rơi thì phải có biên bản về việc trẻ bị bỏ rơi do cơ quan có thẩm quyền lập.", d.Name)
			assert.Equal(t, 1, d.Originals)
			assert.Equal(t, "Giấy tờ phải nộp", d.Group)
			d = item(t, p, "Giấy chứng sinh; trường hợp không có Giấy chứng sinh")
			assert.Equal(t, 1, d.Originals)
			assert.Equal(t, 0, d.Copies)
			d = item(t, p, "Hộ chiếu/Thẻ căn cước công dân/Thẻ căn cước")
			assert.Equal(t, "Giấy tờ phải xuất trình", d.Group)
			d = item(t, p, "Trường hợp người yêu cầu đã nộp bản điện tử Giấy chứng sinh")
			assert.Equal(t, 0, d.Originals, "a note row keeps its 0 bản chính")
			assert.Subset(t, legalNumbers(p), []string{"85/2019/TT-BTC", "104/2022/NĐ-CP", "123/2015/NĐ-CP",
				"66.7/2025/NQ-CP", "60/2014/QH13", "01/2022/TT-BTP", "18/2026/NĐ-CP"})
			assert.Len(t, p.Legal, 15)
			assert.Equal(t, "https://dichvucong.gov.vn/thu-tuc-hanh-chinh/019d2bfd-3fe0-70ac-b9d6-5e9e20d6eef7", p.URL)
			assert.NotEmpty(t, p.Steps)
			assert.True(t, strings.HasPrefix(p.Steps[0], "Nếu lựa chọn hình thức nộp hồ sơ trực tiếp"), p.Steps[0])
		}},
		{"bo-cong-an", "1.004222", func(t *testing.T, p knowledge.Procedure) {
			assert.Equal(t, "Đăng ký thường trú", p.Name)
			assert.Equal(t, []knowledge.ChannelKind{online, inPerson}, kinds(p))
			on, in := p.Channels[0], p.Channels[1]
			assert.Equal(t, knowledge.Duration{Value: 7, Unit: "ngày làm việc", Text: "7 Ngày làm việc"}, on.Time)
			assert.Equal(t, []int64{10_000}, amounts(on))
			assert.Contains(t, on.Fees[0].Label, "cổng dịch vụ công trực tuyến")
			assert.Equal(t, []int64{20_000}, amounts(in))
			assert.False(t, on.Free || in.Free || on.FeeNA)
			assert.Len(t, p.Dossier, 18)
			d := item(t, p, "Giấy tờ, tài liệu xác nhận về việc chăm sóc, nuôi dưỡng, trợ giúp.")
			assert.Equal(t, 1, d.Originals)
			assert.True(t, strings.HasPrefix(d.Group, "Người được chăm sóc, nuôi dưỡng, trợ giúp được đăng ký thường trú"), d.Group)
			assert.Subset(t, legalNumbers(p), []string{"66.7/2025/NQ-CP", "53/2025/TT-BCA", "68/2020/QH14", "154/2024/NĐ-CP", "58/2026/NĐ-CP"})
			assert.Equal(t, []string{"Công an cấp Xã"}, p.Agencies)
			assert.Contains(t, p.Result, "Cập nhật thông tin trong Cơ sở dữ liệu quốc gia về dân cư")
		}},
		{"bo-cong-an", "1.004194", func(t *testing.T, p knowledge.Procedure) {
			assert.Equal(t, "Đăng ký tạm trú", p.Name)
			on, _ := p.Channel(online)
			in, _ := p.Channel(inPerson)
			assert.Equal(t, 3.0, on.Time.Value)
			assert.Equal(t, "ngày làm việc", on.Time.Unit)
			assert.Equal(t, []int64{7_000}, amounts(on))
			assert.Equal(t, []int64{10_000}, amounts(in))
			// The amount is for registering by list only: the heading of its case stays in the label.
			assert.Equal(t, "Đăng ký tạm trú theo danh sách: trường hợp công dân nộp hồ sơ trực tiếp (mỗi người/lần đăng ký)", in.Fees[0].Label)
			assert.Equal(t, "Đăng ký tạm trú (cá nhân, hộ gia đình): trường hợp công dân nộp hồ sơ qua cổng dịch vụ công trực tuyến (mỗi lần đăng ký)", on.Fees[0].Label)
			assert.Contains(t, in.Note, "Nộp hồ sơ trực tiếp tại Công an cấp xã")
			assert.Len(t, p.Dossier, 9)
			d := item(t, p, "Văn bản đề nghị đăng ký tạm trú, trong đó ghi rõ thông tin về chỗ ở hợp pháp")
			assert.Equal(t, 1, d.Originals)
			assert.Equal(t, 1, d.Copies)
			assert.Equal(t, "Đăng ký tạm trú theo danh sách, hồ sơ gồm", d.Group)
			d = item(t, p, "Tờ khai thay đổi thông tin cư trú (của từng người)")
			assert.Equal(t, "1.MuCT01banhnhkmtheoThngts53.doc", d.Form)
			assert.Equal(t, "Tờ khai thay đổi thông tin cư trú (của từng người) (Mẫu CT01 ban hành kèm theo Thông tư số 53/2025/TT-BCA).", d.Name)
			assert.Equal(t, "Hồ sơ đăng ký tạm trú gồm", p.Dossier[0].Group)
			assert.Subset(t, legalNumbers(p), []string{"85/2019/TT-BTC", "75/2022/TT-BTC", "55/2021/TT-BCA"})
		}},
		{"bo-cong-an", "1.014064", func(t *testing.T, p knowledge.Procedure) {
			assert.Equal(t, "Cấp lại thẻ căn cước", p.Name)
			assert.Equal(t, []knowledge.ChannelKind{inPerson, online, postal}, kinds(p))
			for _, c := range p.Channels[:2] {
				assert.Equal(t, 7.0, c.Time.Value)
				assert.Equal(t, []int64{70_000}, amounts(c))
				assert.Contains(t, c.Note, "đến hết ngày 31/12/2026", "the temporary 50% reduction stays in the note")
			}
			assert.True(t, p.Channels[2].FeeNA)
			assert.Empty(t, p.Channels[2].Fees)
			require.Len(t, p.Dossier, 4)
			assert.Equal(t, 0, p.Dossier[0].Originals)
			assert.Equal(t, "Phiếu đề nghị giải quyết thủ tục về căn cước (Mẫu DC02 ban hành kèm theo Thông tư số 17/2024/TT-BCA của Bộ Công an)", p.Dossier[1].Name)
			assert.Equal(t, "Mẫu DC02 Phiếu đề nghị giải quyết thủ tục về căn cước.doc", p.Dossier[1].Form)
			assert.Equal(t, 1, p.Dossier[1].Originals)
			assert.Contains(t, legalNumbers(p), "26/2023/QH15")
			assert.Equal(t, "Thẻ căn cước", p.Result)
		}},
		{"bo-tai-chinh", "1.001612", func(t *testing.T, p knowledge.Procedure) {
			assert.Equal(t, "Đăng ký thành lập hộ kinh doanh", p.Name)
			assert.Equal(t, []knowledge.Level{knowledge.LevelCentral, knowledge.LevelCommune}, p.Levels)
			assert.Equal(t, []knowledge.ChannelKind{online, postal, inPerson}, kinds(p))
			for _, c := range p.Channels {
				assert.Equal(t, knowledge.Duration{Text: "Không có thông tin"}, c.Time)
			}
			assert.Equal(t, []int64{150_000}, amounts(p.Channels[0]))
			assert.Equal(t, []int64{150_000}, amounts(p.Channels[1]))
			assert.Equal(t, []int64{50_000}, amounts(p.Channels[2]))
			assert.Len(t, p.Dossier, 8)
			d := item(t, p, "(i) Trường hợp ủy quyền cho cá nhân")
			assert.Equal(t, 0, d.Originals)
			assert.Equal(t, 1, d.Copies)
			assert.Equal(t, "Trường hợp ủy quyền thực hiện thủ tục thì hồ sơ phải kèm theo một trong những giấy tờ sau", d.Group)
			d = item(t, p, "Giấy đề nghị đăng ký hộ kinh doanh")
			assert.Equal(t, 1, d.Originals)
			assert.Equal(t, "", d.Group)
			assert.Equal(t, []string{"76/2025/QH15", "68/2025/TT-BTC", "168/2025/NĐ-CP", "85/2019/TT-BTC", "59/2020/QH14"}, legalNumbers(p))
			assert.Equal(t, "Luật Doanh nghiệp", p.Legal[4].Title)
		}},
		{"bo-tu-phap", "2.000815", func(t *testing.T, p knowledge.Procedure) {
			assert.Equal(t, []knowledge.Level{knowledge.LevelCommune, knowledge.LevelOther}, p.Levels)
			require.Len(t, p.Channels, 2)
			c := p.Channels[0]
			assert.Equal(t, inPerson, c.Kind)
			assert.Equal(t, []int64{2_000, 1_000, 200_000}, amounts(c))
			assert.Equal(t, "Phí, lệ phí (mỗi trang)", c.Fees[0].Label)
			assert.Equal(t, "2,000 Việt Nam Đồng(/trang)", c.Text)
			c = p.Channels[1]
			assert.Empty(t, c.Fees, "10 USD is not an amount in đồng")
			assert.False(t, c.Free || c.FeeNA)
			assert.Equal(t, "10 USD(/bản)", c.Text)
			assert.Contains(t, c.Note, "10 USD/bản")
			require.Len(t, p.Dossier, 1)
			assert.Equal(t, 1, p.Dossier[0].Originals)
			assert.Equal(t, []string{"Tổ chức hành nghề công chứng", "Cơ quan đại diện có thẩm quyền"}, p.Agencies)
			assert.Contains(t, legalNumbers(p), "23/2015/NĐ-CP")
		}},
		{"bo-cong-an", "1.013076", func(t *testing.T, p knowledge.Procedure) {
			assert.Equal(t, []knowledge.Level{knowledge.LevelCentral, knowledge.LevelProvince, knowledge.LevelCommune}, p.Levels)
			require.Len(t, p.Channels, 6)
			var times []string
			for _, c := range p.Channels {
				assert.True(t, c.Free)
				times = append(times, c.Time.Text)
			}
			assert.Equal(t, []string{"2 Ngày làm việc", "2 Ngày làm việc", "7 Ngày làm việc", "1 Giờ", "7 Ngày làm việc", "1 Giờ"}, times)
			assert.Equal(t, "giờ", p.Channels[3].Time.Unit)
			require.Len(t, p.Dossier, 10)
			d := item(t, p, "02 bản chà số máy, số khung của xe")
			assert.Equal(t, 1, d.Originals)
			assert.Equal(t, "1. Hồ sơ thu hồi", d.Group)
			d = item(t, p, "Giấy khai thu hồi chứng nhận đăng ký xe, biển số xe")
			assert.Equal(t, "MauKX11.docx", d.Form)
			assert.Equal(t, "2. Hồ sơ đăng ký", p.Dossier[9].Group)
			assert.Equal(t, []string{"79/2024/TT-BCA", "06/2025/TT-BTC", "60/2023/TT-BTC", "13/2025/TT-BCA", "36/2024/QH15"}, legalNumbers(p))
			assert.Equal(t, "Giấy chứng nhận thu hồi đăng ký, biển số xe; Giấy chứng nhận đăng ký xe", p.Result)
		}},
		{"bo-xay-dung", "1.005103", func(t *testing.T, p knowledge.Procedure) {
			// "Trực tuyến140,000 Việt Nam Đồng(- Xe ô tô từ 10 chỗ trở lên)": a bare time 1, then 40,000 đồng.
			require.Len(t, p.Channels, 3)
			for _, c := range p.Channels {
				assert.Equal(t, knowledge.Duration{Value: 1, Text: "1"}, c.Time)
				assert.Equal(t, []int64{40_000}, amounts(c))
				assert.Equal(t, "Xe ô tô từ 10 chỗ trở lên", c.Fees[0].Label)
			}
			assert.Len(t, p.Dossier, 19)
		}},
		{"bo-tai-chinh", "2.002011", func(t *testing.T, p knowledge.Procedure) {
			// "Trực tuyến1100 VNĐ(Phí công bố …: 100.000 đồng/lần …)": time 1, 100 thousand đồng;
			// "Trực tiếp125 VNĐ(- Lệ phí đăng ký doanh nghiệp: Bằng 50% …)": time 1, 25 thousand đồng.
			require.Len(t, p.Channels, 3)
			assert.Equal(t, 1.0, p.Channels[0].Time.Value)
			assert.Equal(t, []int64{100_000}, amounts(p.Channels[0]))
			assert.Equal(t, "Phí công bố nội dung đăng ký doanh nghiệp (mỗi lần)", p.Channels[0].Fees[0].Label)
			assert.Equal(t, 1.0, p.Channels[2].Time.Value)
			assert.Equal(t, []int64{25_000}, amounts(p.Channels[2]))
			assert.Len(t, p.Dossier, 94)
		}},
		{"ngan-hang-nha-nuoc", "1.002031", func(t *testing.T, p knowledge.Procedure) {
			require.Len(t, p.Channels, 3)
			for _, c := range p.Channels {
				assert.Equal(t, knowledge.Duration{Value: 22, Unit: "ngày làm việc", Text: "22 Ngày làm việc"}, c.Time)
				assert.Equal(t, []int64{5_000_000}, amounts(c))
				assert.Contains(t, c.Note, "10 ngày làm việc đối với cấp lại do Giấy phép bị mất")
			}
			require.Len(t, p.Dossier, 2)
			assert.Equal(t, "Mẫu số 11.docx", p.Dossier[0].Form)
			assert.Equal(t, []string{"52/2024/NĐ-CP", "66.16/2026/NQ-CP", "22/2026/TT-NHNN", "24/2026/NQ-CP"}, legalNumbers(p))
			assert.Equal(t, "Nghị định quy định về thanh toán không dùng tiền mặt", p.Legal[0].Title)
		}},
		{"toa-an-nhan-dan", "3.000164", func(t *testing.T, p knowledge.Procedure) {
			assert.Equal(t, []knowledge.ChannelKind{online, inPerson}, kinds(p))
			require.Len(t, p.Dossier, 2)
			assert.Equal(t, knowledge.DossierItem{Name: "Thông tin vụ/việc", Group: "Giấy tờ phải nộp"}, p.Dossier[1])
			// The legal field runs into the next section ("Cơ quan thực hiện…") in the crawl.
			assert.Equal(t, []string{"02/2012/NQ-HĐTP", "110/2015/QH13", "21/2014/L-CTN", "56/2010/QH12"}, legalNumbers(p))
			assert.Equal(t, "Văn bản tố tụng của Tòa án theo tiến trình giải quyết", p.Result)
		}},
		{"bo-nong-nghiep-mt", "1.004228", func(t *testing.T, p knowledge.Procedure) {
			require.Len(t, p.Channels, 3)
			for _, c := range p.Channels {
				assert.Equal(t, 24.0, c.Time.Value)
				assert.True(t, c.Free)
				assert.Equal(t, "do Ủy ban nhân dân cấp tỉnh quy định.", c.Note)
			}
			require.Len(t, p.Dossier, 2)
			assert.Equal(t, "Văn bản đề nghị gia hạn/điều chỉnh giấy phép thăm dò nước dưới đất theo Mẫu 02 Phụ lục I Nghị định số 23/2026/NĐ-CP.", p.Dossier[0].Name)
			assert.Equal(t, "Mau02.docx", p.Dossier[0].Form)
			assert.Equal(t, "Mau37.docx", p.Dossier[1].Form)
			assert.Contains(t, legalNumbers(p), "28/2023/QH15")
		}},
		{"bo-tai-chinh", "1.001613", func(t *testing.T, p knowledge.Procedure) {
			// The crawler cut the steps at "(Thành phần hồ sơ)"; steps and dossier come from the page text.
			assert.Contains(t, p.Steps, "Bước 2. Cơ quan BHXH tiếp nhận hồ sơ và giải quyết theo quy định.")
			d := item(t, p, "a) Sổ BHXH")
			assert.Equal(t, 1, d.Originals)
			assert.Equal(t, "1. Trường hợp hưởng BHXH một lần", d.Group)
			assert.Equal(t, 1, item(t, p, "b) Đơn đề nghị (Mẫu số 14-HSB)").Originals)
		}},
		{"bo-cong-an", "3.000337", func(t *testing.T, p knowledge.Procedure) {
			// The crawler cut the channel table at "Căn cứ pháp lý:" inside a fee note.
			assert.Equal(t, []knowledge.ChannelKind{online, postal, inPerson}, kinds(p))
			for _, c := range p.Channels {
				assert.Equal(t, "1 Ngày", c.Time.Text)
				assert.Contains(t, c.Note, "Thông tư 269/2016/TT-BTC")
			}
			assert.Empty(t, p.Legal, "the page says Không có thông tin")
		}},
		{"bo-tai-chinh", "1.009824", func(t *testing.T, p knowledge.Procedure) {
			// A free-text time cell.
			require.Len(t, p.Channels, 3)
			for _, c := range p.Channels {
				assert.True(t, strings.HasPrefix(c.Time.Text, "Hệ thống giải quyết thủ tục hành chính ngành Thuế"), c.Time.Text)
				assert.Zero(t, c.Time.Value)
				assert.True(t, c.FeeNA)
			}
			assert.Equal(t, "Tại Trung tâm phục vụ hành chính công cấp tỉnh, xã", p.Channels[0].Note)
		}},
	}
	ministries := map[string]bool{}
	for _, tt := range tests {
		ministries[tt.ministry] = true
		t.Run(tt.code, func(t *testing.T) {
			p := readRecord(t, tt.ministry, tt.code)
			assert.Equal(t, tt.code, p.Code)
			assert.Equal(t, tt.ministry, p.Ministry)
			assert.Equal(t, PortalSource, p.Source)
			assert.Equal(t, PortalCrawlDate, p.SourceDate)
			tt.check(t, p)
		})
	}
	assert.Len(t, ministries, 7, "every ministry of the crawl is covered")
}

func TestPortalNames(t *testing.T) {
	// Stray newlines and doubled spaces are collapsed, tone marks placed canonically (Uỷ → Ủy); a name written
	// twice is kept once.
	p := readRecord(t, "bo-xay-dung", "6.006577")
	assert.Equal(t, "Thẩm định đề án phân loại đô thị loại I, II, III và loại IV", p.Name)
	p = readRecord(t, "bo-tai-chinh", "1.009644")
	assert.Equal(t, "Thủ tục điều chỉnh Quyết định chấp thuận nhà đầu tư thuộc thẩm quyền của Chủ tịch Ủy ban nhân dân cấp tỉnh", p.Name)
	assert.NotContains(t, p.Name, "\n")
}

// TestPortalCoverage parses the whole crawl and checks how much of it is structured.
func TestPortalCoverage(t *testing.T) {
	ps := readCrawl(t)
	require.Len(t, ps, 2642)
	c := Measure(ps)
	t.Logf("coverage of the national-portal crawl:\n%s", c)
	assert.GreaterOrEqual(t, c.Share(c.WithChannel), 0.99, "procedures with at least one parsed channel")
	assert.GreaterOrEqual(t, c.Share(c.WithDossier), 0.98, "procedures with at least one dossier item")
	assert.GreaterOrEqual(t, c.Share(c.WithFee), 0.85, "procedures with a parsed fee")
	assert.GreaterOrEqual(t, c.Share(c.WithTime), 0.80, "procedures with a parsed time")
	assert.GreaterOrEqual(t, c.Share(c.WithLegal), 0.95, "procedures with legal basis")
	assert.GreaterOrEqual(t, c.Share(c.WithSteps), 0.99, "procedures with steps")

	perMinistry := map[string]int{}
	codes := map[string]bool{}
	for i, p := range ps {
		perMinistry[p.Ministry]++
		assert.False(t, codes[p.Code], "code %s twice", p.Code)
		codes[p.Code] = true
		if i > 0 {
			assert.Less(t, ps[i-1].Code, p.Code, "sorted by code")
		}
		assert.NoError(t, validateProcedure(&ps[i]))
		assert.NotContains(t, p.Name, "\n")
		for _, ch := range p.Channels {
			assert.NotEmpty(t, ch.Kind, p.Code)
			for _, f := range ch.Fees {
				assert.Positive(t, f.Amount, p.Code)
				assert.NotEmpty(t, f.Label, p.Code)
			}
		}
		for _, d := range p.Dossier {
			assert.NotEmpty(t, d.Name, p.Code)
		}
	}
	assert.Equal(t, map[string]int{"bo-tai-chinh": 706, "bo-nong-nghiep-mt": 537, "bo-xay-dung": 525, "bo-cong-an": 339,
		"bo-tu-phap": 271, "ngan-hang-nha-nuoc": 261, "toa-an-nhan-dan": 3}, perMinistry)
	commune := 0
	for _, p := range ps {
		if p.HasLevel(knowledge.LevelCommune) {
			commune++
		}
	}
	assert.Equal(t, 588, commune, "procedures handled at commune level")
}

func TestParsePortalRecordInvalid(t *testing.T) {
	valid, err := os.ReadFile(filepath.Join("testdata", "portal", "bo-thu-nghiem", "9.000001.json"))
	require.NoError(t, err)
	long := strings.Repeat("a", knowledge.MaxFieldRunes+1)
	tests := []struct {
		name  string
		data  []byte
		field string
	}{
		{"not JSON", []byte(`{"ma_thu_tuc": "1.000001", `), "json"},
		{"a number where a string belongs", []byte(`{"ma_thu_tuc": 1, "ten_thu_tuc": "X"}`), "json"},
		{"two values", []byte(`{"ma_thu_tuc": "1.000001", "ten_thu_tuc": "X"} {}`), "json"},
		{"missing code", []byte(`{"ten_thu_tuc": "Thủ tục"}`), "ma_thu_tuc"},
		{"blank name", []byte(`{"ma_thu_tuc": "1.000001", "ten_thu_tuc": " \n "}`), "ten_thu_tuc"},
		{"placeholder name", []byte(`{"ma_thu_tuc": "1.000001", "ten_thu_tuc": "Không có thông tin"}`), "ten_thu_tuc"},
		{"code with a slash", []byte(`{"ma_thu_tuc": "../1", "ten_thu_tuc": "X"}`), "ma_thu_tuc"},
		{"field too long", []byte(`{"ma_thu_tuc": "1.000001", "ten_thu_tuc": "X", "raw_text": "` + long + `"}`), "raw_text"},
		{"record too large", append(bytes.Repeat([]byte(" "), knowledge.MaxRecordBytes), valid...), "size"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParsePortalRecord(tt.data, "x.json", "bo-x")
			require.Error(t, err)
			assert.True(t, errors.Is(err, knowledge.ErrInvalid), err)
			var fe *FieldError
			require.True(t, errors.As(err, &fe), err)
			assert.Equal(t, tt.field, fe.Field)
			assert.Contains(t, err.Error(), "x.json")
		})
	}
}

func TestParsePortalRecordHandWritten(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "portal", "bo-thu-nghiem", "9.000001.json"))
	require.NoError(t, err)
	p, err := ParsePortalRecord(data, "9.000001.json", "bo-thu-nghiem")
	require.NoError(t, err)
	assert.Equal(t, "9.000001", p.Code)
	assert.Equal(t, "Cấp giấy phép thử nghiệm", p.Name)
	assert.Equal(t, []knowledge.Level{knowledge.LevelProvince, knowledge.LevelCommune}, p.Levels)
	assert.Empty(t, p.Related, "Không có thông tin means nothing")
	require.Len(t, p.Channels, 2)
	assert.Equal(t, []int64{135_000, 115_000}, amounts(p.Channels[0]))
	assert.Equal(t, "Lệ phí cấp giấy phép (mỗi lần)", p.Channels[0].Fees[0].Label)
	assert.True(t, p.Channels[0].Free)
	assert.Equal(t, knowledge.Duration{Value: 5, Unit: "ngày làm việc", Text: "5 Ngày làm việc"}, p.Channels[0].Time)
	assert.True(t, p.Channels[1].FeeNA)
	assert.Equal(t, knowledge.Duration{Value: 30, Unit: "ngày", Text: "30 Ngày"}, p.Channels[1].Time)
	require.Len(t, p.Dossier, 3)
	assert.Equal(t, knowledge.DossierItem{Name: "Đơn đề nghị", Form: "Mẫu 01.docx", Originals: 1, Group: "Giấy tờ phải nộp"}, p.Dossier[0])
	assert.Equal(t, knowledge.DossierItem{Name: "Bản sao giấy tờ tùy thân", Originals: 0, Copies: 1, Group: "Giấy tờ phải nộp"}, p.Dossier[1])
	assert.Equal(t, knowledge.DossierItem{Name: "Hộ chiếu", Originals: 1, Group: "Giấy tờ phải xuất trình"}, p.Dossier[2])
	assert.Equal(t, []knowledge.LegalDoc{{Title: "Luật Thử nghiệm", Number: "12/2024/QH15"},
		{Title: "Nghị định hướng dẫn", Number: "34/2025/NĐ-CP"}}, p.Legal)
	assert.Equal(t, "Giấy phép thử nghiệm", p.Result)
}

func TestReadPortalDir(t *testing.T) {
	ps, problems, err := ReadPortalDir(filepath.Join("testdata", "portal"))
	require.NoError(t, err)
	var codes []string
	for _, p := range ps {
		codes = append(codes, p.Code+"@"+p.Ministry)
	}
	assert.Equal(t, []string{"9.000001@bo-thu-nghiem", "9.000002@bo-thu-nghiem"}, codes,
		"sorted by code; the duplicate in a later path is dropped")
	got := map[string]string{}
	for _, p := range problems {
		assert.NotEmpty(t, p.Reason)
		got[filepath.Base(p.File)] = p.Field
	}
	assert.Equal(t, map[string]string{
		"9.000001.json":   "ma_thu_tuc", // bo-zz repeats 9.000001
		"broken.json":     "json",
		"no-name.json":    "ten_thu_tuc",
		"no-code.json":    "ma_thu_tuc",
		"wrong-type.json": "json",
	}, got)
	for _, p := range problems {
		if filepath.Base(p.File) == "9.000001.json" {
			assert.Contains(t, p.File, "bo-zz")
			assert.Contains(t, p.String(), "duplicate procedure code 9.000001")
		}
	}

	_, _, err = ReadPortalDir(filepath.Join("testdata", "no-such-dir"))
	require.Error(t, err)
}

// ReadCatalogProgress reports the files of a crawl as they are read: never backwards, never past the total,
// the last report with every file read.
func TestReadCatalogProgress(t *testing.T) {
	dir := filepath.Join("testdata", "portal")
	var files int
	require.NoError(t, filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && filepath.Ext(path) == ".json" {
			files++
		}
		return err
	}))
	type report struct{ done, total int }
	var got []report
	ps, _, err := ReadCatalogProgress(dir, func(stage string, done, total int) {
		assert.Equal(t, "read", stage)
		got = append(got, report{done, total})
	})
	require.NoError(t, err)
	require.Len(t, ps, 2)
	require.NotEmpty(t, got)
	assert.Equal(t, report{files, files}, got[len(got)-1])
	for i, r := range got {
		assert.Equal(t, files, r.total)
		assert.LessOrEqual(t, r.done, r.total)
		if i > 0 {
			assert.GreaterOrEqual(t, r.done, got[i-1].done, "progress went backwards")
		}
	}
}

func TestReadPortalDirOversized(t *testing.T) {
	dir := t.TempDir()
	sub := filepath.Join(dir, "bo-x")
	require.NoError(t, os.MkdirAll(sub, 0o755))
	big := append([]byte(`{"ma_thu_tuc":"9.000009","ten_thu_tuc":"X","raw_text":"`), bytes.Repeat([]byte("a"), knowledge.MaxRecordBytes)...)
	big = append(big, `"}`...)
	require.NoError(t, os.WriteFile(filepath.Join(sub, "9.000009.json"), big, 0o644))
	ok, err := os.ReadFile(filepath.Join("testdata", "portal", "bo-thu-nghiem", "9.000001.json"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(sub, "9.000001.json"), ok, 0o644))

	ps, problems, err := ReadPortalDir(dir)
	require.NoError(t, err)
	require.Len(t, ps, 1)
	assert.Equal(t, "bo-x", ps[0].Ministry)
	require.Len(t, problems, 1)
	assert.Equal(t, "size", problems[0].Field)
}

func TestReadCatalog(t *testing.T) {
	// A directory is a crawl.
	ps, problems, err := ReadCatalog(filepath.Join("testdata", "portal"))
	require.NoError(t, err)
	assert.Len(t, ps, 2)
	assert.NotEmpty(t, problems)

	// A single crawled record.
	ps, problems, err = ReadCatalog(filepath.Join(crawlDir(t), "bo-tu-phap", "1.001193.json"))
	require.NoError(t, err)
	assert.Empty(t, problems)
	require.Len(t, ps, 1)
	assert.Equal(t, "bo-tu-phap", ps[0].Ministry)

	// A bad single record is a problem, not an error.
	ps, problems, err = ReadCatalog(filepath.Join("testdata", "portal", "bo-hong", "broken.json"))
	require.NoError(t, err)
	assert.Empty(t, ps)
	require.Len(t, problems, 1)

	// A portal list.
	ps, _, err = ReadCatalog(filepath.Join(dataDir(t), "procedures", "portal-lists", "toa-an-nhan-dan.xlsx"))
	require.NoError(t, err)
	assert.Len(t, ps, 3)

	// Our format.
	ps, problems, err = ReadCatalog(filepath.Join("testdata", "jsonl", "catalog.jsonl"))
	require.NoError(t, err)
	assert.Len(t, ps, 2)
	assert.Len(t, problems, 1)

	// Anything else.
	_, _, err = ReadCatalog(filepath.Join("testdata", "portal", "README.md"))
	require.Error(t, err)
	assert.True(t, errors.Is(err, knowledge.ErrInvalid))
	_, _, err = ReadCatalog(filepath.Join("testdata", "jsonl", "missing.jsonl"))
	require.Error(t, err)
}
