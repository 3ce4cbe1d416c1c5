package ingest

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/trolyao/trolyao/knowledge"
)

func TestMeasure(t *testing.T) {
	ps := []knowledge.Procedure{
		{Code: "1", Name: "A", Levels: []knowledge.Level{knowledge.LevelCommune},
			Channels: []knowledge.Channel{
				{Kind: online, Time: knowledge.Duration{Value: 5, Unit: "ngày làm việc"}, Free: true},
				{Kind: inPerson, Time: knowledge.Duration{Value: 1}, Fees: []knowledge.Fee{{Amount: 20_000}}},
			},
			Dossier: []knowledge.DossierItem{{Name: "Tờ khai", Form: "Mẫu.docx", Originals: 1}},
			Legal:   []knowledge.LegalDoc{{Title: "Luật", Number: "1/2020/QH14"}},
			Steps:   []string{"Nộp"}, Result: "Giấy"},
		{Code: "2", Name: "B", Channels: []knowledge.Channel{{Kind: postal, FeeNA: true}},
			Legal: []knowledge.LegalDoc{{Title: "Hiến pháp"}}},
		{Code: "3", Name: "C"},
		{Code: "4", Name: "D", Dossier: []knowledge.DossierItem{{Name: "Đơn"}, {Name: "Ảnh"}}},
	}
	c := Measure(ps)
	assert.Equal(t, Coverage{
		Procedures: 4, WithChannel: 2, WithFee: 1, WithAmount: 1, WithFeeNA: 1, WithTime: 1, WithDossier: 2, WithForm: 1,
		WithLegal: 2, WithNumbered: 1, WithSteps: 1, WithResult: 1, WithLevel: 1,
		Channels: 3, ChannelsWithFee: 2, ChannelsFeeNA: 1, ChannelsWithTime: 1, ChannelsBareTime: 1, DossierItems: 3,
	}, c)
	assert.InDelta(t, 0.5, c.Share(c.WithChannel), 1e-9)
	s := c.String()
	assert.Contains(t, s, "procedures: 4")
	assert.Contains(t, s, "50.0%")
	assert.Contains(t, s, "channels: 3")

	empty := Measure(nil)
	assert.Zero(t, empty.Share(empty.WithChannel))
	assert.Contains(t, empty.String(), "procedures: 0")
}
