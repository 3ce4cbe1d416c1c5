package staff_test

import (
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/trolyao/trolyao/internal/logtest"
	"github.com/trolyao/trolyao/staff"
)

// Failed logins, the lock they put on an account, logins refused while it lasts and writes refused for their
// CSRF token are security events in the log — without the name typed, the password or the client's address.
func TestSecurityEventsLogged(t *testing.T) {
	logs := &logtest.Buffer{}
	e := newEnv(t, smallStore(t), nil, nil, func(o *staff.Options) {
		o.Logger = slog.New(slog.NewTextHandler(logs, nil))
	})
	e.addUser("hoa.nguyen", staff.RoleEditor)
	e.addUser("lan.tran", staff.RoleAdmin)
	anon := &client{e: e}
	const wrong = "sai-mat-khau-2026"
	for i := range 5 {
		res := anon.do("POST", "/login", map[string]string{"username": "hoa.nguyen", "password": wrong})
		require.Equal(t, http.StatusUnauthorized, res.status, "attempt %d: %s", i+1, res.body)
	}
	res := anon.do("POST", "/login", map[string]string{"username": "hoa.nguyen", "password": password})
	require.Equal(t, http.StatusTooManyRequests, res.status, "the account is locked: %s", res.body)
	res = anon.do("POST", "/login", map[string]string{"username": "khong.co.ai", "password": wrong})
	require.Equal(t, http.StatusUnauthorized, res.status)

	admin := e.login("lan.tran")
	noToken := *admin
	noToken.csrf = ""
	res = noToken.do("POST", "/logout", nil)
	require.Equal(t, http.StatusForbidden, res.status)
	badToken := *admin
	badToken.csrf = "gia-mao"
	res = badToken.do("POST", "/logout", nil)
	require.Equal(t, http.StatusForbidden, res.status)

	log := logs.String()
	count := func(s string) int { return strings.Count(log, s) }
	assert.Equal(t, 5, count(`msg="security: staff login failed" account=known`), log)
	assert.Equal(t, 1, count(`msg="security: staff login failed" account=unknown`), log)
	assert.Equal(t, 1, count(`msg="security: staff login locked out" locked=account for=30s`), log)
	assert.Equal(t, 1, count(`msg="security: staff login refused while locked out" retry_after=30s`), log)
	assert.Equal(t, 1, count(`msg="security: staff request refused: CSRF token" token=missing method=POST route=/logout`), log)
	assert.Equal(t, 1, count(`msg="security: staff request refused: CSRF token" token=wrong method=POST route=/logout`), log)
	for _, secret := range []string{"hoa.nguyen", "khong.co.ai", wrong, password, "gia-mao", "127.0.0.1"} {
		assert.NotContains(t, log, secret)
	}
}
