-- Staff knowledge-base management (package staff, staff/postgres): accounts, API tokens, sessions, drafts,
-- published versions, import batches, the feedback queue's handled marks, runtime synonyms and the audit log.
-- Secrets are never stored: passwords as argon2id hashes, tokens and session ids as SHA-256.

CREATE TABLE staff_users (
    username   text COLLATE "C" PRIMARY KEY,
    role       text NOT NULL CHECK (role IN ('viewer', 'editor', 'publisher', 'admin')),
    password   text NOT NULL, -- argon2id, encoded with its parameters and salt
    disabled   boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL
);

CREATE TABLE staff_tokens (
    id         bigserial PRIMARY KEY,
    name       text NOT NULL,
    role       text NOT NULL CHECK (role IN ('viewer', 'editor', 'publisher', 'admin')),
    hash       bytea NOT NULL UNIQUE, -- SHA-256 of the secret
    created_by text NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz
);

-- staff_sessions: expires_at is the absolute end; last_seen drives the idle timeout.
CREATE TABLE staff_sessions (
    hash       bytea PRIMARY KEY, -- SHA-256 of the cookie's id
    username   text COLLATE "C" NOT NULL REFERENCES staff_users (username) ON DELETE CASCADE,
    csrf       text NOT NULL,
    created_at timestamptz NOT NULL,
    last_seen  timestamptz NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX staff_sessions_username_idx ON staff_sessions (username);

-- staff_drafts holds at most one draft per procedure code; version increases by one per save.
CREATE TABLE staff_drafts (
    code       text COLLATE "C" PRIMARY KEY,
    version    integer NOT NULL CHECK (version > 0),
    procedure  jsonb NOT NULL,
    updated_by text NOT NULL,
    updated_at timestamptz NOT NULL
);

-- staff_versions is the publishing history of each code: 1, 2, 3 … with the full record.
CREATE TABLE staff_versions (
    code      text COLLATE "C" NOT NULL,
    version   integer NOT NULL CHECK (version > 0),
    action    text NOT NULL,
    by_user   text NOT NULL,
    at        timestamptz NOT NULL,
    note      text NOT NULL DEFAULT '',
    hash      text NOT NULL DEFAULT '',
    procedure jsonb,
    PRIMARY KEY (code, version)
);

CREATE TABLE staff_imports (
    id           bigserial PRIMARY KEY,
    name         text NOT NULL,
    format       text NOT NULL,
    by_user      text NOT NULL,
    at           timestamptz NOT NULL,
    counts       jsonb NOT NULL,
    published    integer,
    published_by text,
    published_at timestamptz
);

CREATE TABLE staff_import_records (
    import_id bigint NOT NULL REFERENCES staff_imports (id) ON DELETE CASCADE,
    seq       integer NOT NULL,
    code      text NOT NULL,
    name      text NOT NULL,
    file      text NOT NULL,
    status    text NOT NULL CHECK (status IN ('new', 'changed', 'unchanged', 'invalid')),
    reason    text NOT NULL,
    procedure jsonb, -- new and changed records only
    PRIMARY KEY (import_id, seq)
);

-- staff_handled: the last time a queue group (kind 'question' or 'procedure', key) was marked handled.
CREATE TABLE staff_handled (
    kind    text NOT NULL,
    key     text NOT NULL,
    by_user text NOT NULL,
    at      timestamptz NOT NULL,
    PRIMARY KEY (kind, key)
);

CREATE TABLE staff_synonyms (
    id      bigserial PRIMARY KEY,
    phrase  text NOT NULL UNIQUE,
    target  text NOT NULL,
    by_user text NOT NULL,
    at      timestamptz NOT NULL
);

-- staff_audit is append-only: a trigger rejects every UPDATE and DELETE, and TRUNCATE.
CREATE TABLE staff_audit (
    id      bigserial PRIMARY KEY,
    at      timestamptz NOT NULL,
    actor   text NOT NULL,
    action  text NOT NULL,
    target  text NOT NULL DEFAULT '',
    details jsonb
);

CREATE FUNCTION staff_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'staff_audit is append-only' USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER staff_audit_no_update BEFORE UPDATE OR DELETE ON staff_audit
    FOR EACH ROW EXECUTE FUNCTION staff_audit_append_only();
CREATE TRIGGER staff_audit_no_truncate BEFORE TRUNCATE ON staff_audit
    FOR EACH STATEMENT EXECUTE FUNCTION staff_audit_append_only();
