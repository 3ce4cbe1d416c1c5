package widget_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/trolyao/trolyao/channels/web/widget"
)

// The most asked questions are the default when the operator configured none: staff's still come first, and
// nil goes back to the built-in ones. An operator's list is never replaced by them.
func TestLiveStartersMostAsked(t *testing.T) {
	asked := []string{"Đăng ký kết hôn cần giấy tờ gì?", "Cấp phiếu lý lịch tư pháp cần giấy tờ gì?"}
	live, err := widget.NewLiveStarters(nil)
	require.NoError(t, err)
	require.NoError(t, live.SetMostAsked(asked))
	asked[0] = "changed by the caller afterwards"
	want := []string{"Đăng ký kết hôn cần giấy tờ gì?", "Cấp phiếu lý lịch tư pháp cần giấy tờ gì?"}
	assert.Equal(t, want, live.Questions())
	assert.Equal(t, want, live.Default(), "staff see it as the default")
	h := mount(handler(t, widget.Options{Live: live}))
	_, body := get(t, h, "/widget.js")
	assert.Contains(t, body, `"starters":["Đăng ký kết hôn cần giấy tờ gì?","Cấp phiếu lý lịch tư pháp cần giấy tờ gì?"]`)

	staffSet := []string{"Đăng ký khai sinh cho con"}
	require.NoError(t, live.SetStaff(staffSet))
	assert.Equal(t, staffSet, live.Questions(), "staff's come first")
	assert.Equal(t, want, live.Default())
	require.NoError(t, live.SetStaff(nil))

	for _, bad := range [][]string{make([]string, widget.MaxStarters+1), {strings.Repeat("á", widget.MaxStarter+1)}, {" "}} {
		assert.Error(t, live.SetMostAsked(bad))
	}
	assert.Equal(t, want, live.Questions(), "a refused list changes nothing")
	require.NoError(t, live.SetMostAsked(nil))
	assert.Equal(t, widget.DefaultStarters, live.Questions(), "back to the built-in ones")

	operator := []string{"Cấp phiếu lý lịch tư pháp"}
	configured, err := widget.NewLiveStarters(operator)
	require.NoError(t, err)
	require.NoError(t, configured.SetMostAsked(want))
	assert.Equal(t, operator, configured.Questions(), "the operator's list stays")
	assert.Equal(t, operator, configured.Default())
}
