package zalo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Default API addresses; Options overrides them (tests point them at a fake).
const (
	DefaultAPIBase   = "https://openapi.zalo.me"
	DefaultOAuthBase = "https://oauth.zaloapp.com"
	sendPath         = "/v3.0/oa/message/cs"
	tokenPath        = "/v4/oa/access_token"
	maxAPIResponse   = 1 << 20
)

// Error codes of the OA API the sender acts on (zalo-oa.md).
const (
	codeRateLimit    = -32
	codeInvalidToken = -216
	codeExpiredToken = -220
)

// finalCodes are window and permission errors: retrying cannot help.
var finalCodes = map[int]string{
	-213: "user has not followed the OA or blocked it",
	-217: "user blocked messages from the OA",
	-227: "user inactive or banned",
	-230: "outside the reply window (7 days without a message from the user)",
	-232: "reply quota of the window used up",
	-234: "message type not allowed",
	-244: "user blocked the OA",
}

// apiResult is the answer of a send.
type apiResult struct {
	status    int // HTTP status
	code      int // the "error" field; 0 is success
	messageID string
	message   string // the API's "message", for the record
}

// errTransient marks failures worth retrying: the message was not delivered (nothing reached the API, or
// the API answered 5xx or 429).
var errTransient = errors.New("transient")

// errUnknown marks a call whose outcome is unknown: the whole request went out and no usable answer came back
// (a timeout, a connection lost, an unreadable success), so Zalo may have delivered the message.
var errUnknown = errors.New("outcome unknown")

type client struct {
	http      *http.Client
	apiBase   string
	oauthBase string
}

// send posts one message body with the access token. A failure before the whole request was written is
// errTransient (the API cannot act on part of a body); after, without a usable answer, errUnknown.
func (c *client) send(ctx context.Context, token string, body []byte) (apiResult, error) {
	var wrote atomic.Bool
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{WroteRequest: func(i httptrace.WroteRequestInfo) {
		if i.Err == nil {
			wrote.Store(true)
		}
	}})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.apiBase+sendPath, bytes.NewReader(body))
	if err != nil {
		return apiResult{}, err
	}
	req.Header.Set("access_token", token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		if wrote.Load() {
			return apiResult{}, fmt.Errorf("%w: %v", errUnknown, err)
		}
		return apiResult{}, fmt.Errorf("%w: %v", errTransient, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAPIResponse))
	if err != nil {
		if resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests {
			return apiResult{status: resp.StatusCode}, fmt.Errorf("%w: HTTP %d", errTransient, resp.StatusCode)
		}
		return apiResult{status: resp.StatusCode}, fmt.Errorf("%w: read response: %v", errUnknown, err)
	}
	res := apiResult{status: resp.StatusCode}
	if resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests {
		return res, fmt.Errorf("%w: HTTP %d", errTransient, resp.StatusCode)
	}
	var r struct {
		Error   *int   `json:"error"`
		Message string `json:"message"`
		Data    struct {
			MessageID id `json:"message_id"`
		} `json:"data"`
	}
	if err := json.Unmarshal(data, &r); err != nil || r.Error == nil {
		if resp.StatusCode != http.StatusOK {
			res.code = -resp.StatusCode
			return res, nil
		}
		return res, fmt.Errorf("%w: unreadable response (HTTP %d)", errUnknown, resp.StatusCode)
	}
	res.code, res.message, res.messageID = *r.Error, clip(r.Message, 200), string(r.Data.MessageID)
	return res, nil
}

// errRejected: the OAuth server refused the refresh token; only a new authorisation helps.
var errRejected = errors.New("refresh token rejected")

// refresh exchanges a refresh token for a new access token and a new refresh token.
func (c *client) refresh(ctx context.Context, oa OA, refreshToken string, now time.Time) (Token, error) {
	form := url.Values{"app_id": {oa.AppID}, "grant_type": {"refresh_token"}, "refresh_token": {refreshToken}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.oauthBase+tokenPath, strings.NewReader(form.Encode()))
	if err != nil {
		return Token{}, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("secret_key", oa.AppSecret)
	resp, err := c.http.Do(req)
	if err != nil {
		return Token{}, fmt.Errorf("%w: %v", errTransient, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAPIResponse))
	if err != nil {
		return Token{}, fmt.Errorf("%w: read response: %v", errTransient, err)
	}
	if resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests {
		return Token{}, fmt.Errorf("%w: HTTP %d", errTransient, resp.StatusCode)
	}
	var r struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
		ExpiresIn    id     `json:"expires_in"`
		Error        int    `json:"error"`
		ErrorName    string `json:"error_name"`
	}
	if err := json.Unmarshal(data, &r); err != nil {
		if resp.StatusCode != http.StatusOK {
			return Token{}, fmt.Errorf("%w: HTTP %d", errRejected, resp.StatusCode)
		}
		return Token{}, fmt.Errorf("%w: unreadable response", errTransient)
	}
	if r.Error != 0 || r.AccessToken == "" || r.RefreshToken == "" {
		return Token{}, fmt.Errorf("%w: error %d %s (HTTP %d)", errRejected, r.Error, clip(r.ErrorName, 100), resp.StatusCode)
	}
	secs, err := strconv.ParseInt(string(r.ExpiresIn), 10, 64)
	if err != nil || secs <= 0 {
		secs = 3600 // unknown: refresh early rather than late
	}
	return Token{AccessToken: r.AccessToken, RefreshToken: r.RefreshToken, Expires: now.Add(time.Duration(secs) * time.Second), Updated: now}, nil
}
