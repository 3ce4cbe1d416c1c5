package staff

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// argon2id parameters (OWASP's recommended minimum: 19 MiB, 2 passes, 1 lane).
const (
	argonTime    = 2
	argonMemory  = 19 * 1024 // KiB
	argonThreads = 1
	argonKeyLen  = 32
	argonSaltLen = 16
)

// hashCost is the passes and memory (KiB) of the hashes HashPassword makes: argonTime and argonMemory. The
// package's tests lower it for the accounts they create (export_test.go); CheckPassword reads the parameters
// from each hash, and the unknown-user hash always has the real ones.
var hashCost = struct{ passes, memory uint32 }{argonTime, argonMemory}

// Limits of credentials.
const (
	MinPasswordRunes = 10
	MaxPasswordBytes = 256
	MaxTokenName     = 100
)

var usernamePattern = regexp.MustCompile(`^[a-z0-9._-]{3,64}$`)

// HashPassword returns the argon2id hash of password with a random salt, encoded with its parameters as
// $argon2id$v=19$m=…,t=…,p=…$salt$key (base64, no padding).
func HashPassword(password string) (string, error) {
	return hashPassword(password, hashCost.passes, hashCost.memory)
}

func hashPassword(password string, passes, memory uint32) (string, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("staff: hash password: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, passes, memory, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, memory, passes, argonThreads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// CheckPassword reports whether password matches the encoded hash (in constant time). A malformed hash
// never matches.
func CheckPassword(encoded, password string) bool {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" || parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return false
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m == 0 || m > 1<<20 || t == 0 ||
		t > 10 || p == 0 {
		return false
	}
	b64 := base64.RawStdEncoding
	salt, err1 := b64.DecodeString(parts[4])
	key, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(key) == 0 || len(key) > 128 {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(key)))
	return subtle.ConstantTimeCompare(got, key) == 1
}

// dummyHash is checked against when a username is unknown, so that the answer takes as long as for a known one.
var dummyHash = sync.OnceValue(func() string {
	h, _ := hashPassword("không có tài khoản này", argonTime, argonMemory)
	return h
})

// newSecret returns 256 random bits, base64url-encoded, with a prefix, and their SHA-256.
func newSecret(prefix string) (string, []byte, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", nil, fmt.Errorf("staff: random: %w", err)
	}
	s := prefix + base64.RawURLEncoding.EncodeToString(b)
	return s, hashSecret(s), nil
}

func hashSecret(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

// checkNewPassword says, in Vietnamese, what is wrong with a new password ("" when it is acceptable).
func checkNewPassword(p string) string {
	switch {
	case !utf8.ValidString(p):
		return "Mật khẩu không hợp lệ."
	case utf8.RuneCountInString(p) < MinPasswordRunes:
		return fmt.Sprintf("Mật khẩu cần ít nhất %d ký tự.", MinPasswordRunes)
	case len(p) > MaxPasswordBytes:
		return fmt.Sprintf("Mật khẩu dài quá %d byte.", MaxPasswordBytes)
	}
	return ""
}

// AddUser creates a staff account: the bootstrap of the first admin, for a command such as
// `trolyao staff add-user -role admin NAME` that reads the password from stdin. It writes an audit entry with
// actor "cli".
func AddUser(ctx context.Context, repo UserAdmin, username, password string, role Role, now time.Time) error {
	if !usernamePattern.MatchString(username) {
		return fmt.Errorf("staff: add user: invalid username %q (3–64 of a-z 0-9 . _ -)", username)
	}
	if !role.Valid() {
		return fmt.Errorf("staff: add user: invalid role %q", role)
	}
	if msg := checkNewPassword(password); msg != "" {
		return fmt.Errorf("staff: add user: %s", msg)
	}
	hash, err := HashPassword(password)
	if err != nil {
		return err
	}
	if err := repo.CreateUser(ctx, User{Username: username, Role: role, Password: hash, CreatedAt: now.UTC()}); err != nil {
		return fmt.Errorf("staff: add user: %w", err)
	}
	_, err = repo.AppendAudit(ctx, AuditEntry{At: now.UTC(), Actor: "cli", Action: "user_create", Target: username,
		Details: mustJSON(map[string]any{"role": role})})
	return err
}

// AddToken creates an API token and returns its secret (shown once): for a command such as
// `trolyao staff add-token -role publisher -expires 720h NAME`. by names who made it (e.g. "cli").
func AddToken(ctx context.Context, repo UserAdmin, name string, role Role, expires *time.Time, by string, now time.Time) (string, Token, error) {
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > MaxTokenName || !utf8.ValidString(name) {
		return "", Token{}, fmt.Errorf("staff: add token: name must have 1–%d characters", MaxTokenName)
	}
	if !role.Valid() {
		return "", Token{}, fmt.Errorf("staff: add token: invalid role %q", role)
	}
	secret, hash, err := newSecret("tlo_")
	if err != nil {
		return "", Token{}, err
	}
	t, err := repo.CreateToken(ctx, Token{Name: name, Role: role, Hash: hash, CreatedBy: by, CreatedAt: now.UTC(), ExpiresAt: expires})
	if err != nil {
		return "", Token{}, fmt.Errorf("staff: add token: %w", err)
	}
	_, err = repo.AppendAudit(ctx, AuditEntry{At: now.UTC(), Actor: by, Action: "token_create", Target: strconv.FormatInt(t.ID, 10),
		Details: mustJSON(map[string]any{"name": name, "role": role})})
	return secret, t, err
}

// throttle limits login attempts per key (a username, a client address). An attempt is reserved before the
// password is hashed and settled after it, so that parallel attempts cannot all pass a check made before any
// of them has failed. A key may have free attempts failed or in flight; the failure that spends the last of
// them locks the key for base, and each further failure for twice as long as the one before, up to
// maxDelay. When a lock ends, one attempt at a time is let through (its failure locks the key again). At most
// maxPending attempts of a key are in flight at once (0: only the free attempts limit them). A key's failures
// are forgotten window after the last one, and a success on the username clears them.
//
// The counts are kept in memory, per process. An account's failures are also in the audit log, which merge
// brings in, so that processes sharing a Repo throttle an account on their failures together (see login);
// a client address is throttled by each process on its own.
type throttle struct {
	mu         sync.Mutex
	free       int
	maxPending int
	base       time.Duration
	maxDelay   time.Duration
	window     time.Duration
	m          map[string]*failures
}

type failures struct {
	n       int       // failed attempts
	pending int       // attempts reserved and not yet settled
	last    time.Time // the last failure
	until   time.Time // locked until
}

const maxThrottleKeys = 100_000

// refusal says why reserve refused an attempt.
type refusal int

const (
	admitted    refusal = iota
	lockedOut           // locked, or as many attempts in flight as the key has left before its lock
	tooManyOnce         // maxPending attempts in flight
)

func newThrottle(free, maxPending int) *throttle {
	return &throttle{free: free, maxPending: maxPending, base: 30 * time.Second, maxDelay: 15 * time.Minute,
		window: time.Hour, m: map[string]*failures{}}
}

// delay is how long the n-th failure locks a key for (0 while free attempts remain).
func (t *throttle) delay(n int) time.Duration {
	over := n - t.free
	if over < 0 {
		return 0
	}
	return min(time.Duration(float64(t.base)*math.Pow(2, float64(min(over, 10)))), t.maxDelay)
}

// entry returns key's entry at now (nil if there is none), forgetting failures older than window.
func (t *throttle) entry(key string, now time.Time) *failures {
	f, ok := t.m[key]
	if !ok {
		return nil
	}
	if f.n > 0 && now.Sub(f.last) > t.window {
		f.n, f.until = 0, time.Time{}
	}
	if f.n == 0 && f.pending == 0 {
		delete(t.m, key)
		return nil
	}
	return f
}

// reserve checks key and, when it may make an attempt, counts one in flight — in one critical section. It
// returns admitted, or why not and how long to wait. An admitted attempt must be settled once: fail, reset
// or release.
func (t *throttle) reserve(key string, now time.Time) (refusal, time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	f := t.entry(key, now)
	if f == nil {
		if len(t.m) >= maxThrottleKeys {
			t.evict(now)
		}
		f = &failures{}
		t.m[key] = f
	}
	if now.Before(f.until) {
		return lockedOut, f.until.Sub(now)
	}
	if f.pending >= max(t.free-f.n, 1) {
		// Were they all to fail, the last would lock the key for this long.
		return lockedOut, t.delay(f.n + f.pending)
	}
	if t.maxPending > 0 && f.pending >= t.maxPending {
		return tooManyOnce, 0
	}
	f.pending++
	return admitted, 0
}

// merge checks an attempt of key that reserve admitted against the failures other processes recorded as
// well (n of them in the last window, the last at last): key counts as failed as often as the more of the
// two, its own count or n, and as locked by either. It reports whether the attempt may still go on, and
// otherwise gives its reservation back and says how long to wait. It keeps key's own count as it is.
func (t *throttle) merge(key string, now time.Time, n int, last time.Time) (refusal, time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	f, ok := t.m[key]
	if !ok || f.pending == 0 {
		return admitted, 0 // not reserved: nothing to check
	}
	until := f.until
	if d := t.delay(n); d > 0 && last.Add(d).After(until) {
		until = last.Add(d)
	}
	if now.Before(until) {
		f.pending--
		return lockedOut, until.Sub(now)
	}
	if nf := max(f.n, n); f.pending > max(t.free-nf, 1) {
		f.pending--
		return lockedOut, t.delay(nf + f.pending)
	}
	return admitted, 0
}

// quiet reports whether key has no failure in the window, is not locked, and has no attempt in flight but
// the one reserved by the caller.
func (t *throttle) quiet(key string, now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	f := t.entry(key, now)
	return f == nil || (f.n == 0 && f.pending <= 1 && !now.Before(f.until))
}

// evict forgets the keys with nothing in flight whose failures are stale or not locking them.
func (t *throttle) evict(now time.Time) {
	for k, f := range t.m {
		if f.pending == 0 && (now.Sub(f.last) > t.window || !now.Before(f.until)) {
			delete(t.m, k)
		}
	}
}

// fail settles an attempt of key as failed. It returns how long the failure locks key for (0: not locked).
func (t *throttle) fail(key string, now time.Time) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	f := t.entry(key, now)
	if f == nil {
		f = &failures{}
		t.m[key] = f
	}
	f.pending = max(f.pending-1, 0)
	f.n++
	f.last = now
	d := t.delay(f.n)
	if d > 0 {
		f.until = now.Add(d)
	}
	return d
}

// reset settles an attempt of key as a success that clears the key's failures.
func (t *throttle) reset(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if f, ok := t.m[key]; ok {
		f.pending = max(f.pending-1, 0)
		f.n, f.until = 0, time.Time{}
		if f.pending == 0 {
			delete(t.m, key)
		}
	}
}

// release settles an attempt of key without counting it: it was not made (no password was checked), or it
// succeeded on a key whose failures a success does not clear.
func (t *throttle) release(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if f, ok := t.m[key]; ok {
		f.pending = max(f.pending-1, 0)
		if f.pending == 0 && f.n == 0 {
			delete(t.m, key)
		}
	}
}

// hashGate bounds the password hashes of logins running at once: each argon2id hash takes argonMemory
// (19 MiB) and a core for tens of milliseconds, so without a bound a burst of logins takes gigabytes and every
// core. A login waits at most wait for a slot, in one of three lanes (see lane); a slot given back goes to the
// login that has waited longest in the first lane that has one. With two slots or more, laneOthers holds all
// but one at most: the last is kept for the first two lanes, so that their logins need not wait for a flood's
// hash to end, nor share the cores with more than slots-1 of them. At most maxWaiting logins wait at once in
// laneKnownBrowser and in laneOthers, and the others of those lanes are refused at once; laneQuietAccount has
// no such bound, since each account puts at most one login in it (see Service.login).
type hashGate struct {
	mu         sync.Mutex
	free       int
	others     int // slots laneOthers holds
	othersMax  int // the most it may hold
	wait       time.Duration
	maxWaiting int
	waiting    [lanes][]chan struct{} // by lane; each waiter's channel gets its slot
}

// lane is the queue a login waits in for a hashing slot, in the order slots are given: what the login says
// that a flood from addresses the throttle cannot tell apart does not.
//
// What is guaranteed, in each process: a login to an account that exists, is enabled and is not locked waits
// for at most the hashes running and the logins ahead of it in its lane and the lanes before — if it comes
// from a browser that has logged in to the account before, the known browsers' only; if the account has no
// failed login in the window (an hour after the last; a success clears them) and no other login of it is in
// flight, also the quiet accounts' logins, at most one per other account, each of which ends that account's
// quietness for the window if it fails. So during a flood of wrong logins from any number of addresses on
// usernames without an account, or on other accounts, a staff member's first login on a new browser gets a
// slot as soon as the hashes running, the known browsers' logins and the quiet accounts' ahead of it are
// done — a hash or two, unless the flood knows many usernames — or 503 busy after LoginHashWait.
// The hashes running stay at most the slots, and the flood's logins wait in laneOthers, bounded and refused
// 503 busy beyond it.
//
// What is not: when the flood tries the staff member's own account, its first failure takes the account out
// of laneQuietAccount for the window, and her login from a new browser waits with the flood's and may be
// refused 503 busy while it lasts (from a known browser it still goes first); its fifth failure locks the
// account, for every browser and address, for 30 s, then twice as long with each further failure up to
// 15 min (429 throttled) — the lock is what keeps a password from being guessed, and no lane lifts it. A
// staff member who has just mistyped her password is out of laneQuietAccount too, until her next success.
// A flood that knows N usernames puts at most N logins in laneQuietAccount per window.
//
// User enumeration: a login of laneQuietAccount that fails is answered as a login of laneOthers asking at the
// same moment would have been (a shadow of it waits there): 503 busy if that would have got no slot — a
// staff member who mistypes during a flood gets 503, her failure counted — else 401 no sooner than its slot
// and a hash; and a refusal at once waits as long as the last hash took. So, as before, the status and the
// time of a wrong login do not tell whether its username has an account, to within the spread of hashing
// times. What is left: the hash of such a login runs at once, in the slot laneOthers cannot take — a
// concurrent login of laneQuietAccount could notice it, but only with another account's first failure in
// the window; and while a flood lasts, the accounts' failures are audited and logged as before.
type lane int

const (
	// laneKnownBrowser: a login from a browser that has logged in to the account before (DeviceCookieName).
	laneKnownBrowser lane = iota
	// laneQuietAccount: a login to an account that exists, is enabled, has no failure in the throttle's
	// window (in this process or audited by another) and no other login in flight — what a staff member's
	// first login on a new browser is, and what a flood's is not: its usernames have no account, or the
	// accounts it tries have its failures. Its first failure takes the account out of this lane for the
	// window, so a flood gets at most one login per account in it.
	laneQuietAccount
	// laneOthers: every other login — unknown usernames, disabled accounts, accounts with recent failures.
	laneOthers
	lanes
)

// waitersPerSlot is how many logins of a bounded lane may wait for each slot of a hashGate.
const waitersPerSlot = 16

func newHashGate(slots int, wait time.Duration) *hashGate {
	return &hashGate{free: slots, othersMax: max(slots-1, 1), wait: wait, maxWaiting: slots * waitersPerSlot}
}

// may reports whether a login of lane l may take a slot now; g.mu is held.
func (g *hashGate) may(l lane) bool {
	return g.free > 0 && (l != laneOthers || g.others < g.othersMax)
}

// take takes a slot for a login of lane l; g.mu is held.
func (g *hashGate) take(l lane) {
	g.free--
	if l == laneOthers {
		g.others++
	}
}

// enter takes a slot, waiting in lane l at most g.wait (less if ctx ends); it reports whether it got one. A
// slot taken must be given back with leave(l).
func (g *hashGate) enter(ctx context.Context, l lane) bool {
	g.mu.Lock()
	if g.may(l) {
		g.take(l)
		g.mu.Unlock()
		return true
	}
	if l != laneQuietAccount && len(g.waiting[l]) >= g.maxWaiting {
		g.mu.Unlock()
		return false
	}
	ch := make(chan struct{}, 1)
	g.waiting[l] = append(g.waiting[l], ch)
	g.mu.Unlock()
	t := time.NewTimer(g.wait)
	defer t.Stop()
	select {
	case <-ch:
		return true
	case <-t.C:
	case <-ctx.Done():
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if i := slices.Index(g.waiting[l], ch); i >= 0 {
		g.waiting[l] = slices.Delete(g.waiting[l], i, i+1)
		return false
	}
	return true // leave gave it the slot meanwhile
}

// shadowed is what a shadow learnt: whether a login of laneOthers asking when it did would have got a slot,
// and when that was known.
type shadowed struct {
	ok bool
	at time.Time
}

// shadow waits for a slot in laneOthers as a login of that lane asking now would, without hashing: a slot it
// gets it gives back at once. Its outcome comes on the channel; stop ends its wait.
func (g *hashGate) shadow(ctx context.Context) (outcome <-chan shadowed, stop context.CancelFunc) {
	ctx, stop = context.WithCancel(ctx)
	ch := make(chan shadowed, 1)
	go func() {
		ok := g.enter(ctx, laneOthers)
		if ok {
			g.leave(laneOthers)
		}
		ch <- shadowed{ok: ok, at: time.Now()}
	}()
	return ch, stop
}

// sleepUntil waits until t, or until ctx ends.
func sleepUntil(ctx context.Context, t time.Time) {
	if d := time.Until(t); d > 0 {
		timer := time.NewTimer(d)
		defer timer.Stop()
		select {
		case <-timer.C:
		case <-ctx.Done():
		}
	}
}

// leave gives back the slot a login of lane l took: to the first waiter of the first lane that has one and
// may take it, else to the pool.
func (g *hashGate) leave(l lane) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.free++
	if l == laneOthers {
		g.others--
	}
	for w := range g.waiting {
		if len(g.waiting[w]) > 0 && g.may(lane(w)) {
			ch := g.waiting[w][0]
			g.waiting[w] = slices.Delete(g.waiting[w], 0, 1)
			g.take(lane(w))
			ch <- struct{}{}
			return
		}
	}
}

var errNoCredentials = errors.New("no credentials")
