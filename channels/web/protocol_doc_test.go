package web

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
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
	for _, e := range []*chatError{errBadRequest, errBadVersion, errTooLong, errEmpty, errBadText, errRateLimited,
		errBusy, errShuttingDown, errBadConversation, errNotFound, errNotReady, errInternal, errTimeout, errOrigin,
		errConnLimit, errUnsupported} {
		has("| `"+e.Code+"` | "+strconv.Itoa(e.Status)+" | "+e.Message+" |", "an error row")
	}
}
