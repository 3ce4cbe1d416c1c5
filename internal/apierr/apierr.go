// Package apierr is the error vocabulary the server's APIs share — the citizens' REST and websocket API
// (channels/web) and the staff API (staff): an error is a code, the HTTP status it is sent with over HTTP
// and a Vietnamese message shown to the user, one message for each code here. Classify maps an error of the
// lower layers to one of them, the same way for every API; errors an API refuses itself (a bad frame, a
// missing field) keep their own codes and messages in that API.
package apierr

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/trolyao/trolyao/knowledge"
)

// Error is an error answer: a code, the HTTP status and a Vietnamese message for the user.
type Error struct {
	Code    string
	Message string
	Status  int
}

func (e *Error) Error() string { return e.Code }

// The shared errors. Their messages are shown to the user; details go to the server's log only.
var (
	// BadRequest is a request the lower layers refuse (knowledge.ErrInvalid). An API refusing a request
	// itself may say why in a message of its own.
	BadRequest = &Error{"bad_request", "Yêu cầu không hợp lệ.", http.StatusBadRequest}
	// NotFound is a record that does not exist (knowledge.ErrNotFound).
	NotFound = &Error{"not_found", "Không tìm thấy thông tin được yêu cầu.", http.StatusNotFound}
	// QueryTooLong is a search query over knowledge.MaxQueryRunes.
	QueryTooLong = &Error{"query_too_long", "Câu hỏi quá dài, vui lòng rút gọn (tối đa " + strconv.Itoa(knowledge.MaxQueryRunes) + " ký tự).", http.StatusRequestEntityTooLarge}
	// Timeout is a request that took longer than its time limit (or was given up).
	Timeout = &Error{"timeout", "Hệ thống phản hồi chậm, vui lòng thử lại.", http.StatusGatewayTimeout}
	// NotReady is a request the server cannot serve yet: the catalog (or other data) is still loading.
	NotReady = &Error{"not_ready", "Hệ thống đang nạp dữ liệu, vui lòng thử lại sau ít phút.", http.StatusServiceUnavailable}
	// StorageFull is a write refused because the server's disk (or quota, or file-size limit) is full:
	// nothing was saved.
	StorageFull = &Error{"storage_full", "Bộ nhớ của hệ thống đã đầy nên dữ liệu chưa được lưu, vui lòng thử lại sau.", http.StatusServiceUnavailable}
	// Internal is anything else.
	Internal = &Error{"internal", "Đã có lỗi xảy ra, vui lòng thử lại sau.", http.StatusInternalServerError}
)

// All is the shared vocabulary, in the order the documentation lists it.
func All() []*Error {
	return []*Error{BadRequest, NotFound, QueryTooLong, Timeout, NotReady, StorageFull, Internal}
}

// Classify maps err to its error answer: an *Error is itself; knowledge.ErrQueryTooLong, ErrNotFound and
// ErrInvalid are QueryTooLong, NotFound and BadRequest; an expired or cancelled context is Timeout; a full disk
// is StorageFull; anything else is Internal. The server logs StorageFull and Internal (see Logged).
func Classify(err error) *Error {
	var e *Error
	switch {
	case errors.As(err, &e):
		return e
	case errors.Is(err, knowledge.ErrQueryTooLong):
		return QueryTooLong
	case errors.Is(err, knowledge.ErrNotFound):
		return NotFound
	case errors.Is(err, knowledge.ErrInvalid):
		return BadRequest
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return Timeout
	case knowledge.StorageFull(err):
		return StorageFull
	}
	return Internal
}

// Logged reports whether an error answered with e goes to the server's log: a full disk and internal errors,
// whose details the user never sees.
func (e *Error) Logged() bool { return e == StorageFull || e == Internal }
