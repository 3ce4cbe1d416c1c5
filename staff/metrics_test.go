package staff_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/trolyao/trolyao/knowledge"
	"github.com/trolyao/trolyao/knowledge/memconv"
	"github.com/trolyao/trolyao/staff"
)

// The staff metrics count audited actions by action and the open questions of the unanswered queue, as the
// queue shows them (read at most every 30 s).
func TestStaffMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	convs := memconv.New()
	e := newEnv(t, smallStore(t), nil, convs, func(o *staff.Options) { o.Registerer = reg })
	e.addUser("lan", staff.RoleEditor)
	gather := func() map[string]float64 {
		t.Helper()
		got := map[string]float64{}
		mfs, err := reg.Gather()
		require.NoError(t, err)
		for _, mf := range mfs {
			for _, m := range mf.GetMetric() {
				name := mf.GetName()
				for _, l := range m.GetLabel() {
					name += " " + l.GetName() + "=" + l.GetValue()
				}
				got[name] = m.GetGauge().GetValue() + m.GetCounter().GetValue()
			}
		}
		return got
	}
	assert.Zero(t, gather()["trolyao_staff_unanswered_open"])

	now := e.clock.Now()
	for i, q := range []string{"Làm giấy chào đời cho con?", "Đổi bằng lái xe quốc tế ở đâu?"} {
		_, err := convs.Append(t.Context(), string(rune('a'+i)), knowledge.DialogueState{},
			knowledge.Message{Role: "user", Text: q, At: now},
			knowledge.Message{Role: "assistant", Text: "Xin lỗi…", Abstain: true, At: now})
		require.NoError(t, err)
	}
	assert.Zero(t, gather()["trolyao_staff_unanswered_open"], "read at most every 30 s")
	e.clock.Add(31 * time.Second)
	assert.Equal(t, 2.0, gather()["trolyao_staff_unanswered_open"])

	c := e.login("lan")
	res := c.do("POST", "/unanswered/handled", map[string]string{"by": "question", "key": staff.QuestionKey("Làm giấy chào đời cho con?")})
	require.Equal(t, http.StatusNoContent, res.status, "%s", res.body)
	e.clock.Add(31 * time.Second)
	got := gather()
	assert.Equal(t, 1.0, got["trolyao_staff_unanswered_open"], "a handled question leaves the queue")
	assert.Equal(t, 1.0, got["trolyao_staff_actions_total action=login"])
	assert.Equal(t, 1.0, got["trolyao_staff_actions_total action=queue_handled"])
}
