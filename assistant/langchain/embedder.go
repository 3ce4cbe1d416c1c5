// Package langchain adapts langchaingo to the assistant: embedders and streaming chat models for
// OpenAI-compatible servers such as vLLM, Text Embeddings Inference, Ollama's /v1, llama.cpp and OpenAI itself.
// It is the only package that imports langchaingo. Every setting is passed explicitly; langchaingo's own
// environment defaults are overridden so that nothing is read from the environment behind the caller's back.
package langchain

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/tmc/langchaingo/embeddings"
	"github.com/tmc/langchaingo/llms/openai"

	"github.com/trolyao/trolyao/knowledge"
)

// EmbedderConfig configures an OpenAI-compatible embeddings endpoint.
type EmbedderConfig struct {
	BaseURL   string // e.g. http://127.0.0.1:11434/v1 (required)
	Model     string // e.g. bge-m3, text-embedding-3-small (required)
	Token     string // API key; a placeholder is sent when empty (local servers ignore it)
	Dim       int    // expected dimension (required: it is stored with the index)
	BatchSize int    // texts per request; default 64
	Timeout   time.Duration
}

// Embedder is a knowledge.Embedder backed by langchaingo's OpenAI client. It checks every vector's dimension.
type Embedder struct {
	inner *embeddings.EmbedderImpl
	meta  knowledge.Meta
}

var _ knowledge.Embedder = (*Embedder)(nil)

// NewEmbedder builds an embedder for cfg.
func NewEmbedder(cfg EmbedderConfig) (*Embedder, error) {
	if cfg.BaseURL == "" || cfg.Model == "" || cfg.Dim <= 0 {
		return nil, errors.New("langchain: embedder needs a base URL, a model and a dimension (TROLYAO_EMBEDDER_URL, TROLYAO_EMBEDDER_MODEL, TROLYAO_EMBEDDER_DIM)")
	}
	if cfg.Token == "" {
		cfg.Token = "unused"
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 64
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 60 * time.Second
	}
	llm, err := openai.New(
		openai.WithBaseURL(cfg.BaseURL),
		openai.WithToken(cfg.Token),
		openai.WithOrganization(""),
		openai.WithModel(cfg.Model),
		openai.WithEmbeddingModel(cfg.Model),
		openai.WithHTTPClient(&http.Client{Timeout: cfg.Timeout}),
	)
	if err != nil {
		return nil, fmt.Errorf("langchain: embedder: %w", err)
	}
	// StripNewLines(false): the default rewrites the caller's slice in place.
	inner, err := embeddings.NewEmbedder(llm, embeddings.WithStripNewLines(false), embeddings.WithBatchSize(cfg.BatchSize))
	if err != nil {
		return nil, fmt.Errorf("langchain: embedder: %w", err)
	}
	return &Embedder{inner: inner, meta: knowledge.Meta{Embedder: "openai:" + cfg.Model, Dim: cfg.Dim}}, nil
}

// Meta identifies the embedder for the index.
func (e *Embedder) Meta() knowledge.Meta { return e.meta }

// EmbedDocuments embeds texts in batches.
func (e *Embedder) EmbedDocuments(ctx context.Context, texts []string) ([][]float32, error) {
	vs, err := e.inner.EmbedDocuments(ctx, texts)
	if err != nil {
		return nil, fmt.Errorf("langchain: embed documents: %w", err)
	}
	if len(vs) != len(texts) {
		return nil, fmt.Errorf("langchain: embed documents: %d vectors for %d texts", len(vs), len(texts))
	}
	for i, v := range vs {
		if len(v) != e.meta.Dim {
			return nil, fmt.Errorf("langchain: embed documents: vector %d has %d dimensions, configured %d", i, len(v), e.meta.Dim)
		}
	}
	return vs, nil
}

// EmbedQuery embeds one query.
func (e *Embedder) EmbedQuery(ctx context.Context, text string) ([]float32, error) {
	v, err := e.inner.EmbedQuery(ctx, text)
	if err != nil {
		return nil, fmt.Errorf("langchain: embed query: %w", err)
	}
	if len(v) != e.meta.Dim {
		return nil, fmt.Errorf("langchain: embed query: %d dimensions, configured %d", len(v), e.meta.Dim)
	}
	return v, nil
}
