package staff_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/trolyao/trolyao/staff"
)

// BenchmarkPublishOne measures saving a draft and publishing it (validate, embed, re-index one record,
// record the version, audit) over HTTP on the embedded store with the real catalog.
func BenchmarkPublishOne(b *testing.B) {
	st := realStore(b)
	e := newEnv(b, st, nil, nil)
	e.addUser("hoa", staff.RolePublisher)
	c := e.login("hoa")
	p, err := st.Get(b.Context(), "1.001193")
	require.NoError(b, err)
	b.ResetTimer()
	for i := range b.N {
		p.LocalNotes = fmt.Sprintf("Ghi chú %d", i)
		res := c.do("PUT", "/procedures/"+p.Code+"/draft", map[string]any{"base_version": 0, "procedure": p})
		if res.status != http.StatusOK {
			b.Fatalf("save: %d %s", res.status, res.body)
		}
		res = c.do("POST", "/procedures/"+p.Code+"/publish", map[string]any{"base_version": 1})
		if res.status != http.StatusOK {
			b.Fatalf("publish: %d %s", res.status, res.body)
		}
	}
}
