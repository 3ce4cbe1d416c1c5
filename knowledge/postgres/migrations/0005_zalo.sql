-- The Zalo OA channel's durable state (package channels/zalo, PostgreSQL queue in channels/zalo/pgqueue):
-- the inbox of webhook events, the outbox of reply messages, each OA's token state and each user's last
-- inbound message. Times are timestamptz; ids are text (Zalo ids overflow bigint and float64).

-- zalo_users: one row per (OA, user). Enqueue upserts it first, which locks it, so the inbox ids of one user
-- are handed out in commit order; last_inbound is the time of the user's last message (the reply window).
CREATE TABLE zalo_users (
    oa           text COLLATE "C" NOT NULL,
    user_id      text COLLATE "C" NOT NULL,
    last_inbound timestamptz,
    PRIMARY KEY (oa, user_id)
);

-- zalo_inbox: webhook events to answer. (oa, key) de-duplicates re-deliveries (key = msg_id). A job is
-- available when done_at IS NULL and not_before <= now; taking it sets lease (a random token) and pushes
-- not_before to the end of the lease. Only the oldest unfinished job of a user can be taken. text is cleared
-- when the job is done; the row stays, for de-duplication, until purged.
CREATE TABLE zalo_inbox (
    id         bigserial PRIMARY KEY,
    oa         text COLLATE "C" NOT NULL,
    user_id    text COLLATE "C" NOT NULL,
    key        text COLLATE "C" NOT NULL,
    kind       text NOT NULL CHECK (kind IN ('text', 'unsupported', 'follow')),
    text       text NOT NULL DEFAULT '',
    at         timestamptz NOT NULL,
    received   timestamptz NOT NULL DEFAULT now(),
    attempts   integer NOT NULL DEFAULT 0,
    not_before timestamptz NOT NULL DEFAULT '-infinity',
    lease      text NOT NULL DEFAULT '',
    done_at    timestamptz,
    UNIQUE (oa, key)
);
CREATE INDEX zalo_inbox_pending_idx ON zalo_inbox (oa, user_id, id) WHERE done_at IS NULL;
CREATE INDEX zalo_inbox_order_idx ON zalo_inbox (id) WHERE done_at IS NULL;
CREATE INDEX zalo_inbox_done_idx ON zalo_inbox (done_at) WHERE done_at IS NOT NULL;

-- zalo_outbox: reply messages, written in the transaction that marks their job done. body is the exact JSON
-- of /v3.0/oa/message/cs. state: pending → sent (with the API's message id) or failed (final, with the code and
-- reason). Only the oldest pending message of a user can be taken.
CREATE TABLE zalo_outbox (
    id         bigserial PRIMARY KEY,
    oa         text COLLATE "C" NOT NULL,
    user_id    text COLLATE "C" NOT NULL,
    body       text NOT NULL,
    state      text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'failed')),
    attempts   integer NOT NULL DEFAULT 0,
    not_before timestamptz NOT NULL DEFAULT '-infinity',
    lease      text NOT NULL DEFAULT '',
    code       integer NOT NULL DEFAULT 0,
    reason     text NOT NULL DEFAULT '',
    message_id text NOT NULL DEFAULT '',
    created    timestamptz NOT NULL DEFAULT now(),
    finished   timestamptz
);
CREATE INDEX zalo_outbox_pending_idx ON zalo_outbox (oa, user_id, id) WHERE state = 'pending';
CREATE INDEX zalo_outbox_order_idx ON zalo_outbox (id) WHERE state = 'pending';
CREATE INDEX zalo_outbox_finished_idx ON zalo_outbox (finished) WHERE state <> 'pending';

-- zalo_tokens: each OA's token state (channels/zalo.Token as JSON; NULL until seeded). A refresh holds the
-- row's lock (SELECT … FOR UPDATE) across the OAuth call, so two processes never spend the same single-use
-- refresh token, and commits the new refresh token before the old one is forgotten.
CREATE TABLE zalo_tokens (
    oa    text COLLATE "C" PRIMARY KEY,
    state jsonb
);
