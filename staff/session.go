package staff

import (
	"context"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/trolyao/trolyao/knowledge"
)

// authenticate finds the principal of a request: a bearer token or the session cookie.
func (s *Service) authenticate(r *http.Request) (*principal, *apiErr) {
	ctx := r.Context()
	now := s.now()
	if h := r.Header.Get("Authorization"); h != "" {
		secret, ok := strings.CutPrefix(h, "Bearer ")
		if !ok || secret == "" || len(secret) > 200 {
			return nil, errUnauthenticated
		}
		t, err := s.opt.Repo.TokenByHash(ctx, hashSecret(strings.TrimSpace(secret)))
		if err != nil {
			if !errors.Is(err, knowledge.ErrNotFound) {
				s.log.Error("staff: token lookup", "err", err)
				return nil, errInternal
			}
			return nil, errUnauthenticated
		}
		if t.ExpiresAt != nil && !now.Before(*t.ExpiresAt) {
			return nil, errf(http.StatusUnauthorized, "session_expired", "Mã truy cập (API token) đã hết hạn.")
		}
		return &principal{Token: &t, Role: t.Role}, nil
	}
	c, err := r.Cookie(CookieName)
	if err != nil || c.Value == "" || len(c.Value) > 200 {
		return nil, errUnauthenticated
	}
	hash := hashSecret(c.Value)
	sess, err := s.opt.Repo.Session(ctx, hash)
	if err != nil {
		if !errors.Is(err, knowledge.ErrNotFound) {
			s.log.Error("staff: session lookup", "err", err)
			return nil, errInternal
		}
		return nil, errExpired
	}
	if !now.Before(sess.ExpiresAt) || now.Sub(sess.LastSeen) >= s.opt.SessionIdle {
		if err := s.opt.Repo.DeleteSession(ctx, hash); err != nil {
			s.log.Error("staff: delete expired session", "err", err)
		}
		return nil, errExpired
	}
	u, err := s.opt.Repo.User(ctx, sess.Username)
	if err != nil || u.Disabled {
		if err != nil && !errors.Is(err, knowledge.ErrNotFound) {
			s.log.Error("staff: session user", "err", err)
			return nil, errInternal
		}
		return nil, errExpired
	}
	// Record activity at most once a minute: the idle timeout does not need more precision.
	if now.Sub(sess.LastSeen) >= time.Minute {
		if err := s.opt.Repo.TouchSession(ctx, hash, now); err != nil {
			s.log.Error("staff: touch session", "err", err)
		} else {
			sess.LastSeen = now
		}
	}
	return &principal{Username: u.Username, Role: u.Role, Session: &sess}, nil
}

// sessionView is the body of /login and /me.
type sessionView struct {
	User struct {
		Username string `json:"username"`
		Role     Role   `json:"role"`
	} `json:"user"`
	CSRF      string     `json:"csrf_token"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

func (s *Service) view(p *principal) sessionView {
	var v sessionView
	v.User.Role = p.Role
	v.User.Username = p.Username
	if p.Token != nil {
		v.User.Username = "token:" + p.Token.Name
		v.ExpiresAt = p.Token.ExpiresAt
	}
	if p.Session != nil {
		v.CSRF = p.Session.CSRF
		exp := p.Session.LastSeen.Add(s.opt.SessionIdle)
		if p.Session.ExpiresAt.Before(exp) {
			exp = p.Session.ExpiresAt
		}
		v.ExpiresAt = &exp
	}
	return v
}

// unknownUser is the actor of a failed login with a username that has no account.
const unknownUser = "(không rõ)"

// loginRequest is the body of POST /login.
type loginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// decodeLogin reads the body of a login. false: the error was written.
func decodeLogin(w http.ResponseWriter, r *http.Request) (loginRequest, bool) {
	var req loginRequest
	// Only a JSON body: a cross-site form cannot send one without a CORS preflight, so another site cannot log
	// a browser in to an account of its choosing (login CSRF; every other write needs the CSRF header).
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		writeError(w, http.StatusUnsupportedMediaType, "unsupported_media_type", "Yêu cầu đăng nhập phải gửi dạng JSON (Content-Type: application/json).")
		return req, false
	}
	if e := decode(w, r, &req); e != nil {
		e.write(w)
		return req, false
	}
	if req.Username == "" || req.Password == "" || len(req.Username) > 64 || len(req.Password) > MaxPasswordBytes ||
		!utf8.ValidString(req.Username) {
		writeError(w, http.StatusBadRequest, "bad_request", "Vui lòng nhập tên đăng nhập và mật khẩu.")
		return req, false
	}
	return req, true
}

// login checks a password under the throttle and the hashing bound and starts a session. The steps that
// decide how long a refusal takes and what it says stay here together, in order, so that their timing can be
// read (and kept the same for an account and an unknown username) in one place.
func (s *Service) login(w http.ResponseWriter, r *http.Request, _ *principal) {
	req, ok := decodeLogin(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	now := s.now()
	name := strings.ToLower(strings.TrimSpace(req.Username))
	a, why, d := s.reserveLogin(name, s.clientIP(r), now)
	switch why {
	case lockedOut:
		s.lockedOut(w, d)
		return
	case tooManyOnce:
		throttled(w, d, "Có quá nhiều lượt đăng nhập cùng lúc từ địa chỉ này. Vui lòng thử lại sau %d giây.")
		return
	}
	defer a.release() // unless settled below: nothing was checked
	u, err := s.opt.Repo.User(ctx, name)
	if err != nil && !errors.Is(err, knowledge.ErrNotFound) {
		s.fail(w, r, err)
		return
	}
	// The account's failures audited by every process sharing the Repo. They are asked for an unknown
	// username too (and not used), so that the answer takes as long as for an account — unless it is not
	// even a valid username.
	var n int
	var last time.Time
	if usernamePattern.MatchString(name) {
		var ferr error
		if n, last, ferr = s.opt.Repo.LoginFailures(ctx, name, now.Add(-s.users.window)); ferr != nil {
			s.fail(w, r, ferr)
			return
		}
	}
	if err == nil {
		if why, d := a.merge(n, last); why != admitted {
			s.lockedOut(w, d)
			return
		}
	}
	// The lane the login waits in for a hashing slot (see lane): a browser that has logged in to this account
	// before (see DeviceCookieName) first, then an account nobody has failed on lately, then the rest. The
	// throttle's state is read for every username, with an account or not, so that choosing takes as long.
	quiet := n == 0 && a.quiet()
	l := loginLane(r, u, err == nil, quiet, now)
	// A login of laneQuietAccount that fails is answered as one of laneOthers asking at the same moment would
	// have been — 503 busy if it would have got no slot, else 401 no sooner than its slot and a hash — so that
	// a wrong password does not tell whether the username has an account: a shadow waits in laneOthers
	// meanwhile.
	var shadow <-chan shadowed
	if l == laneQuietAccount {
		var stop context.CancelFunc
		shadow, stop = s.hashes.shadow(ctx)
		defer stop()
	}
	asked := time.Now()
	if !s.hashes.enter(ctx, l) {
		s.busy(w, r, asked)
		return
	}
	began := time.Now()
	ok = func() bool {
		defer s.hashes.leave(l)
		if err != nil {
			return s.checkPassword(dummyHash(), req.Password)
		}
		return s.checkPassword(u.Password, req.Password)
	}()
	took := time.Since(began)
	s.hashTook.Store(int64(took))
	if !ok || err != nil || u.Disabled {
		s.refuseLogin(w, r, a, u, err == nil, shadow, asked, took)
		return
	}
	a.succeed()
	s.startSession(w, r, u, now)
}

// lockedOut answers a login refused while its username or address is locked out for d.
func (s *Service) lockedOut(w http.ResponseWriter, d time.Duration) {
	s.log.Warn("security: staff login refused while locked out", "retry_after", d.Round(time.Second))
	throttled(w, d, "Đăng nhập sai quá nhiều lần. Vui lòng thử lại sau %d giây.")
}

// refuseLogin answers a login whose password was wrong, or whose username has no account (known false) or a
// disabled one: 401 bad_credentials, or, for a login of laneQuietAccount (shadow not nil), 503 busy if the
// shadow got no slot in laneOthers, and otherwise no sooner than the shadow's slot and a hash. The failure is
// counted and audited.
func (s *Service) refuseLogin(w http.ResponseWriter, r *http.Request, a *loginAttempt, u User, known bool,
	shadow <-chan shadowed, asked time.Time, took time.Duration) {
	var refused bool
	if shadow != nil {
		sh := <-shadow
		refused = !sh.ok
		if sh.ok {
			sleepUntil(r.Context(), sh.at.Add(took))
		}
	}
	a.fail(known)
	// An unknown username is not recorded: it is often a password typed into the wrong field.
	actor, details := unknownUser, map[string]any{"unknown_user": true}
	if known {
		actor, details = u.Username, nil
	}
	s.record(r.Context(), actor, "login_failed", actor, details)
	if refused {
		s.busy(w, r, asked)
		return
	}
	writeError(w, http.StatusUnauthorized, "bad_credentials", "Tên đăng nhập hoặc mật khẩu không đúng.")
}

// loginLane is the lane a login waits in for a hashing slot (see lane): a browser that has logged in to the
// account before (see DeviceCookieName) first, then an account nobody has failed on lately (quiet), then the
// rest — unknown usernames (known false) and disabled accounts among them.
func loginLane(r *http.Request, u User, known, quiet bool, now time.Time) lane {
	switch {
	case !known || u.Disabled:
	case knownDevice(r, u, now):
		return laneKnownBrowser
	case quiet:
		return laneQuietAccount
	}
	return laneOthers
}

// startSession starts the session of u's successful login and answers with its cookies and the account.
func (s *Service) startSession(w http.ResponseWriter, r *http.Request, u User, now time.Time) {
	secret, hashed, err := newSecret("")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	csrf, _, err := newSecret("")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	sess := Session{Hash: hashed, Username: u.Username, CSRF: csrf, CreatedAt: now, LastSeen: now, ExpiresAt: now.Add(s.opt.SessionMax)}
	if err := s.opt.Repo.CreateSession(r.Context(), sess); err != nil {
		s.fail(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: secret, Path: "/", HttpOnly: true, Secure: s.opt.SecureCookie,
		SameSite: http.SameSiteStrictMode, Expires: sess.ExpiresAt})
	http.SetCookie(w, s.deviceCookie(u, now))
	s.record(r.Context(), u.Username, "login", u.Username, nil)
	writeJSON(w, http.StatusOK, s.view(&principal{Username: u.Username, Role: u.Role, Session: &sess}))
}

// busy answers a login that got no hashing slot 503 busy with Retry-After — no sooner than the last password
// check took after the login asked for a slot, so that a refusal at once looks like that of a login of
// laneQuietAccount that was hashed and failed meanwhile (see login).
func (s *Service) busy(w http.ResponseWriter, r *http.Request, asked time.Time) {
	sleepUntil(r.Context(), asked.Add(time.Duration(s.hashTook.Load())))
	retry := strconv.Itoa(int(s.opt.LoginHashWait.Seconds()) + 1)
	w.Header().Set("Retry-After", retry)
	writeError(w, http.StatusServiceUnavailable, "busy",
		"Hệ thống đang bận xử lý nhiều lượt đăng nhập. Vui lòng thử lại sau "+retry+" giây.")
}

// Login throttling: failed attempts each username and each client address may make before they are locked
// out (see throttle), and how many attempts of one address may be in flight at once.
const (
	loginFreePerUser       = 5
	loginFreePerAddress    = 20
	loginPendingPerAddress = 2
)

// loginAttempt is a login attempt reserved on its username's and its address's throttles. It is settled once:
// the first of fail, succeed and release counts.
type loginAttempt struct {
	s        *Service
	user, ip string
	now      time.Time
	done     bool
}

// reserveLogin reserves an attempt for username from address ip; when either key refuses it, it reserves
// nothing and returns why and how long to wait (the longer of the two).
func (s *Service) reserveLogin(username, ip string, now time.Time) (*loginAttempt, refusal, time.Duration) {
	a := &loginAttempt{s: s, user: "u:" + username, ip: "ip:" + ip, now: now}
	whyU, dU := s.users.reserve(a.user, now)
	whyIP, dIP := s.ips.reserve(a.ip, now)
	if whyU == admitted && whyIP == admitted {
		return a, admitted, 0
	}
	if whyU == admitted {
		s.users.release(a.user)
	}
	if whyIP == admitted {
		s.ips.release(a.ip)
	}
	why := tooManyOnce
	if whyU == lockedOut || whyIP == lockedOut {
		why = lockedOut
	}
	return nil, why, max(dU, dIP)
}

// merge brings in the username's failures recorded by other processes; when they lock it, the attempt is
// given back and merge says how long to wait.
func (a *loginAttempt) merge(n int, last time.Time) (refusal, time.Duration) {
	why, d := a.s.users.merge(a.user, a.now, n, last)
	if why != admitted && !a.done {
		a.done = true
		a.s.ips.release(a.ip)
	}
	return why, d
}

// quiet reports whether the username has no failure in this process's window and no other attempt in
// flight (see laneQuietAccount).
func (a *loginAttempt) quiet() bool { return a.s.users.quiet(a.user, a.now) }

// fail counts the attempt as failed on both keys and logs the security events: the failure, and the lock it
// puts on the account or the address — without the name typed or the address.
func (a *loginAttempt) fail(knownAccount bool) {
	if a.done {
		return
	}
	a.done = true
	account := "unknown"
	if knownAccount {
		account = "known"
	}
	a.s.log.Warn("security: staff login failed", "account", account)
	if d := a.s.users.fail(a.user, a.now); d > 0 {
		a.s.log.Warn("security: staff login locked out", "locked", "account", "for", d)
	}
	if d := a.s.ips.fail(a.ip, a.now); d > 0 {
		a.s.log.Warn("security: staff login locked out", "locked", "address", "for", d)
	}
}

// succeed clears the username's failures; the address keeps its own (one account's success does not
// unlock an address that is trying many).
func (a *loginAttempt) succeed() {
	if !a.done {
		a.done = true
		a.s.users.reset(a.user)
		a.s.ips.release(a.ip)
	}
}

// release gives the attempt back uncounted: no password was checked.
func (a *loginAttempt) release() {
	if !a.done {
		a.done = true
		a.s.users.release(a.user)
		a.s.ips.release(a.ip)
	}
}

// throttled answers 429 with Retry-After the whole seconds of d plus one; format has a %d for them.
func throttled(w http.ResponseWriter, d time.Duration, format string) {
	secs := int(d.Seconds()) + 1
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	writeJSON(w, http.StatusTooManyRequests, map[string]any{"error": map[string]string{"code": "throttled",
		"message": fmt.Sprintf(format, secs)}})
}

func (s *Service) me(w http.ResponseWriter, r *http.Request, p *principal) {
	writeJSON(w, http.StatusOK, s.view(p))
}

func (s *Service) logout(w http.ResponseWriter, r *http.Request, p *principal) {
	if p.Session != nil {
		if err := s.opt.Repo.DeleteSession(r.Context(), p.Session.Hash); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: "", Path: "/", HttpOnly: true, Secure: s.opt.SecureCookie,
		SameSite: http.SameSiteStrictMode, MaxAge: -1})
	s.record(r.Context(), p.Actor(), "logout", "", nil)
	w.WriteHeader(http.StatusNoContent)
}
