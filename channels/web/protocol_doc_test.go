package web

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/trolyao/trolyao/assistant"
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
}

// docs/protocol.md states the first-message length and the full answer's limit the assistant enforces.
func TestProtocolDocStatesAnswerLengths(t *testing.T) {
	b, err := os.ReadFile("../../docs/protocol.md")
	require.NoError(t, err)
	group := func(n int) string { return strconv.Itoa(n/1000) + "," + fmt.Sprintf("%03d", n%1000) }
	require.Contains(t, string(b), "at most **"+group(assistant.MaxFirstRunes)+" characters** (`assistant.MaxFirstRunes`)")
	require.Contains(t, string(b), "at most "+group(assistant.MaxAnswerRunes)+" (`assistant.MaxAnswerRunes`)")
}
