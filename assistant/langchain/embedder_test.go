package langchain

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeEmbeddings speaks the OpenAI /v1/embeddings wire format: for each input it returns a vector whose first
// component is the input's length in runes and whose second is 1 when the input has a newline; it counts requests.
func fakeEmbeddings(t *testing.T, dim int, calls *atomic.Int32) *httptest.Server {
	t.Helper()
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/embeddings" || r.Method != http.MethodPost {
			http.Error(w, `{"error":{"message":"not found"}}`, http.StatusNotFound)
			return
		}
		assert.Equal(t, "Bearer secret", r.Header.Get("Authorization"))
		var req struct {
			Model string   `json:"model"`
			Input []string `json:"input"`
		}
		if !assert.NoError(t, json.NewDecoder(r.Body).Decode(&req)) {
			return
		}
		assert.Equal(t, "bge-m3", req.Model)
		calls.Add(1)
		type item struct {
			Object    string    `json:"object"`
			Embedding []float32 `json:"embedding"`
			Index     int       `json:"index"`
		}
		resp := struct {
			Object string `json:"object"`
			Data   []item `json:"data"`
			Model  string `json:"model"`
		}{Object: "list", Model: req.Model}
		for i, in := range req.Input {
			v := make([]float32, dim)
			v[0] = float32(len([]rune(in)))
			if strings.Contains(in, "\n") {
				v[1] = 1
			}
			resp.Data = append(resp.Data, item{Object: "embedding", Embedding: v, Index: i})
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(resp)
	}))
}

func TestEmbedderOpenAICompatible(t *testing.T) {
	var calls atomic.Int32
	srv := fakeEmbeddings(t, 4, &calls)
	defer srv.Close()
	e, err := NewEmbedder(EmbedderConfig{BaseURL: srv.URL + "/v1", Model: "bge-m3", Token: "secret", Dim: 4, BatchSize: 2})
	require.NoError(t, err)
	assert.Equal(t, "openai:bge-m3", e.Meta().Embedder)

	texts := []string{"căn cước", "khai sinh\nbản sao", "hộ chiếu"}
	vs, err := e.EmbedDocuments(context.Background(), texts)
	require.NoError(t, err)
	require.Len(t, vs, 3)
	assert.Equal(t, float32(8), vs[0][0])
	assert.Equal(t, float32(1), vs[1][1], "newlines reach the server")
	assert.Equal(t, float32(0), vs[0][1])
	assert.Equal(t, "khai sinh\nbản sao", texts[1], "the caller's slice is not modified")
	assert.Equal(t, int32(2), calls.Load(), "batches of two")

	q, err := e.EmbedQuery(context.Background(), "cccd")
	require.NoError(t, err)
	assert.Equal(t, float32(4), q[0])
}

func TestEmbedderWrongDimension(t *testing.T) {
	var calls atomic.Int32
	srv := fakeEmbeddings(t, 3, &calls)
	defer srv.Close()
	e, err := NewEmbedder(EmbedderConfig{BaseURL: srv.URL + "/v1", Model: "bge-m3", Token: "secret", Dim: 4})
	require.NoError(t, err)
	_, err = e.EmbedQuery(context.Background(), "x")
	assert.ErrorContains(t, err, "3 dimensions, configured 4")
}

func TestEmbedderServerError(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"error":{"message":"overloaded"}}`, http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	e, err := NewEmbedder(EmbedderConfig{BaseURL: srv.URL + "/v1", Model: "bge-m3", Token: "secret", Dim: 4})
	require.NoError(t, err)
	_, err = e.EmbedDocuments(context.Background(), []string{"x"})
	assert.Error(t, err)
}

func TestEmbedderConfigRequired(t *testing.T) {
	_, err := NewEmbedder(EmbedderConfig{Model: "m", Dim: 4})
	assert.Error(t, err)
}
