-- The procedure catalog and its retrieval index. Every table lives in the store's schema (search_path);
-- the vector type comes from the pgvector extension, created before the migrations run.

-- meta holds the embedder identity under the key 'index', as JSON (knowledge.Meta).
CREATE TABLE meta (
    key   text PRIMARY KEY,
    value jsonb NOT NULL
);

-- corpus is one row: the BM25 collection statistics. Apply locks it (FOR UPDATE) to serialise writers
-- and recomputes it in the same transaction.
CREATE TABLE corpus (
    id        boolean PRIMARY KEY DEFAULT true CHECK (id),
    n         bigint NOT NULL DEFAULT 0,           -- number of procedures
    total_len double precision NOT NULL DEFAULT 0  -- sum of procedures.len
);
INSERT INTO corpus DEFAULT VALUES;

-- procedures holds each record (data, the full knowledge.Procedure as JSON) with what search returns and
-- ranks on. Codes compare bytewise (COLLATE "C"), as Go sorts them. The embedding column has no fixed
-- dimension: the HNSW index is an expression index on embedding::vector(dim) (halfvec above 2,000
-- dimensions), created and dropped by Apply when the embedder's dimension changes, so a new embedder never
-- rewrites the table.
CREATE TABLE procedures (
    code       text COLLATE "C" PRIMARY KEY,
    name       text NOT NULL,
    levels     text[] NOT NULL DEFAULT '{}',
    data       jsonb NOT NULL,
    hash       text NOT NULL,
    len        double precision NOT NULL,                  -- BM25 document length (knowledge.Doc.Len)
    terms      text[] COLLATE "C" NOT NULL DEFAULT '{}',   -- its lexical terms, as in postings
    folded     text NOT NULL,                              -- knowledge.Fold(name, aliases, field)
    tsv        tsvector GENERATED ALWAYS AS (to_tsvector('simple', folded)) STORED,
    embedding  vector,
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX procedures_tsv_idx ON procedures USING gin (tsv);

-- postings is the lexical index: one row per (term, procedure) with the weighted term frequency and, copied
-- from procedures.len, the document length, so that scoring a term reads this table's index only.
-- Apply keeps it in step with procedures in the same transaction (no foreign key: its per-row check would
-- dominate bulk loads).
CREATE TABLE postings (
    term text COLLATE "C" NOT NULL,
    code text COLLATE "C" NOT NULL,
    tf   double precision NOT NULL,
    dl   double precision NOT NULL,
    PRIMARY KEY (term, code) INCLUDE (tf, dl)
);
-- No index on code alone: Apply finds a procedure's postings from procedures.terms, and search looks up
-- (term, code) pairs, both through the primary key.

-- term_stats is, for each term, its document frequency and bounds of its postings that bound what a
-- document can score from it (see lexicalSQL in search.go): the largest tf and the smallest document length.
-- Apply keeps df exact; the bounds only widen until a Reset recomputes them, which keeps them valid.
CREATE TABLE term_stats (
    term   text COLLATE "C" PRIMARY KEY,
    df     bigint NOT NULL,
    max_tf double precision NOT NULL,
    min_dl double precision NOT NULL
);
