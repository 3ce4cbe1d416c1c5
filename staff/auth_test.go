package staff_test

import (
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/trolyao/trolyao/staff"
)

func TestPasswordHash(t *testing.T) {
	staff.RealHashes(t)
	h, err := staff.HashPassword(password)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$"), h)
	assert.NotContains(t, h, password)
	assert.True(t, staff.CheckPassword(h, password))
	assert.False(t, staff.CheckPassword(h, password+"x"))
	h2, err := staff.HashPassword(password)
	require.NoError(t, err)
	assert.NotEqual(t, h, h2, "each hash has its own salt")
	for _, bad := range []string{"", "$argon2id$v=19$m=0,t=1,p=1$AAAA$AAAA", "$bcrypt$x", h[:len(h)-5]} {
		assert.False(t, staff.CheckPassword(bad, password), bad)
	}
}

func TestLogin(t *testing.T) {
	e := newEnv(t, smallStore(t), nil, nil)
	e.addUser("lan", staff.RoleEditor)
	anon := &client{e: e}

	res := anon.do("POST", "/login", map[string]string{"username": "lan", "password": "sai-mật-khẩu-rồi"})
	assert.Equal(t, http.StatusUnauthorized, res.status)
	assert.Equal(t, "bad_credentials", res.code())
	res = anon.do("POST", "/login", map[string]string{"username": "ai-đó", "password": password})
	assert.Equal(t, http.StatusUnauthorized, res.status, "an unknown user gets the same answer")
	assert.Equal(t, "bad_credentials", res.code())
	res = anon.do("POST", "/login", `{"username":"lan"}`)
	assert.Equal(t, http.StatusBadRequest, res.status)
	// A cross-site form (text/plain) carrying JSON cannot log a browser in: login CSRF.
	res = anon.do("POST", "/login", `{"username":"lan","password":"`+password+`"}`, "Content-Type", "text/plain")
	assert.Equal(t, http.StatusUnsupportedMediaType, res.status)
	assert.Empty(t, res.header.Values("Set-Cookie"))
	res = anon.do("POST", "/login", `{"username":"lan","password":"`+password+`"}`, "Content-Type", "application/x-www-form-urlencoded")
	assert.Equal(t, http.StatusUnsupportedMediaType, res.status)
	assert.Empty(t, res.header.Values("Set-Cookie"))

	c := e.login("LAN")
	res = c.do("GET", "/me", nil)
	require.Equal(t, http.StatusOK, res.status)
	var me struct {
		User      struct{ Username, Role string }
		CSRF      string    `json:"csrf_token"`
		ExpiresAt time.Time `json:"expires_at"`
	}
	res.json(t, &me)
	assert.Equal(t, "lan", me.User.Username)
	assert.Equal(t, "editor", me.User.Role)
	assert.Equal(t, c.csrf, me.CSRF)
	assert.Equal(t, e.clock.Now().Add(staff.DefaultSessionIdle), me.ExpiresAt)

	res = c.do("POST", "/logout", nil)
	assert.Equal(t, http.StatusNoContent, res.status)
	res = c.do("GET", "/me", nil)
	assert.Equal(t, http.StatusUnauthorized, res.status, "the session ended")

	// A disabled account cannot log in, and disabling ends its sessions.
	e.addUser("root", staff.RoleAdmin)
	admin := e.login("root")
	c = e.login("lan")
	res = admin.do("PATCH", "/users/lan", map[string]any{"disabled": true})
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)
	assert.Equal(t, http.StatusUnauthorized, c.do("GET", "/me", nil).status)
	res = anon.do("POST", "/login", map[string]string{"username": "lan", "password": password})
	assert.Equal(t, http.StatusUnauthorized, res.status)
}

func TestCSRF(t *testing.T) {
	e := newEnv(t, smallStore(t), nil, nil)
	e.addUser("lan", staff.RoleAdmin)
	c := e.login("lan")
	body := map[string]string{"phrase": "giấy chào đời", "to": "giấy khai sinh"}

	noToken := &client{e: e, cookie: c.cookie}
	res := noToken.do("POST", "/synonyms", body)
	assert.Equal(t, http.StatusForbidden, res.status)
	assert.Equal(t, "csrf", res.code())
	wrong := &client{e: e, cookie: c.cookie, csrf: c.csrf[:len(c.csrf)-2] + "xx"}
	res = wrong.do("POST", "/synonyms", body)
	assert.Equal(t, http.StatusForbidden, res.status)
	assert.Equal(t, "csrf", res.code())
	other := e.login("lan")
	res = (&client{e: e, cookie: c.cookie, csrf: other.csrf}).do("POST", "/synonyms", body)
	assert.Equal(t, http.StatusForbidden, res.status, "another session's token does not do")
	for _, mp := range [][2]string{{"PUT", "/procedures/1.000001/draft"}, {"DELETE", "/tokens/1"}, {"PATCH", "/users/lan"}} {
		res := noToken.do(mp[0], mp[1], map[string]string{})
		assert.Equal(t, http.StatusForbidden, res.status, mp)
		assert.Equal(t, "csrf", res.code(), mp)
	}
	ss, err := e.repo.Synonyms(t.Context())
	require.NoError(t, err)
	assert.Empty(t, ss, "nothing was written")

	assert.Equal(t, http.StatusOK, noToken.do("GET", "/synonyms", nil).status, "reads need no CSRF token")
	assert.Equal(t, http.StatusCreated, c.do("POST", "/synonyms", body).status)
	// A bearer token needs none.
	tok := e.token("ci", staff.RoleEditor)
	assert.Equal(t, http.StatusCreated, tok.do("POST", "/synonyms", map[string]string{"phrase": "mở sạp", "to": "hộ kinh doanh"}).status)
}

func TestSessionExpiry(t *testing.T) {
	e := newEnv(t, smallStore(t), nil, nil)
	e.addUser("lan", staff.RoleViewer)

	// Idle timeout.
	c := e.login("lan")
	e.clock.Add(staff.DefaultSessionIdle - time.Second)
	require.Equal(t, http.StatusOK, c.do("GET", "/me", nil).status, "still alive, and this request refreshes it")
	e.clock.Add(staff.DefaultSessionIdle - time.Second)
	require.Equal(t, http.StatusOK, c.do("GET", "/me", nil).status)
	e.clock.Add(staff.DefaultSessionIdle)
	res := c.do("GET", "/me", nil)
	assert.Equal(t, http.StatusUnauthorized, res.status)
	assert.Equal(t, "session_expired", res.code())
	assert.Contains(t, string(res.body), "hết hạn")

	// Absolute lifetime: activity does not extend it.
	c = e.login("lan")
	for elapsed := time.Duration(0); elapsed < staff.DefaultSessionMax-20*time.Minute; elapsed += 20 * time.Minute {
		e.clock.Add(20 * time.Minute)
		require.Equal(t, http.StatusOK, c.do("GET", "/me", nil).status, "after %v", elapsed)
	}
	e.clock.Add(20 * time.Minute)
	res = c.do("GET", "/me", nil)
	assert.Equal(t, http.StatusUnauthorized, res.status)
	assert.Equal(t, "session_expired", res.code())

	// An expired API token.
	exp := e.clock.Now().Add(time.Hour)
	secret, _, err := staff.AddToken(t.Context(), e.repo, "tạm", staff.RoleViewer, &exp, "cli", e.clock.Now())
	require.NoError(t, err)
	tok := &client{e: e, bearer: secret}
	assert.Equal(t, http.StatusOK, tok.do("GET", "/me", nil).status)
	e.clock.Add(time.Hour)
	assert.Equal(t, http.StatusUnauthorized, tok.do("GET", "/me", nil).status)
	assert.Equal(t, http.StatusUnauthorized, (&client{e: e, bearer: "tlo_không-có"}).do("GET", "/me", nil).status)
}

func TestLoginThrottling(t *testing.T) {
	e := newEnv(t, smallStore(t), nil, nil)
	e.addUser("lan", staff.RoleViewer)
	anon := &client{e: e}
	bad := map[string]string{"username": "lan", "password": "không-đúng-đâu"}
	for i := range 5 {
		require.Equal(t, http.StatusUnauthorized, anon.do("POST", "/login", bad).status, "failure %d", i+1)
	}
	res := anon.do("POST", "/login", map[string]string{"username": "lan", "password": password})
	assert.Equal(t, http.StatusTooManyRequests, res.status, "locked even with the right password")
	assert.Equal(t, "throttled", res.code())
	assert.NotEmpty(t, res.header.Get("Retry-After"))
	assert.Contains(t, string(res.body), "thử lại")

	e.clock.Add(31 * time.Second)
	require.Equal(t, http.StatusOK, anon.do("POST", "/login", map[string]string{"username": "lan", "password": password}).status)

	// Per address: many usernames from one client.
	for i := range 20 {
		anon.do("POST", "/login", map[string]string{"username": "u" + strings.Repeat("x", i%7+3), "password": "sai-sai-sai"})
	}
	e.clock.Add(time.Second)
	res = anon.do("POST", "/login", map[string]string{"username": "lan", "password": password})
	assert.Equal(t, http.StatusTooManyRequests, res.status)
}

// TestLoginThrottlingBehindProxy: behind a trusted reverse proxy, failed logins are counted per client (the
// right-most untrusted X-Forwarded-For entry), so one client's failures do not lock out the others; without
// trusting the proxy every client shares its address.
func TestLoginThrottlingBehindProxy(t *testing.T) {
	fail20 := func(c *client, xff string) {
		t.Helper()
		for i := range 20 {
			res := c.do("POST", "/login", map[string]string{"username": fmt.Sprintf("khach%02d", i), "password": "sai-sai-sai"},
				"X-Forwarded-For", xff)
			require.Equal(t, http.StatusUnauthorized, res.status, "failure %d", i+1)
		}
	}
	good := map[string]string{"username": "lan", "password": password}

	e := newEnv(t, smallStore(t), nil, nil, func(o *staff.Options) {
		o.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("10.0.0.0/8")}
	})
	e.addUser("lan", staff.RoleViewer)
	anon := &client{e: e}
	// The attacker puts a forged address first; the proxies (10.0.0.7, then the peer) append the real one.
	fail20(anon, "198.51.100.1, 203.0.113.5, 10.0.0.7")
	res := anon.do("POST", "/login", good, "X-Forwarded-For", "203.0.113.5")
	assert.Equal(t, http.StatusTooManyRequests, res.status, "the failing client is locked")
	res = anon.do("POST", "/login", good, "X-Forwarded-For", "198.51.100.1, 203.0.113.5")
	assert.Equal(t, http.StatusTooManyRequests, res.status, "whatever it forges on the left")
	res = anon.do("POST", "/login", good, "X-Forwarded-For", "203.0.113.6")
	assert.Equal(t, http.StatusOK, res.status, "another client behind the same proxy logs in: %s", res.body)
	res = anon.do("POST", "/login", good)
	assert.Equal(t, http.StatusOK, res.status, "so does the proxy's own address")

	// The proxy not trusted: the header is ignored and everyone behind it shares the peer address.
	e = newEnv(t, smallStore(t), nil, nil)
	e.addUser("lan", staff.RoleViewer)
	anon = &client{e: e}
	fail20(anon, "203.0.113.5")
	res = anon.do("POST", "/login", good, "X-Forwarded-For", "203.0.113.6")
	assert.Equal(t, http.StatusTooManyRequests, res.status)
}

// TestFailedLoginAudit: a failed login is audited with the account's name, but an unknown username (often a
// password typed into the wrong field) is never written down.
func TestFailedLoginAudit(t *testing.T) {
	e := newEnv(t, smallStore(t), nil, nil)
	e.addUser("lan", staff.RoleEditor)
	e.addUser("root", staff.RoleAdmin)
	anon := &client{e: e}
	require.Equal(t, http.StatusUnauthorized, anon.do("POST", "/login", map[string]string{"username": "lan", "password": "sai-mật-khẩu-rồi"}).status)
	require.Equal(t, http.StatusUnauthorized, anon.do("POST", "/login", map[string]string{"username": "bimat-cua-lan-2026", "password": "x"}).status)

	var audit struct{ Items []staff.AuditEntry }
	e.login("root").do("GET", "/audit", nil).json(t, &audit)
	var failed []staff.AuditEntry
	for _, a := range audit.Items {
		assert.NotContains(t, a.Actor+a.Target+string(a.Details), "bimat")
		if a.Action == "login_failed" {
			failed = append(failed, a)
		}
	}
	require.Len(t, failed, 2)
	assert.Equal(t, "lan", failed[1].Actor, "newest first")
	assert.NotEqual(t, "lan", failed[0].Actor)
}
