// Package pgtest gives tests a PostgreSQL schema of their own on the test server named by
// TROLYAO_TEST_DATABASE (scripts/test.sh always sets it, so in CI these tests never skip).
package pgtest

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// URL is the URL of the test server; the test is skipped when TROLYAO_TEST_DATABASE is not set.
func URL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("TROLYAO_TEST_DATABASE")
	if u == "" {
		t.Skip("TROLYAO_TEST_DATABASE is not set: set it to the URL of a PostgreSQL server with pgvector, " +
			"e.g. postgres://postgres@127.0.0.1:5432/trolyao_test?sslmode=disable, to run the PostgreSQL tests")
	}
	return u
}

var seq atomic.Int64

// Schema returns the name of a new, not yet created schema for one test; it is dropped when the test ends.
func Schema(t testing.TB) string {
	t.Helper()
	base := URL(t)
	schema := fmt.Sprintf("test_%d_%d_%d", os.Getpid(), time.Now().UnixNano()%1_000_000_000, seq.Add(1))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return schema
}

// SchemaURL creates a new schema (see Schema) and returns the test server's URL with search_path set to it,
// for code that takes only a URL (the trolyao command).
func SchemaURL(t testing.TB) string {
	t.Helper()
	schema := Schema(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, URL(t))
	if err != nil {
		t.Fatalf("create schema: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{schema}.Sanitize()); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	u, err := url.Parse(URL(t))
	if err != nil {
		t.Fatalf("TROLYAO_TEST_DATABASE: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema+",public")
	u.RawQuery = q.Encode()
	return u.String()
}
