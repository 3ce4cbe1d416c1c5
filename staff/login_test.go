package staff_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/trolyao/trolyao/staff"
)

// loginRequest is POST /login of username and pass from the client address addr ("host:port"), for the
// handler.
func loginRequest(username, pass, addr string) *http.Request {
	body, _ := json.Marshal(map[string]string{"username": username, "password": pass})
	r := httptest.NewRequest("POST", staff.Prefix+"login", bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.RemoteAddr = addr
	return r
}

// errorBody is the shape of an error answer.
type errorBody struct {
	Error struct{ Code, Message string }
}

func decodeError(t *testing.T, rec *httptest.ResponseRecorder) errorBody {
	t.Helper()
	var b errorBody
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &b), "body: %s", rec.Body)
	return b
}

// serveAll serves the requests all at once (each in its own goroutine, released together) and returns the
// answers in order.
func serveAll(h http.Handler, reqs []*http.Request) []*httptest.ResponseRecorder {
	recs := make([]*httptest.ResponseRecorder, len(reqs))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, r := range reqs {
		recs[i] = httptest.NewRecorder()
		wg.Go(func() {
			<-start
			h.ServeHTTP(recs[i], r)
		})
	}
	close(start)
	wg.Wait()
	return recs
}

// TestLoginThrottlingParallel: 40 wrong passwords for one account sent at once, each from its own address,
// hash at most the 5 free attempts; the others get 429 throttled at once, and the account is locked after.
// (Before attempts were reserved, the lock was checked before hashing and failures counted after: all 40
// were hashed and answered 401.)
func TestLoginThrottlingParallel(t *testing.T) {
	e := newEnv(t, smallStore(t), nil, nil)
	e.addUser("lan", staff.RoleViewer)
	hashes := staff.CountHashes(e.svc)
	reqs := make([]*http.Request, 40)
	for i := range reqs {
		reqs[i] = loginRequest("lan", "không-đúng-đâu", fmt.Sprintf("203.0.113.%d:4000", i+1))
	}
	statuses := map[int]int{}
	for _, rec := range serveAll(e.svc.Handler(), reqs) {
		statuses[rec.Code]++
		if rec.Code == http.StatusTooManyRequests {
			b := decodeError(t, rec)
			assert.Equal(t, "throttled", b.Error.Code)
			assert.Contains(t, b.Error.Message, "thử lại sau")
			assert.NotEmpty(t, rec.Header().Get("Retry-After"))
		}
	}
	t.Logf("hashed %d of 40; answers %v", hashes.Total(), statuses)
	assert.LessOrEqual(t, hashes.Total(), int64(5))
	assert.Equal(t, int(hashes.Total()), statuses[http.StatusUnauthorized], "each hashed attempt failed")
	assert.Equal(t, 40-statuses[http.StatusUnauthorized]-statuses[http.StatusServiceUnavailable],
		statuses[http.StatusTooManyRequests])
	assert.GreaterOrEqual(t, statuses[http.StatusTooManyRequests], 35)

	rec := httptest.NewRecorder()
	e.svc.Handler().ServeHTTP(rec, loginRequest("lan", password, "198.51.100.20:4000"))
	if statuses[http.StatusUnauthorized] == 5 {
		assert.Equal(t, http.StatusTooManyRequests, rec.Code, "five failures lock the account, from any address")
	}
	e.clock.Add(31 * time.Second)
	rec = httptest.NewRecorder()
	e.svc.Handler().ServeHTTP(rec, loginRequest("lan", password, "198.51.100.20:4000"))
	assert.Equal(t, http.StatusOK, rec.Code, "%s", rec.Body)
}
