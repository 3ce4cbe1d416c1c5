package staff

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// DeviceCookieName is the cookie that marks a browser as one that has logged in to an account before: a login
// that carries it for the account it names waits for a password-hashing slot in the first lane
// (laneKnownBrowser, see hashGate).
//
// Why this, beside the lane of accounts nobody has failed on lately (laneQuietAccount): the throttle cannot
// tell a flood from many addresses from staff, and what else a login says is known to an attacker or must
// not be told to one. That an account exists and has no recent failure is what a staff member's first login
// on a browser has and a flood's logins have not, but an attacker takes it away by failing on the account
// once, and a wrong login in that lane must be answered as a flood's is, not to tell which usernames exist
// (see lane); the password cannot be known right before it is hashed. The cookie is what an attacker cannot have, whatever they did to the
// account: it is only given to a browser that logged
// in, it is sent to the login route only (HttpOnly, SameSite=Strict), and it is signed with a key derived
// from the account's password hash, which only the server holds — so every serve process sharing the staff
// store accepts it, a restart keeps it valid, and a new password ends it. It grants nothing but the place in
// the queue: the password is still checked, and the throttle still counts the attempt.
const DeviceCookieName = "trolyao_staff_device"

// deviceMaxAge is how long a device cookie stays valid after the login that set it (each login renews it).
const deviceMaxAge = 90 * 24 * time.Hour

// deviceMAC is the signature of a device cookie for username issued at the Unix second issued, keyed with the
// account's encoded password hash.
func deviceMAC(passwordHash, username string, issued int64) []byte {
	m := hmac.New(sha256.New, []byte(passwordHash))
	m.Write([]byte("trolyao staff device\x00" + username + "\x00" + strconv.FormatInt(issued, 10)))
	return m.Sum(nil)
}

// deviceCookie is the device cookie for u, issued at now.
func (s *Service) deviceCookie(u User, now time.Time) *http.Cookie {
	issued := now.Unix()
	v := u.Username + "." + strconv.FormatInt(issued, 10) + "." +
		base64.RawURLEncoding.EncodeToString(deviceMAC(u.Password, u.Username, issued))
	return &http.Cookie{Name: DeviceCookieName, Value: v, Path: Prefix + "login", HttpOnly: true,
		Secure: s.opt.SecureCookie, SameSite: http.SameSiteStrictMode, MaxAge: int(deviceMaxAge.Seconds())}
}

// knownDevice reports whether r carries a device cookie of u that is valid at now.
func knownDevice(r *http.Request, u User, now time.Time) bool {
	c, err := r.Cookie(DeviceCookieName)
	if err != nil || len(c.Value) > 256 {
		return false
	}
	// A username may have dots; the time and the signature have none.
	rest, sig, ok1 := cutLast(c.Value, ".")
	name, ts, ok2 := cutLast(rest, ".")
	if !ok1 || !ok2 || name != u.Username {
		return false
	}
	issued, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return false
	}
	if at := time.Unix(issued, 0); at.After(now.Add(time.Minute)) || now.Sub(at) > deviceMaxAge {
		return false
	}
	mac, err := base64.RawURLEncoding.DecodeString(sig)
	return err == nil && hmac.Equal(mac, deviceMAC(u.Password, u.Username, issued))
}

// cutLast slices s around the last sep.
func cutLast(s, sep string) (before, after string, found bool) {
	if i := strings.LastIndex(s, sep); i >= 0 {
		return s[:i], s[i+len(sep):], true
	}
	return s, "", false
}
