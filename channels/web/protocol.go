package web

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"net/http"
	"strconv"
	"time"

	"github.com/trolyao/trolyao/assistant"
	"github.com/trolyao/trolyao/internal/apierr"
	"github.com/trolyao/trolyao/knowledge"
)

// Frames of the chat protocol v1 (docs/protocol.md). Every frame is one JSON object with a "type".

// clientFrame is any frame a client sends; which fields count depends on Type.
type clientFrame struct {
	Type           string `json:"type"`
	ID             string `json:"id"`
	Text           string `json:"text"`
	ConversationID string `json:"conversation_id"`
	MessageID      int64  `json:"message_id"`
	Value          int    `json:"value"`
	Reason         string `json:"reason"` // feedback: why a 👎, one of knowledge.FeedbackReasons (optional)
}

type helloFrame struct {
	Type     string   `json:"type"`
	V        int      `json:"v"`
	MaxChars int      `json:"max_chars"`
	Starters []string `json:"starters,omitempty"`
}

type ackFrame struct {
	Type           string `json:"type"`
	ID             string `json:"id,omitempty"`
	ConversationID string `json:"conversation_id"`
}

type typingFrame struct {
	Type string `json:"type"`
	ID   string `json:"id,omitempty"`
}

type deltaFrame struct {
	Type string `json:"type"`
	ID   string `json:"id,omitempty"`
	Text string `json:"text"`
}

// Citation is a procedure in an answer: one it is grounded in, or one offered by a clarifying question.
type Citation struct {
	Code string `json:"code"`
	Name string `json:"name"`
	URL  string `json:"url,omitempty"`
	// Label is a short name for the button of an option (options only; show Name when absent).
	Label string `json:"label,omitempty"`
}

// Answer is the final, authoritative answer to a message: the body of POST /api/v1/chat and, with "type"
// and "id", the websocket answer frame.
type Answer struct {
	Type           string     `json:"type,omitempty"`
	ID             string     `json:"id,omitempty"`
	ConversationID string     `json:"conversation_id"`
	MessageID      int64      `json:"message_id"`
	Text           string     `json:"text"`
	Citations      []Citation `json:"citations"`
	Options        []Citation `json:"options"`
	Suggestions    []string   `json:"suggestions"`
	Abstained      bool       `json:"abstained"`
	// Contact is the service centre of the citizen's commune, on an answer about where to go or about a
	// ward once the conversation has named one current commune whose centre is known.
	Contact *Contact `json:"contact,omitempty"`
}

// Contact is a commune's public administrative service centre, where a citizen can talk to a person.
type Contact struct {
	Name    string `json:"name"`
	Address string `json:"address"`
	Phone   string `json:"phone,omitempty"`
	Hours   string `json:"hours,omitempty"`
}

type errorFrame struct {
	Type    string `json:"type"`
	ID      string `json:"id,omitempty"`
	Code    string `json:"code"`
	Message string `json:"message"`
	status  int    // over REST
}

type feedbackOKFrame struct {
	Type      string `json:"type"`
	MessageID int64  `json:"message_id"`
}

// HistoryMessage is one message of a conversation's history.
type HistoryMessage struct {
	ID    int64    `json:"id"`
	Role  string   `json:"role"`
	Text  string   `json:"text"`
	Codes []string `json:"codes"`
	// Citations are the procedures of Codes with their names and links (what a reloaded page shows instead
	// of bare codes); a procedure no longer in the catalog has its code only.
	Citations []Citation `json:"citations"`
	At        time.Time  `json:"at"`
	Feedback  int        `json:"feedback"`
	// FeedbackReason is the reason given with a 👎 (one of knowledge.FeedbackReasons), if any.
	FeedbackReason string `json:"feedback_reason,omitempty"`
}

// History is the body of GET /api/v1/chat/{conversation_id} and, with "type", the websocket history frame.
type History struct {
	Type           string           `json:"type,omitempty"`
	ConversationID string           `json:"conversation_id"`
	Messages       []HistoryMessage `json:"messages"`
}

type pongFrame struct {
	Type string `json:"type"`
}

func answerOf(a assistant.Answer) Answer {
	out := Answer{ConversationID: a.ConversationID, MessageID: a.MessageID, Text: a.Text, Abstained: a.Abstained,
		Citations: citations(a.Citations), Options: options(a.Options), Suggestions: a.Suggestions}
	if out.Suggestions == nil {
		out.Suggestions = []string{}
	}
	return out
}

func citations(cs []assistant.Citation) []Citation {
	out := make([]Citation, 0, len(cs))
	for _, c := range cs {
		out = append(out, Citation{Code: c.Code, Name: c.Name, URL: knowledge.SafeURL(c.URL)})
	}
	return out
}

// options are the choices of an answer, with their short labels.
func options(cs []assistant.Citation) []Citation {
	out := citations(cs)
	for i, c := range cs {
		out[i].Label = c.Label
	}
	return out
}

func historyOf(ctx context.Context, store knowledge.Store, c knowledge.Conversation, limit int) History {
	msgs := c.Messages
	if len(msgs) > limit {
		msgs = msgs[len(msgs)-limit:]
	}
	h := History{ConversationID: c.ID, Messages: make([]HistoryMessage, 0, len(msgs))}
	for _, m := range msgs {
		codes := m.Codes
		if codes == nil {
			codes = []string{}
		}
		cites := make([]Citation, 0, len(codes))
		for _, code := range codes {
			ci := Citation{Code: code}
			if store != nil {
				if p, err := store.Get(ctx, code); err == nil {
					ci.Name, ci.URL = p.Name, knowledge.SafeURL(p.URL)
				}
			}
			cites = append(cites, ci)
		}
		h.Messages = append(h.Messages, HistoryMessage{ID: m.ID, Role: string(m.Role), Text: m.Text, Codes: codes, Citations: cites,
			At: m.At.UTC().Truncate(time.Second), Feedback: m.Feedback, FeedbackReason: m.FeedbackReason})
	}
	return h
}

// Conversation ids are 26 characters of [a-z2-7]: 128 random bits from crypto/rand in lower-case base32.
const conversationIDLen = 26

var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

func newConversationID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	return idEncoding.EncodeToString(b[:])
}

// validConversationID reports whether id has the form of a conversation id of the protocol: 26 characters of
// [a-z0-9].
func validConversationID(id string) bool {
	if len(id) != conversationIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// chatError is an error of the protocol: a code, a Vietnamese message for the user, and the HTTP status
// used over REST. The errors every API shares (apierr.All) are among them.
type chatError = apierr.Error

// Errors of the protocol. The messages are shown to the user.
var (
	errBadRequest      = apierr.BadRequest
	errBadVersion      = &chatError{Code: "bad_version", Message: "Phiên bản giao thức không được hỗ trợ, vui lòng tải lại trang.", Status: http.StatusBadRequest}
	errTooLong         = &chatError{Code: "too_long", Message: "Câu hỏi quá dài, vui lòng rút gọn (tối đa " + strconv.Itoa(MaxChars) + " ký tự).", Status: http.StatusRequestEntityTooLarge}
	errEmpty           = &chatError{Code: "empty", Message: "Vui lòng nhập câu hỏi.", Status: http.StatusBadRequest}
	errBadReason       = &chatError{Code: "bad_request", Message: "Lý do đánh giá không hợp lệ, vui lòng chọn một trong các lý do được gợi ý.", Status: http.StatusBadRequest}
	errBadText         = &chatError{Code: "bad_request", Message: "Câu hỏi chứa ký tự không hợp lệ, vui lòng nhập lại.", Status: http.StatusBadRequest}
	errRateLimited     = &chatError{Code: "rate_limited", Message: "Bạn gửi tin nhắn quá nhanh, vui lòng chờ một chút rồi gửi lại.", Status: http.StatusTooManyRequests}
	errBusy            = &chatError{Code: "busy", Message: "Hệ thống đang bận, vui lòng thử lại sau ít phút.", Status: http.StatusServiceUnavailable}
	errShuttingDown    = &chatError{Code: "busy", Message: "Hệ thống đang khởi động lại để bảo trì, vui lòng thử lại sau ít phút.", Status: http.StatusServiceUnavailable}
	errBadConversation = &chatError{Code: "bad_conversation", Message: "Mã cuộc trò chuyện không hợp lệ.", Status: http.StatusBadRequest}
	errNotFound        = apierr.NotFound
	errNotReady        = apierr.NotReady
	errInternal        = apierr.Internal
	errTimeout         = apierr.Timeout
	errStorageFull     = apierr.StorageFull
	// Refusals before a websocket upgrade (HTTP only).
	errOrigin      = &chatError{Code: "forbidden", Message: "Trang web này không được phép sử dụng trợ lý ảo.", Status: http.StatusForbidden}
	errConnLimit   = &chatError{Code: "rate_limited", Message: "Có quá nhiều kết nối từ địa chỉ của bạn, vui lòng đóng bớt cửa sổ trò chuyện.", Status: http.StatusTooManyRequests}
	errUnsupported = &chatError{Code: "bad_request", Message: "Yêu cầu phải là JSON (Content-Type: application/json).", Status: http.StatusUnsupportedMediaType}
)

// Websocket close codes the server uses.
const (
	closeGoingAway      = 1001 // shutdown
	closePolicy         = 1008 // a client that does not read its frames; a page whose origin is not allowed
	closeReasonShutdown = "máy chủ khởi động lại"
	closeReasonSlow     = "không đọc kịp dữ liệu"
	// closeReasonOrigin closes a websocket from a page whose origin is not allowed, before the hello frame
	// (at most 123 bytes, as every close reason).
	closeReasonOrigin = "Trang web này chưa được phép sử dụng trợ lý ảo."
)

// Log lines of refused origins: at most one every originLogEvery, after a burst of originLogBurst.
const (
	originLogEvery = 10 * time.Second
	originLogBurst = 5
)
