package zalo

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"time"
)

// Limits of the configuration.
const (
	maxConfigBytes = 1 << 20
	maxOAs         = 1000
	maxSecretBytes = 1024
)

// ErrConfig is wrapped by every configuration error.
var ErrConfig = errors.New("zalo: invalid configuration")

// OA is one Official Account the service answers for.
type OA struct {
	// ID names the OA in the webhook path (/webhooks/zalo/{id}) and in conversation ids: 1–48 ASCII letters,
	// digits, '-' or '_'.
	ID string `json:"id"`
	// AppID is the Zalo app's id (digits); it is part of the signature and of token refreshes.
	AppID string `json:"app_id"`
	// AppSecret goes in the secret_key header of OAuth calls.
	AppSecret string `json:"app_secret"`
	// OASecretKey verifies webhook signatures.
	OASecretKey string `json:"oa_secret_key"`
	// RefreshToken and AccessToken (with AccessTokenExpires) seed the token state the first time the OA is
	// seen; afterwards the store's state wins, because a refresh token is single use.
	RefreshToken       string    `json:"refresh_token"`
	AccessToken        string    `json:"access_token,omitempty"`
	AccessTokenExpires time.Time `json:"access_token_expires,omitzero"`
}

// String hides the secrets.
func (o OA) String() string { return "OA " + o.ID + " (app " + o.AppID + ")" }

// Config is the content of the Zalo configuration file.
type Config struct {
	OAs []OA `json:"oas"`
}

var (
	oaIDPattern  = regexp.MustCompile(`^[A-Za-z0-9_-]{1,48}$`)
	appIDPattern = regexp.MustCompile(`^[0-9]{1,32}$`)
	envPattern   = regexp.MustCompile(`^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$`)
)

// LoadConfig reads a JSON configuration file ({"oas": [{"id", "app_id", "app_secret", "oa_secret_key",
// "refresh_token", …}]}). A secret written as "${NAME}" is read with getenv(NAME) — the package never reads
// the environment itself; a reference to an unset or empty variable is an error. Unknown fields are errors.
func LoadConfig(path string, getenv func(string) string) (Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return Config{}, fmt.Errorf("zalo: config: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxConfigBytes+1))
	if err != nil {
		return Config{}, fmt.Errorf("zalo: config %s: %w", path, err)
	}
	if len(data) > maxConfigBytes {
		return Config{}, fmt.Errorf("%w: %s is larger than %d bytes", ErrConfig, path, maxConfigBytes)
	}
	var c Config
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return Config{}, fmt.Errorf("%w: %s: %v", ErrConfig, path, err)
	}
	for i := range c.OAs {
		o := &c.OAs[i]
		for _, s := range []struct {
			name string
			v    *string
		}{{"app_secret", &o.AppSecret}, {"oa_secret_key", &o.OASecretKey}, {"refresh_token", &o.RefreshToken},
			{"access_token", &o.AccessToken}} {
			m := envPattern.FindStringSubmatch(*s.v)
			if m == nil {
				continue
			}
			v := ""
			if getenv != nil {
				v = getenv(m[1])
			}
			if v == "" {
				return Config{}, fmt.Errorf("%w: %s: oas[%d].%s refers to the environment variable %s, which is not set",
					ErrConfig, path, i, s.name, m[1])
			}
			*s.v = v
		}
	}
	if err := c.Validate(); err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// Validate says what is wrong with the configuration, naming the field but never a secret's value.
func (c Config) Validate() error {
	if len(c.OAs) == 0 {
		return fmt.Errorf("%w: no OA configured", ErrConfig)
	}
	if len(c.OAs) > maxOAs {
		return fmt.Errorf("%w: %d OAs, the limit is %d", ErrConfig, len(c.OAs), maxOAs)
	}
	seen := map[string]bool{}
	for i, o := range c.OAs {
		switch {
		case !oaIDPattern.MatchString(o.ID):
			return fmt.Errorf("%w: oas[%d].id %q: want 1–48 letters, digits, '-' or '_'", ErrConfig, i, o.ID)
		case seen[o.ID]:
			return fmt.Errorf("%w: oas[%d].id %q appears twice", ErrConfig, i, o.ID)
		case !appIDPattern.MatchString(o.AppID):
			return fmt.Errorf("%w: OA %s: app_id must be 1–32 digits", ErrConfig, o.ID)
		}
		seen[o.ID] = true
		for _, s := range []struct{ name, v string }{{"app_secret", o.AppSecret}, {"oa_secret_key", o.OASecretKey}} {
			if s.v == "" || len(s.v) > maxSecretBytes {
				return fmt.Errorf("%w: OA %s: %s must be 1–%d bytes", ErrConfig, o.ID, s.name, maxSecretBytes)
			}
		}
		if o.RefreshToken == "" && o.AccessToken == "" {
			return fmt.Errorf("%w: OA %s: give refresh_token (and optionally access_token)", ErrConfig, o.ID)
		}
		if len(o.RefreshToken) > maxSecretBytes || len(o.AccessToken) > maxSecretBytes {
			return fmt.Errorf("%w: OA %s: tokens are limited to %d bytes", ErrConfig, o.ID, maxSecretBytes)
		}
	}
	return nil
}
