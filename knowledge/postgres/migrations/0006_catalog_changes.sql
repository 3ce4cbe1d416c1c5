-- The change log from which every process keeps its in-memory lexical index (see lexindex.go) in step with
-- the tables. Each Apply, under the corpus row lock, increments corpus.version by one, records the codes it
-- upserted or deleted under that version, and notifies the channel trolyao_catalog with
-- "<schema>:<version>" when it commits; a process that finds a version missing from the log (pruned) or a
-- reset reloads the whole index.
ALTER TABLE corpus ADD COLUMN version bigint NOT NULL DEFAULT 0;

CREATE TABLE catalog_changes (
    version bigint PRIMARY KEY,
    reset   boolean NOT NULL,
    codes   text[] COLLATE "C" NOT NULL
);
