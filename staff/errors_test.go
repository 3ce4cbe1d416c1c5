package staff

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/trolyao/trolyao/internal/apierr"
	"github.com/trolyao/trolyao/knowledge"
)

// The staff API answers an error of the layers below with the vocabulary the citizens' API shares: the same
// code, status and message (a timeout is timeout, 504, as over REST and the websocket).
func TestErrorVocabularyShared(t *testing.T) {
	s := &Service{log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for err, want := range map[error]*apierr.Error{
		fmt.Errorf("save draft: %w", context.DeadlineExceeded): apierr.Timeout,
		fmt.Errorf("save draft: %w", syscall.ENOSPC):           apierr.StorageFull,
		fmt.Errorf("get: %w", knowledge.ErrNotFound):           apierr.NotFound,
		errors.New("boom"): apierr.Internal,
	} {
		w := httptest.NewRecorder()
		s.fail(w, httptest.NewRequest("POST", Prefix+"procedures/1.1/draft", nil), err)
		assert.Equal(t, want.Status, w.Code, "%v", err)
		var body struct {
			Error struct{ Code, Message string }
		}
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &body))
		assert.Equal(t, want.Code, body.Error.Code, "%v", err)
		assert.Equal(t, want.Message, body.Error.Message, "%v", err)
	}
	assert.Equal(t, apierr.Internal.Message, errInternal.message)
	assert.Equal(t, apierr.NotFound.Message, errNotFound.message)
}
