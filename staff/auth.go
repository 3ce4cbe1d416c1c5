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
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("staff: hash password: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
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
var dummyHash = sync.OnceValue(func() string { h, _ := HashPassword("không có tài khoản này"); return h })

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
func AddUser(ctx context.Context, repo Repo, username, password string, role Role, now time.Time) error {
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
func AddToken(ctx context.Context, repo Repo, name string, role Role, expires *time.Time, by string, now time.Time) (string, Token, error) {
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

// throttle counts failed logins per key (a username, an IP address) and, after free failures, locks the key
// for a delay that doubles with each further failure, up to maxDelay. Entries are forgotten window after
// their last failure. It is in-process: each serve process throttles on its own.
type throttle struct {
	mu       sync.Mutex
	free     int
	base     time.Duration
	maxDelay time.Duration
	window   time.Duration
	m        map[string]*failures
}

type failures struct {
	n     int
	last  time.Time
	until time.Time
}

const maxThrottleKeys = 100_000

func newThrottle(free int) *throttle {
	return &throttle{free: free, base: 30 * time.Second, maxDelay: 15 * time.Minute, window: time.Hour,
		m: map[string]*failures{}}
}

// locked reports how long key stays locked at now (0 when it is not).
func (t *throttle) locked(key string, now time.Time) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	f, ok := t.m[key]
	if !ok {
		return 0
	}
	if now.Sub(f.last) > t.window {
		delete(t.m, key)
		return 0
	}
	if now.Before(f.until) {
		return f.until.Sub(now)
	}
	return 0
}

func (t *throttle) fail(key string, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.m) >= maxThrottleKeys {
		for k, f := range t.m {
			if now.Sub(f.last) > t.window || now.After(f.until) {
				delete(t.m, k)
			}
		}
	}
	f, ok := t.m[key]
	if !ok || now.Sub(f.last) > t.window {
		f = &failures{}
		t.m[key] = f
	}
	f.n++
	f.last = now
	if over := f.n - t.free; over >= 0 {
		d := time.Duration(float64(t.base) * math.Pow(2, float64(min(over, 10))))
		f.until = now.Add(min(d, t.maxDelay))
	}
}

func (t *throttle) reset(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.m, key)
}

var errNoCredentials = errors.New("no credentials")
