package web

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/trolyao/trolyao/assistant"
	"github.com/trolyao/trolyao/internal/apierr"
	"github.com/trolyao/trolyao/knowledge"
)

// docs/protocol.md states every error the server sends, with its code, status and message, and the limit of a
// question as the server announces it.
func TestProtocolDocMatchesCode(t *testing.T) {
	b, err := os.ReadFile("../../docs/protocol.md")
	require.NoError(t, err)
	doc := string(b)
	has := func(s, what string) {
		t.Helper()
		if !strings.Contains(doc, s) {
			t.Errorf("docs/protocol.md does not state %s: %q", what, s)
		}
	}
	has(`"max_chars":`+strconv.Itoa(MaxChars), "the question limit")
	for _, e := range []*chatError{errBadRequest, errBadVersion, errTooLong, errEmpty, errBadText, errBadReason, errRateLimited,
		errBusy, errShuttingDown, errBadConversation, errNotFound, errNotReady, errInternal, errTimeout, errStorageFull, errOrigin,
		errConnLimit, errUnsupported} {
		has("| `"+e.Code+"` | "+strconv.Itoa(e.Status)+" | "+e.Message+" |", "an error row")
	}
	// The shared vocabulary: each code with its one message, in a single row (bad_request also has rows of
	// the refusals that say why in their own words).
	for _, e := range apierr.All() {
		has("| `"+e.Code+"` | "+strconv.Itoa(e.Status)+" | "+e.Message+" |", "a shared error row")
		if n := strings.Count(doc, "| `"+e.Code+"` |"); n != 1 && e != apierr.BadRequest {
			t.Errorf("docs/protocol.md has %d rows of the shared code %s, want 1 (one message a code)", n, e.Code)
		}
	}
}

// Every API answers the errors of the layers below with the shared vocabulary; a timeout is timeout (504)
// over REST and the websocket alike.
func TestErrorVocabularyShared(t *testing.T) {
	for _, e := range []*chatError{errBadRequest, errNotFound, errNotReady, errInternal, errTimeout, errStorageFull} {
		require.Contains(t, apierr.All(), e)
	}
	require.Equal(t, "timeout", errTimeout.Code)
	require.Equal(t, 504, errTimeout.Status)
	c := &chat{s: &Server{}}
	for err, want := range map[error]*chatError{
		context.DeadlineExceeded:                   apierr.Timeout,
		fmt.Errorf("answer: %w", context.Canceled): apierr.Timeout,
		fmt.Errorf("save: %w", syscall.ENOSPC):     apierr.StorageFull,
		knowledge.ErrNotFound:                      apierr.NotFound,
		errors.New("boom"):                         apierr.Internal,
		assistant.ErrEmpty:                         errEmpty,
		assistant.ErrTooLong:                       errTooLong,
	} {
		require.Same(t, want, c.classify(err), "%v", err)
	}
}

// docs/protocol.md states the first-message length and the full answer's limit the assistant enforces.
func TestProtocolDocStatesAnswerLengths(t *testing.T) {
	b, err := os.ReadFile("../../docs/protocol.md")
	require.NoError(t, err)
	group := func(n int) string { return strconv.Itoa(n/1000) + "," + fmt.Sprintf("%03d", n%1000) }
	require.Contains(t, string(b), "at most **"+group(assistant.MaxFirstRunes)+" characters** (`assistant.MaxFirstRunes`)")
	require.Contains(t, string(b), "at most "+group(assistant.MaxAnswerRunes)+" (`assistant.MaxAnswerRunes`)")
}
