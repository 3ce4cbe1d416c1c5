package knowledge_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/trolyao/trolyao/knowledge"
)

func TestCentresNil(t *testing.T) {
	var c *knowledge.Centres
	_, ok := c.ByCode("27154")
	assert.False(t, ok)
	assert.Empty(t, c.ByName("Bàn Cờ"))
	assert.Zero(t, c.Len())
}

func TestNewCentresNormalises(t *testing.T) {
	c, err := knowledge.NewCentres([]knowledge.Centre{{UnitCode: " 26734 ", UnitName: "Phường  Tân Hoà",
		Name: "Trung tâm Phục vụ hành chính công phường Tân Hòa", Address: "Số 1,\n đường X",
		Confidence: knowledge.ConfidenceMedium}})
	require.NoError(t, err)
	x, ok := c.ByCode("26734")
	require.True(t, ok)
	assert.Equal(t, "Phường Tân Hòa", x.UnitName, "tone placed the catalog's way, spaces collapsed")
	assert.Equal(t, "Số 1, đường X", x.Address)
	assert.Len(t, c.ByName("tan hoa"), 1)
	assert.Len(t, c.ByName("Tân Hoà"), 1)

	_, err = knowledge.NewCentres([]knowledge.Centre{{UnitCode: "1", UnitName: "x", Name: "y", Address: "z"}})
	assert.ErrorIs(t, err, knowledge.ErrInvalid, "a centre needs a confidence")
}
